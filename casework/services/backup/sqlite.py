"""SQLite's backups: the online backup API's consistent copy, and the copy put in the database's
place in one rename."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import sqlalchemy as sa

from casework.services.backup.manifest import BackupError


def sqlite_path(engine: sa.Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("This SQLite database lives in memory; there is no file to back up.")
    return Path(database)


def sqlite_backup(engine: sa.Engine, destination: Path) -> None:
    """SQLite's online backup, in one step: a consistent copy while others read and write."""
    source = sqlite3.connect(sqlite_path(engine), timeout=30)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
        source.close()


def restore_sqlite(path: Path, backup: Path) -> None:
    """Put the backup's file in the database's place, in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.restoring")
    shutil.copyfile(backup, staged)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(staged, path)
