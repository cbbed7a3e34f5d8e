"""``flask storage check``: every stored file has its row and its sha256; no file lacks a row."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import db
from ..models import Booklet, Submission
from ..storage import TMP_DIR, Storage


@dataclass
class CheckReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)       # a row whose file is gone
    corrupt: list[str] = field(default_factory=list)       # a file whose sha256 differs
    stray: list[str] = field(default_factory=list)         # a file no row points at

    @property
    def clean(self) -> bool:
        return not (self.missing or self.corrupt or self.stray)


def check(storage: Storage, verify_hashes: bool = True) -> CheckReport:
    report = CheckReport()
    expected: dict[str, str | None] = {}
    for submission in db.session.scalars(select(Submission)):
        expected[submission.stored_path] = submission.sha256
        if submission.normalised_path:
            expected.setdefault(submission.normalised_path, None)
    for booklet in db.session.scalars(select(Booklet)):
        expected[booklet.stored_path] = booklet.sha256

    for relative, sha256 in sorted(expected.items()):
        report.checked += 1
        if not storage.exists(relative):
            report.missing.append(relative)
        elif verify_hashes and sha256 and storage.sha256(relative) != sha256:
            report.corrupt.append(relative)

    for relative in storage.iter_files():
        if relative in expected:
            continue
        if relative.startswith("cache/"):
            continue  # derived files (thumbnails, rendered front matter): safe to rebuild
        report.stray.append(relative)
    report.stray.sort()
    return report


def remove_stray(storage: Storage, report: CheckReport) -> int:
    for relative in report.stray:
        storage.delete(relative)
    return len(report.stray)


__all__ = ["CheckReport", "check", "remove_stray", "TMP_DIR"]
