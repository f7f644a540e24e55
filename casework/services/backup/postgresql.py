"""PostgreSQL's backups: pg_dump of the schema in use, in the snapshot its counts are read from,
and pg_restore into the schema a URL names."""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404  # pg_dump and pg_restore, with argument lists, never a shell
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from casework.services.backup.contents import contents
from casework.services.backup.manifest import BackupError


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


def pg_dump(engine: sa.Engine, destination: Path) -> dict[str, Any]:
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


def restore_postgresql(engine: sa.Engine, backup: Path) -> None:
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
