"""Backups that restore: consistent snapshots with a manifest, checked restores, and their list.

SQLite is copied with its online backup API (one read transaction, so the copy is consistent
while the server writes); PostgreSQL with `pg_dump` in its custom format, restored by
`pg_restore`. Beside every backup file lies its manifest, `FILE.manifest.json`: when it was
taken, the schema revision, how many cases and events it holds, the newest signed checkpoint of
the whole-database log if there is one, and the SHA-256 of the backup file, which is checked
before anything is restored from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404  # pg_dump and pg_restore, with argument lists, never a shell
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from casework.errors import CaseworkError
from casework.models import utcnow

MANIFEST_SUFFIX = ".manifest.json"
FORMAT = "casework-backup/1"


class BackupError(CaseworkError):
    """A backup or restore that cannot be done; the message says why and what to do."""

    status = 400
    code = "backup_failed"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, written beside it."""

    taken_at: str
    dialect: str
    schema_revision: str | None
    cases: int
    events: int
    checkpoint: str | None
    sha256: str
    size: int
    file: str
    format: str = FORMAT

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "file": self.file,
            "taken_at": self.taken_at,
            "dialect": self.dialect,
            "schema_revision": self.schema_revision,
            "cases": self.cases,
            "events": self.events,
            "checkpoint": self.checkpoint,
            "sha256": self.sha256,
            "size": self.size,
        }


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- what a database holds ----------------------------------------------------------------------


def _scalar(connection: sa.Connection, sql: str) -> Any:
    return connection.execute(sa.text(sql)).scalar()


def has_table(connection: sa.Connection, name: str) -> bool:
    return sa.inspect(connection).has_table(name)


def contents(connection: sa.Connection) -> dict[str, Any]:
    """Schema revision, numbers of cases, events and users, and the newest checkpoint's text."""
    found: dict[str, Any] = {"schema_revision": None, "cases": 0, "events": 0, "users": 0}
    if has_table(connection, "alembic_version"):
        found["schema_revision"] = _scalar(connection, "SELECT version_num FROM alembic_version")
    for table in ("cases", "events", "users"):
        if has_table(connection, table):
            found[table] = int(_scalar(connection, f"SELECT count(*) FROM {table}"))  # nosec B608  # fixed table names
    found["checkpoint"] = latest_checkpoint(connection)
    return found


def latest_checkpoint(connection: sa.Connection) -> str | None:
    """The newest signed checkpoint of the whole-database log, if this database keeps one."""
    if not has_table(connection, "log_checkpoints"):
        return None
    columns = {c["name"] for c in sa.inspect(connection).get_columns("log_checkpoints")}
    text_column = next((c for c in ("note", "text", "signed_note") if c in columns), None)
    if text_column is None:
        return None
    order = "tree_size" if "tree_size" in columns else "id"
    value = _scalar(
        connection,
        f"SELECT {text_column} FROM log_checkpoints ORDER BY {order} DESC LIMIT 1",  # nosec B608  # names read from the schema
    )
    return str(value) if value is not None else None


def is_empty(info: dict[str, Any]) -> bool:
    """No case, no event and no user but the system's own: nothing a restore would destroy."""
    return info["cases"] == 0 and info["events"] == 0 and info["users"] <= 1


# --- PostgreSQL connection details for pg_dump and pg_restore -----------------------------------


@dataclass(frozen=True)
class PgTarget:
    """How the command-line tools reach the database: a libpq URI and the schema in use."""

    uri: str
    schema: str
    options: str | None


def pg_target(url: str | URL) -> PgTarget:
    """libpq's view of a SQLAlchemy PostgreSQL URL; the schema comes from `-csearch_path=`."""
    parsed = make_url(url) if isinstance(url, str) else url
    options = parsed.query.get("options")
    options_text = options if isinstance(options, str) else None
    schema = "public"
    if options_text:
        for part in options_text.split():
            if part.startswith("-csearch_path="):
                schema = part.split("=", 1)[1].split(",")[0].strip('"') or "public"
    plain = parsed.set(drivername="postgresql").difference_update_query(["options"])
    return PgTarget(plain.render_as_string(hide_password=False), schema, options_text)


def _pg_env(target: PgTarget) -> dict[str, str]:
    env = dict(os.environ)
    if target.options:
        env["PGOPTIONS"] = target.options
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    tool = args[0]
    if shutil.which(tool) is None:
        raise BackupError(
            f"{tool} is not installed on this host; install the PostgreSQL client tools "
            "(on Debian: apt-get install postgresql-client) of the server's version or newer."
        )
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # nosec B603
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()[:2000]}")


# --- taking a backup ------------------------------------------------------------------------------


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
            _sqlite_backup(engine, partial)
            copy = sa.create_engine(f"sqlite:///{partial}")
            try:
                with copy.connect() as connection:
                    info = contents(connection)
            finally:
                copy.dispose()
        else:
            info = _pg_dump(engine, partial)
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


def _pg_dump(engine: sa.Engine, destination: Path) -> dict[str, Any]:
    """pg_dump of the schema in use, in the very snapshot the counts are read from."""
    target = pg_target(engine.url)
    with engine.connect() as connection:
        connection.exec_driver_sql(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY, DEFERRABLE"
        )
        snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
        info = contents(connection)
        # The snapshot lives while this transaction does: pg_dump runs inside it.
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--schema={target.schema}",
                f"--file={destination}",
                f"--dbname={target.uri}",
            ],
            _pg_env(target),
        )
        connection.rollback()
    return info


