"""`casework audit`: verify the audit trail and the log, sign checkpoints, export the log."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from casework.cli.base import app_session, fail, main, make_app

if TYPE_CHECKING:
    from flask import Flask

    from casework.services.chain_helpers import Ahead


@main.group()
def audit() -> None:
    """Check the audit trail."""


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Also check the database against a checkpoint kept elsewhere (a file, or a saved "
    "e-mail holding one; repeatable).",
)
@click.option(
    "--record",
    "records",
    nargs=3,
    multiple=True,
    metavar="NUMBER EVENT HASH",
    help="Also check a printed record: the case, and the event and hash of its audit chain "
    "head as printed (repeatable).",
)
def audit_verify(records: tuple[tuple[str, str, str], ...], checkpoints: tuple[str, ...]) -> None:
    """Verify every case's hash chain, the whole log and its checkpoints, and every evidence
    file; name what is wrong.

    The log is checked against each checkpoint the database holds, each in the witness folder
    (CASEWORK_WITNESS_DIR) and each given with --checkpoint. With --record, also check that
    each printed record's chain head is still in the trail.
    """
    # Helpers start on their share of the events as soon as the database is known: from the
    # environment, before anything else is imported; else once the application has read its
    # settings, while it builds the rest.
    helpers: list[Ahead] = []
    early = _database_from_environment()
    if early is not None:
        helpers.append(_start_helpers(early))
    try:
        _audit_verify(records, checkpoints, helpers, early)
    finally:
        for ahead in helpers:
            ahead.close()


def _audit_verify(
    records: tuple[tuple[str, str, str], ...],
    checkpoints: tuple[str, ...],
    helpers: list[Ahead],
    early: str | None,
) -> None:
    import time

    from casework.services.loading import normalize_number
    from casework.services.log.verify import LogReport
    from casework.services.log.witnesses import witness_notes
    from casework.services.verification import HASH, check_printed_head, verify_chains

    printed = []
    for number, seq, digest in records:
        clean = normalize_number(number)
        if clean is None or not seq.isascii() or not seq.isdigit() or not 0 < int(seq) < 2**31:
            raise click.BadParameter(
                f"{number} {seq}: give the case number and the event number as printed, "
                "e.g. CMP-2026-0042 7",
                param_hint="--record",
            )
        if not HASH.match(digest.strip().lower()):
            raise click.BadParameter(
                f"{digest!r}: the hash is the 64 hexadecimal characters printed after the event",
                param_hint="--record",
            )
        printed.append((clean, int(seq), digest.strip().lower()))

    def configured(app: Flask) -> None:
        address = str(app.config["SQLALCHEMY_DATABASE_URI"])
        if early is None:
            helpers.append(_start_helpers(address))
        elif address != early:  # the application reads another database: not theirs to check
            for ahead in helpers:
                ahead.close()
            helpers.clear()

    app = make_app(web=False, configured=configured)
    with app_session(app, write=False):
        try:
            outside = list(witness_notes(checkpoints))
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read a checkpoint: {exc}")
        started = time.perf_counter()
        result = verify_chains(log_outside=outside, ahead=helpers[0] if helpers else None)
        logged = result.log_report or LogReport()
        problems = [check_printed_head(*record) for record in printed]
        seconds = time.perf_counter() - started
    for broken in result.broken:
        click.echo(f"BROKEN {broken.case} event {broken.seq}: {broken.problem}")
    for found in logged.problems:
        click.echo(f"BROKEN {found}")
    trail = result.administration
    for link in trail.broken:
        click.echo(f"BROKEN administration trail event {link.seq}: {link.problem}")
    for (printed_number, printed_seq, _), problem in zip(printed, problems, strict=True):
        if problem is None:
            click.echo(
                f"record {printed_number} event {printed_seq}: the printed chain head is in "
                "the trail"
            )
        else:
            click.echo(f"BROKEN {problem.case} event {problem.seq} (printed): {problem.problem}")
    bad = len(result.broken) + len(logged.problems) + sum(p is not None for p in problems)
    bad += len(trail.broken)
    verdict = "ok" if not bad else f"{bad} problem(s)"
    click.echo(
        f"{verdict}: {result.cases} cases, {result.events} events checked in {seconds:.2f} s; "
        f"log of {logged.size} against {logged.checkpoints} stored and {logged.outside} "
        f"witnessed checkpoint(s); {logged.blobs} evidence file(s); "
        f"administration trail: {trail.events} events"
    )
    if result.erased:
        spans = "; ".join(
            f"{number} events {first}–{last}" for number, first, last in result.erased
        )
        click.echo(
            f"erased by disposal: {result.erased_events} event(s) of {len(result.erased)} "
            f"case(s), checked by their links and log leaves only (their content is gone): {spans}"
        )
    if bad:
        sys.exit(1)


def _start_helpers(address: str) -> Ahead:
    """Helpers for `audit verify`, one per core beyond this one, started at once."""
    from casework.services.chain_helpers import start_helpers

    processes = min(os.cpu_count() or 1, 8)
    return start_helpers(address, processes)


def _database_from_environment() -> str | None:
    """The database address as the application will read it from CASEWORK_DATABASE_URL
    (its settings load each CASEWORK_ variable as JSON when it is JSON), or None when unset."""
    import json

    value: object = os.environ.get("CASEWORK_DATABASE_URL")
    if not value:
        return None
    try:
        value = json.loads(str(value))
    except ValueError:
        pass
    return str(value) if isinstance(value, str) and value else None


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the log as it is now and hand the checkpoint to the witnesses."""
    from casework.extensions import db
    from casework.services.db import begin_write
    from casework.services.log import LogError
    from casework.services.log.checkpoints import make_checkpoint

    app = make_app()
    with app.app_context():
        try:
            begin_write()
            row = make_checkpoint()
            db.session.commit()
        except LogError as exc:
            db.session.rollback()
            fail(exc.message)
            return
        finally:
            db.session.remove()
            db.engine.dispose()
    assert row is not None
    click.echo(row.note, nl=False)


@audit.command("key")
def audit_key() -> None:
    """Print the log's public key (what checkpoints are checked with)."""
    from casework.services.log.keys import public_key

    app = make_app()
    with app.app_context():
        key = public_key()
    if key is None:
        fail("no signing key: run `casework init`, or set CASEWORK_SIGNING_KEY_FILE")
    click.echo(str(key))


@audit.command("export")
@click.argument("output", type=click.Path(dir_okay=False, writable=True))
def audit_export(output: str) -> None:
    """Write the whole log (positions, leaf hashes, case numbers, checkpoints) to OUTPUT, for
    `python -m casework.logcheck OUTPUT CHECKPOINT PUBKEY`."""
    from casework.extensions import db
    from casework.services.log.export import export_log
    from casework.services.verification import reading

    app = make_app()
    with app.app_context():
        try:
            with open(output, "w", encoding="utf-8") as out, reading(db.engine) as connection:
                written = export_log(connection, out)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
            return
        finally:
            db.engine.dispose()
    click.echo(f"{output}: {written} leaves")
