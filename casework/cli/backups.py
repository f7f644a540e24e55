"""`casework backup` and `casework restore`: consistent copies of the database, checked."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from casework.cli.base import app_session, fail, main, make_app
from casework.cli.serving import prepare_database


def _verify_database(url: str) -> Any:
    """`audit verify` of the database at `url` (a restored copy): its result."""
    from casework.services.verification import verify_chains

    app = make_app(url)
    with app_session(app, write=False):
        return verify_chains()


def _echo_verify(result: Any) -> None:
    for broken in result.broken:
        click.echo(f"BROKEN {broken.case} event {broken.seq}: {broken.problem}")
    verdict = "ok" if result.ok else f"{len(result.broken)} problem(s)"
    click.echo(f"audit verify: {verdict}: {result.cases} cases, {result.events} events")


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--verify", is_flag=True, help="Restore it into a scratch database and verify it.")
@click.option(
    "--list",
    "folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="List the backups in this folder, checked against their manifests.",
)
def backup(file: Path | None, verify: bool, folder: Path | None) -> None:
    """Write a consistent copy of the database to FILE while the server runs.

    Beside it goes FILE.manifest.json: time, schema revision, numbers of cases and events, the
    newest checkpoint of the whole-database log, and the file's SHA-256. Exits with 1 when
    --verify finds a problem.
    """
    from casework.extensions import db
    from casework.services.backup import restore_into, scratch_database, take_backup
    from casework.services.backup.manifest import BackupError, list_backups, read_manifest

    if folder is not None:
        _list_backups(folder, list_backups)
        return
    if file is None:
        fail("name the backup file to write, e.g. casework backup /backups/casework-2026-12-02")
        return
    app = make_app()
    try:
        with app.app_context():
            try:
                manifest = take_backup(db.engine, file)
            finally:
                db.session.remove()
                db.engine.dispose()
        click.echo(
            f"{file}: {manifest.cases} cases, {manifest.events} events, schema "
            f"{manifest.schema_revision}, {manifest.size} bytes, sha256 {manifest.sha256}"
        )
        if not verify:
            return
        checked = read_manifest(file)
        with app.app_context():
            try:
                with scratch_database(db.engine) as scratch:
                    restore_into(scratch, file, checked)
                    result = _verify_database(scratch)
            finally:
                db.engine.dispose()
    except BackupError as exc:
        fail(exc.message)
        return
    _echo_verify(result)
    if not result.ok:
        sys.exit(1)


def _list_backups(folder: Path, list_backups: Callable[..., Any]) -> None:
    listed = list_backups(folder)
    if not listed:
        click.echo(f"no backups in {folder}")
    for item in listed:
        if item.manifest is None:
            click.echo(f"DAMAGED {item.path.name}: {item.problem}")
            continue
        m = item.manifest
        held = (
            f"; still holds {len(item.holds_disposed)} disposed case(s): "
            + ", ".join(item.holds_disposed)
            if item.holds_disposed
            else ""
        )
        click.echo(f"{m.taken_at}  {item.path.name}: {m.cases} cases, {m.events} events{held}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
def restore(file: Path, force: bool) -> None:
    """Restore backup FILE into the configured database, bring its schema up to date, verify it.

    Refuses a database that holds cases, events or users unless --force, naming what would be
    lost. Exits with 1 when the restored database does not verify.
    """
    from casework.extensions import db
    from casework.services.administration import cli_actor, record
    from casework.services.backup import restore_into
    from casework.services.backup.contents import contents, is_empty
    from casework.services.backup.manifest import BackupError, read_manifest
    from casework.services.db import begin_write
    from casework.services.log import LogError
    from casework.services.log.checkpoints import make_checkpoint
    from casework.services.log.tree import log_size
    from casework.services.log.witnesses import witnessed_size
    from casework.services.users import system_user

    try:
        manifest = read_manifest(file)
    except BackupError as exc:
        fail(exc.message)
        return
    app = make_app()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                found = contents(connection)
        finally:
            db.session.remove()
            db.engine.dispose()
    if not is_empty(found) and not force:
        fail(
            f"the database is not empty: it holds {found['cases']} cases, {found['events']} "
            f"events and {found['users']} users, which the restore would replace. Restore into "
            "an empty database, or add --force to replace them."
        )
    try:
        restore_into(url, file, manifest)
    except BackupError as exc:
        fail(exc.message)
    app = make_app(url)
    with app_session(app, write=False):
        for line in prepare_database(app):
            click.echo(line)
    lost = max(found["events"] - manifest.events, 0)
    with app_session(app):
        # What the witnesses saw that the restored log lacks is gone too (a disaster restore
        # into an empty database knows of no other loss).
        witnessed = witnessed_size()
        restored_size = log_size(db.session.connection())
        if witnessed is not None:
            lost = max(lost, witnessed - restored_size)
        # The restore is on the record, with what it took away, so a rollback is explained.
        record(
            cli_actor(),
            "database_restored",
            system_user(),
            {
                "file": file.name,
                "sha256": manifest.sha256,
                "taken_at": manifest.taken_at,
                "cases": manifest.cases,
                "events": manifest.events,
                "events_replaced": found["events"],
                "events_lost": lost,
                "log_size_restored": restored_size,
                "log_size_witnessed": witnessed,
            },
        )
    # The witnesses learn of the restore from the next checkpoint, which logs its record.
    with app.app_context():
        try:
            begin_write()
            made = make_checkpoint()
            db.session.commit()
        except LogError as exc:
            db.session.rollback()
            click.echo(f"no checkpoint after the restore: {exc.message}")
            made = None
        finally:
            db.session.remove()
            db.engine.dispose()
    if made is not None:
        click.echo(f"checkpoint of {made.size} log entries sent to the witnesses")
    if lost:
        click.echo(f"the restore took away {lost} logged events recorded after the backup")
    click.echo(
        f"restored {file.name} (taken {manifest.taken_at}): {manifest.cases} cases, "
        f"{manifest.events} events"
    )
    result = _verify_database(url)
    _echo_verify(result)
    if not result.ok:
        sys.exit(1)
