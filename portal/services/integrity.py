"""``flask storage check``: every stored file has its row and its sha256; no file lacks a row.

Temporary files (``.tmp/<pid>/``) are judged by their process: while it runs they belong to an
upload or a build in progress and are not a problem; once it has gone (a worker killed in the
middle of an upload) they are leftovers, reported, and removed by ``--fix`` — the portal also
removes them itself when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import null, select

from ..extensions import db
from ..models import Booklet, Submission
from ..storage import CACHE_DIR, TMP_DIR, Storage, TempEntry


@dataclass
class CheckReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)       # a row whose file is gone
    corrupt: list[str] = field(default_factory=list)       # a file whose sha256 differs
    stray: list[str] = field(default_factory=list)         # a file no row points at
    leftover: list[TempEntry] = field(default_factory=list)  # left by a process that has gone
    in_progress: list[str] = field(default_factory=list)   # temporary files of a live process

    @property
    def leftover_files(self) -> list[str]:
        return [name for entry in self.leftover for name in entry.files]

    @property
    def clean(self) -> bool:
        return not (self.missing or self.corrupt or self.stray or self.leftover_files)


_REFERENCES = (
    select(Submission.stored_path, Submission.sha256),
    select(Submission.normalised_path, null()).where(Submission.normalised_path.is_not(None)),
    select(Booklet.stored_path, Booklet.sha256),
)


def referenced_files(connection: Any) -> dict[str, str | None]:
    """Every file a row references (revisions, their converted PDFs, booklets): stored path ->
    the sha256 its row records (None for a converted PDF). ``connection`` is the session, or a
    connection to another database of the same schema (the backup's snapshot)."""
    files: dict[str, str | None] = {}
    for query in _REFERENCES:
        for path, sha256 in connection.execute(query):
            if path:
                files[path] = sha256 or files.get(path)
    return files


def check(storage: Storage, verify_hashes: bool = True) -> CheckReport:
    report = CheckReport()
    expected = referenced_files(db.session)

    for relative, sha256 in sorted(expected.items()):
        report.checked += 1
        if not storage.exists(relative):
            report.missing.append(relative)
        elif verify_hashes and sha256 and storage.sha256(relative) != sha256:
            report.corrupt.append(relative)

    for relative in storage.iter_files():
        if relative in expected or relative.startswith(f"{TMP_DIR}/"):
            continue
        if relative.startswith(f"{CACHE_DIR}/"):
            continue  # derived files (thumbnails, rendered front matter): safe to rebuild
        report.stray.append(relative)
    report.stray.sort()
    for entry in storage.temp_entries():
        if entry.leftover:
            report.leftover.append(entry)
        else:
            report.in_progress.extend(entry.files)
    return report


def referenced(paths: set[str]) -> set[str]:
    """Which of ``paths`` a revision or booklet row uses."""
    if not paths:
        return set()
    return paths & referenced_files(db.session).keys()


def sweep_at_start(app, storage: Storage) -> int:
    """What killed processes left (their temporary files, and files they placed without
    committing a row), removed as the portal starts; never fails."""

    def used(paths: set[str]) -> set[str]:
        with app.app_context():
            try:
                return referenced(paths)
            finally:
                db.session.remove()

    return storage.sweep_leftovers(referenced=used)


def remove_stray(storage: Storage, report: CheckReport) -> int:
    """Remove the files no row points at and the leftovers of gone processes."""
    for relative in report.stray:
        storage.delete(relative)
    removed = len(report.stray) + len(report.leftover_files)
    for entry in report.leftover:
        storage.remove_temp(entry)
    return removed


__all__ = ["CheckReport", "check", "referenced", "referenced_files", "remove_stray",
           "sweep_at_start", "TMP_DIR"]