def sqlite_path(engine: sa.Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("This SQLite database lives in memory; there is no file to back up.")
    return Path(database)


def _sqlite_backup(engine: sa.Engine, destination: Path) -> None:
    """SQLite's online backup, in one step: a consistent copy while others read and write."""
    source = sqlite3.connect(sqlite_path(engine), timeout=30)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
        source.close()


# --- reading a backup back ------------------------------------------------------------------------


def read_manifest(backup: Path) -> Manifest:
    """The manifest of a backup after checking the file against it; `BackupError` if damaged."""
    if not backup.is_file():
        raise BackupError(f"There is no backup file {backup}.")
    path = manifest_path(backup)
    if not path.is_file():
        raise BackupError(
            f"{backup} has no manifest beside it ({path.name}); it was not made by "
            "`casework backup`, or the manifest was lost. Nothing was restored."
        )
    try:
        data = json.loads(path.read_text())
        manifest = Manifest(**{k: data[k] for k in Manifest.__dataclass_fields__})
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"The manifest {path.name} is damaged; nothing was restored.") from None
    if manifest.format != FORMAT:
        raise BackupError(f"{path.name} is of an unknown format {manifest.format!r}.")
    actual = file_sha256(backup)
    if actual != manifest.sha256:
        raise BackupError(
            f"{backup.name} is damaged: its SHA-256 is {actual}, the manifest says "
            f"{manifest.sha256}. Nothing was restored; use another backup."
        )
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
            _restore_sqlite(sqlite_path(engine), backup)
        else:
            _restore_postgresql(engine, backup)
    finally:
        engine.dispose()


def _restore_sqlite(path: Path, backup: Path) -> None:
    """Put the backup's file in the database's place, in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.restoring")
    shutil.copyfile(backup, staged)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(staged, path)


def _restore_postgresql(engine: sa.Engine, backup: Path) -> None:
    """pg_restore a dump into the schema the URL's search_path names.

    pg_restore recreates the schema the dump was taken from under that name, so a dump of one
    schema restored into another is restored under its own name and then renamed.
    """
    target = pg_target(engine.url)
    original, creates_schema = _dump_schema(backup)
    with engine.begin() as connection:
        if original != target.schema:
            taken = connection.execute(
                sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": original}
            ).first()
            if taken:
                raise BackupError(
                    f"The backup's schema {original} is in use in this database; restore it "
                    "into a database of its own. Nothing was changed."
                )
        connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{target.schema}" CASCADE')
        if not creates_schema:
            connection.exec_driver_sql(f'CREATE SCHEMA "{original}"')
    engine.dispose()
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={target.uri}",
            str(backup),
        ],
        _pg_env(PgTarget(target.uri, original, None)),
    )
    if original != target.schema:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'ALTER SCHEMA "{original}" RENAME TO "{target.schema}"')
    engine.dispose()


def _dump_schema(backup: Path) -> tuple[str, bool]:
    """The schema a custom-format dump holds, and whether the dump creates it."""
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore is not installed on this host.")
    listing = subprocess.run(  # nosec B603 B607  # fixed program, argument list
        ["pg_restore", "--list", str(backup)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read {backup.name}: {listing.stderr.strip()[:500]}")
    schema, creates = None, False
    for line in listing.stdout.splitlines():
        parts = line.split()
        if line.startswith(";") or len(parts) < 6:
            continue
        if parts[3] == "SCHEMA":
            schema, creates = parts[5], True
        elif parts[3] == "TABLE" and parts[4] != "-" and schema is None:
            schema = parts[4]
    return schema or "public", creates


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


# --- the list of backups --------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedBackup:
    path: Path
    manifest: Manifest | None
    problem: str | None
    #: Disposed cases whose content this backup still holds (numbers).
    holds_disposed: tuple[str, ...] = ()

    def taken(self) -> datetime | None:
        if self.manifest is None:
            return None
        return datetime.fromisoformat(self.manifest.taken_at)


def list_backups(folder: Path, disposed: dict[str, datetime] | None = None) -> list[ListedBackup]:
    """Every backup in `folder` (by its manifest), newest first, each checked against its hash.

    `disposed` maps the numbers of disposed cases to when they were disposed: a backup taken
    before that moment still holds the case's content.
    """
    found: list[ListedBackup] = []
    for path in sorted(folder.glob(f"*{MANIFEST_SUFFIX}")):
        backup = path.with_name(path.name[: -len(MANIFEST_SUFFIX)])
        try:
            manifest = read_manifest(backup)
        except BackupError as exc:
            found.append(ListedBackup(backup, None, exc.message))
            continue
        held: tuple[str, ...] = ()
        if disposed:
            taken = datetime.fromisoformat(manifest.taken_at)
            held = tuple(sorted(n for n, at in disposed.items() if _naive(at) > _naive(taken)))
        found.append(ListedBackup(backup, manifest, None, held))
    found.sort(
        key=lambda b: (b.manifest.taken_at if b.manifest else "", b.path.stat().st_mtime_ns),
        reverse=True,
    )
    return found


def _naive(at: datetime) -> datetime:
    return at.replace(tzinfo=None)
