"""Backups that restore: taking a consistent snapshot with its manifest, restoring a checked one,
and the scratch database a backup is proved in.

SQLite is copied with its online backup API (one read transaction, so the copy is consistent
while the server writes); PostgreSQL with `pg_dump` in its custom format, restored by
`pg_restore`. Beside every backup file lies its manifest, `FILE.manifest.json`: when it was
taken, the schema revision, how many cases and events it holds, the newest signed checkpoint of
the whole-database log if there is one, and the SHA-256 of the backup file, which is checked
before anything is restored from it.

The manifest and the list of backups, what a database holds, and each kind of database's own
tools are in the modules beside this one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from casework.models import utcnow
from casework.services.backup.contents import contents
from casework.services.backup.manifest import (
    BackupError,
    Manifest,
    file_sha256,
    manifest_path,
)
from casework.services.backup.postgresql import pg_dump, restore_postgresql
from casework.services.backup.sqlite import restore_sqlite, sqlite_backup, sqlite_path


def take_backup(engine: sa.Engine, output: Path) -> Manifest:
    """Write a consistent copy of the database to `output` and its manifest beside it.

    The counts in the manifest are read in the same snapshot the copy is made from (SQLite: the
    copy itself; PostgreSQL: the snapshot pg_dump is given). A partly written file
    never takes the name `output`: the copy is made under a temporary name and renamed.
    """
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        if engine.dialect.name == "sqlite":
            sqlite_backup(engine, partial)
            copy = sa.create_engine(f"sqlite:///{partial}")
            try:
                with copy.connect() as connection:
                    info = contents(connection)
            finally:
                copy.dispose()
        else:
            info = pg_dump(engine, partial)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    manifest = Manifest(
        taken_at=utcnow().isoformat(timespec="seconds"),
        dialect=engine.dialect.name,
        schema_revision=info["schema_revision"],
        cases=info["cases"],
        events=info["events"],
        checkpoint=info["checkpoint"],
        sha256=file_sha256(output),
        size=output.stat().st_size,
        file=output.name,
    )
    manifest_path(output).write_text(json.dumps(manifest.as_dict(), indent=2) + "\n")
    return manifest


def restore_into(url: str, backup: Path, manifest: Manifest) -> None:
    """Replace the contents of the database at `url` with the backup's (the caller checked that
    it may)."""
    engine = sa.create_engine(url)
    try:
        if manifest.dialect != engine.dialect.name:
            raise BackupError(
                f"This is a {manifest.dialect} backup; it cannot be restored into "
                f"{engine.dialect.name}."
            )
        if engine.dialect.name == "sqlite":
            restore_sqlite(sqlite_path(engine), backup)
        else:
            restore_postgresql(engine, backup)
    finally:
        engine.dispose()


@contextmanager
def scratch_database(engine: sa.Engine) -> Iterator[str]:
    """The URL of a new, empty database of the same kind, removed afterwards (`backup --verify`).

    On PostgreSQL it is a database of its own on the same server, so that the restored schema
    cannot meet the live one; the user needs the right to create databases.
    """
    if engine.dialect.name == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="casework-verify-"))
        try:
            yield f"sqlite:///{folder / 'restored.sqlite'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"casework_verify_{uuid.uuid4().hex[:12]}"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.DBAPIError as exc:
        raise BackupError(
            f"Could not create a scratch database to check the backup in: {exc.orig}"
        ) from None
    url = engine.url.set(database=name).difference_update_query(["options"])
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
