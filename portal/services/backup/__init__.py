"""Backups: one archive holds a consistent snapshot of the database and every stored file.

``flask backup create --out FILE.tar.gz`` writes a gzip'd tar:

    manifest.json                 always the first member (format, version, created at,
                                  database kind, alembic revision, rows per table, and every
                                  file with its size and sha256)
    database/portal.sqlite3       SQLite: a copy made with the online backup API
    database/portal.pgdump        PostgreSQL: ``pg_dump --format=custom``
    files/<path>                  the stored files (papers/, converted/, booklets/)

Consistency: the database is snapshotted first, and the files taken are exactly those its
rows reference (revisions, their converted PDFs, booklets). Files never change once placed,
so every referenced file is the one the snapshot knows. A file no row of the snapshot
references (an upload that arrived after the snapshot, or a stray that ``flask storage check``
reports) is not taken: restored, it would be a file without a row. It is listed under
"skipped" in the manifest. Temporary files (``.tmp/``) and derived files (``cache/``) are never
taken. On PostgreSQL the file list is read in the same exported snapshot that ``pg_dump`` uses
(``--snapshot``), so the two agree exactly.

The archive is written under a temporary name beside FILE and renamed into place when
complete: there is never a partial archive at FILE.

``flask backup restore FILE`` refuses an installation in use (a seminar or accounts in the
database, or files in the upload folder) unless ``--force``; reads the whole archive into a
staging folder and checks every sha256 against the manifest before it changes anything;
then restores the database (SQLite: the backup API into the configured file; PostgreSQL:
``pg_restore --clean --if-exists``), moves the files into place, and checks again.
"""

from __future__ import annotations

from .archive import FORMAT, BackupError, read_archive, summarise
from .database import migration_heads
from .restorer import RestoreResult, installation_in_use, restore
from .writer import CreateResult, create

__all__ = ["FORMAT", "BackupError", "CreateResult", "RestoreResult", "create",
           "installation_in_use", "migration_heads", "read_archive", "restore", "summarise"]
