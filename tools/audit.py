#!/usr/bin/env python3
"""Audit the pinned dependencies with pip-audit, and never call an audit that did not happen
a clean one.

    tools/audit.py [-r requirements.txt]

Exit status:
  0  every package was audited and none has a known vulnerability
  1  a known vulnerability was found (listed)
  2  the audit could not be done, wholly or partly: "could not audit N packages" (the advisory
     service could not be reached, a package was not found there, or pip-audit failed)

CI passes ``--unaudited-ok`` so that status 2 prints a notice and exits 0 (CI machines cannot
reach the advisory service); a vulnerability found still fails.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VULNERABLE, UNAUDITED = 1, 2


def requirement_names(path: Path) -> list[str]:
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
            if match:
                names.append(match.group(0).lower())
    return names


def run_pip_audit(requirements: Path, timeout: float) -> tuple[dict | None, str]:
    pip_audit = Path(sys.executable).parent / "pip-audit"
    command = [str(pip_audit) if pip_audit.exists() else "pip-audit", "-f", "json",
               "--progress-spinner", "off", "-r", str(requirements)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, str(error)
    try:
        return json.loads(result.stdout), result.stderr
    except json.JSONDecodeError:
        return None, (result.stderr or result.stdout).strip()[-2000:]


def judge(report: dict | None, expected: list[str], detail: str = "") -> tuple[int, list[str]]:
    """The exit status and the lines to print, from pip-audit's JSON report."""
    if report is None:
        lines = [f"could not audit {len(expected)} packages: pip-audit gave no report"]
        if detail:
            lines.append(f"  ({detail.splitlines()[-1] if detail.splitlines() else detail})")
        return UNAUDITED, lines
    dependencies = report.get("dependencies") or []
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if dep.get("skip_reason")]
    audited = [dep for dep in dependencies if "skip_reason" not in dep]
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            lines.append(f"VULNERABLE {dep['name']} {dep.get('version', '')}: {vuln.get('id')} "
                         f"(fixed in {fixed})")
    unaudited = len(skipped)
    if not dependencies:  # an empty report audited nothing
        unaudited = max(len(expected), 1)
    if unaudited:
        lines.append(f"could not audit {unaudited} packages")
        lines += [f"  {dep['name']}: {dep['skip_reason']}" for dep in skipped[:50]]
    if vulnerable:
        return VULNERABLE, lines
    if unaudited:
        return UNAUDITED, lines
    lines.append(f"audited {len(audited)} packages: no known vulnerabilities")
    return 0, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-r", "--requirement", type=Path, default=ROOT / "requirements.txt")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--unaudited-ok", action="store_true",
                        help="an audit that could not be done is a notice, not a failure")
    parser.add_argument("--from-json", type=Path, help=argparse.SUPPRESS)  # tests
    args = parser.parse_args(argv)
    expected = requirement_names(args.requirement)
    if args.from_json:
        report, detail = json.loads(args.from_json.read_text(encoding="utf-8")), ""
    else:
        report, detail = run_pip_audit(args.requirement, args.timeout)
    status, lines = judge(report, expected, detail)
    for line in lines:
        print(line)
    if status == UNAUDITED and args.unaudited_ok:
        print("notice: the audit could not be done here; not a failure on CI")
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
