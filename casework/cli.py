"""The `casework` command line.

Flask, SQLAlchemy and WeasyPrint are imported only by the commands that need them, so that
`casework --help` and `casework workflows check` answer at once.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from flask import Flask

    from casework.services.chain_helpers import Ahead

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def make_app(
    database_url: str | None = None,
    *,
    web: bool = True,
    configured: Callable[[Flask], None] | None = None,
) -> Flask:
    """The app, or a clean error (no traceback) when a workflow file or a setting is wrong.

    Without `web`, the app has no pages or API (see `create_app`)."""
    from casework import create_app
    from casework.config import ConfigurationError
    from casework.workflow import WorkflowFileError

    config = {"DATABASE_URL": database_url} if database_url else None
    try:
        return create_app(config, web=web, configured=configured)
    except (WorkflowFileError, ConfigurationError) as exc:
        fail(str(exc), 2)
        raise  # unreachable; fail() exits


@contextmanager
def app_session(app: Flask, *, write: bool = True) -> Iterator[None]:
    """An app context whose database work is committed at the end, or rolled back on error.

    With `write`, the command's transaction takes the write lock from its start.
    """
    from casework.errors import CaseworkError
    from casework.extensions import db
    from casework.services.db import begin_write

    with app.app_context():
        try:
            if write:
                begin_write()
            yield
            db.session.commit()
        except CaseworkError as exc:
            db.session.rollback()
            fields = "".join(f"\n  {name}: {' '.join(msgs)}" for name, msgs in exc.fields.items())
            fail(f"{exc.message}{fields}")
        except BaseException:
            db.session.rollback()
            raise
        finally:
            # A command's connections end with it (a test or a long-lived caller may outlive it).
            db.session.remove()
            db.engine.dispose()


def with_app(fn: F) -> F:
    """Run the command inside the configured app, committing once at the end."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = make_app()
        with app_session(app):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="casework")
def main() -> None:
    """Casework: case management for the library's social media policy.

    Configuration comes from environment variables: CASEWORK_DATABASE_URL, CASEWORK_SECRET_KEY,
    CASEWORK_TIMEZONE, CASEWORK_MAX_UPLOAD_MB (see the README).
    """


# --- set-up and serving -----------------------------------------------------------------------


def prepare_database(app: Flask) -> list[str]:
    """Bring the schema up to date and store the workflow definitions; return what was done."""
    from flask_migrate import upgrade

    from casework import config
    from casework.paths import PACKAGE_DIR
    from casework.services.context import library
    from casework.services.db import refresh_statistics
    from casework.services.definitions import store_definition
    from casework.services.users import system_user

    done = []
    if not os.environ.get("CASEWORK_SECRET_KEY"):
        path = config.ensure_secret_key_file(app.instance_path)
        app.config["SECRET_KEY"] = path.read_text().strip()
        done.append(f"secret key: {path}")
    upgrade(directory=str(PACKAGE_DIR / "migrations"))
    done.append("database schema: up to date")
    for workflow in library().workflows:
        store_definition(workflow)
    done.append(
        "workflows stored: " + ", ".join(f"{w.key} v{w.version}" for w in library().workflows)
    )
    system_user()
    refresh_statistics()
    from casework.services.log.keys import ensure_signing_key

    path, public, made = ensure_signing_key()
    done.append(f"log signing key: {path}{' (new: keep a copy offline)' if made else ''}")
    done.append(f"log public key: {public}")
    return done


@main.command()
def init() -> None:
    """Create or upgrade the database, and an administrator if there is none."""
    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import User, UserRole
    from casework.services.administration import cli_actor
    from casework.services.passwords import generate_password
    from casework.services.users import create_user

    app = make_app()
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    with app_session(app, write=False):
        for line in prepare_database(app):
            click.echo(line)
        has_admin = db.session.execute(
            sa.select(User.id).join(UserRole).where(UserRole.role == "admin")
        ).first()
        if not has_admin:
            password = generate_password()
            create_user(
                "admin",
                ["admin"],
                password=password,
                display_name="Administrator",
                must_change_password=True,
                by=cli_actor(),
            )
            click.echo(
                f"administrator: admin, one-time password {password} (change it at first sign-in)"
            )
    click.echo(f"database: {app.config['SQLALCHEMY_DATABASE_URI']}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--fresh", is_flag=True, help="Start again from an empty demo database.")
@click.option("--no-serve", is_flag=True, help="Only create the demo data.")
def demo(host: str, port: int, fresh: bool, no_serve: bool) -> None:
    """Create a demo database with users of every role and cases, and serve it."""
    from casework.demo import DEMO_DATABASE, seed

    url = os.environ.get("CASEWORK_DATABASE_URL")
    app = make_app(url)
    if not url:
        path = Path(app.instance_path) / DEMO_DATABASE
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        app = make_app(f"sqlite:///{path}")
    if "CASEWORK_SECOND_FACTOR_ROLES" not in os.environ:
        # The demo's people sign in with the printed password; set the variable to try the app.
        app.config["SECOND_FACTOR_ROLES"] = ""
    with app_session(app, write=False):
        prepare_database(app)
    with app_session(app):
        accounts = seed()
    click.echo(f"Casework demo ({app.config['SQLALCHEMY_DATABASE_URI']})\n")
    click.echo(f"{'user':<12} {'role':<22} {'password':<18} API token")
    for account in accounts:
        click.echo(
            f"{account.username:<12} {account.role:<22} {account.password:<18} {account.token}"
        )
    base = f"http://{host}:{port}"
    director = next(a for a in accounts if a.role == "director")
    click.echo(f"\nSign in at {base}/ with any user above.")
    if not app.config["SECOND_FACTOR_ROLES"]:
        click.echo(
            "Two-factor sign-in is offered (account page), not required: set "
            "CASEWORK_SECOND_FACTOR_ROLES=director,hr,trustee,admin to require it."
        )
    click.echo(
        f'Try the API:\n  curl -H "Authorization: Bearer {director.token}" {base}/api/v1/cases\n'
    )
    if not no_serve:
        app.run(host=host, port=port, threaded=True, use_reloader=False)


def worker_timeout(config: Any) -> int:
    """gunicorn's worker timeout: above the longest request Casework allows itself.

    A print renders once (up to CASEWORK_PRINT_TIME_LIMIT), waits for the write lock (up to
    CASEWORK_LOCK_TIMEOUT) and, if the case changed meanwhile, renders again; so the worker is
    never killed mid-request and every answer, a refusal included, is Casework's own.
    """
    render = float(config["PRINT_TIME_LIMIT"])
    lock = float(config["LOCK_TIMEOUT"])
    return int(2 * render + 2 * lock + 10)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Serve Casework with gunicorn (run `casework init` first)."""
    import tempfile

    from gunicorn.app.base import BaseApplication

    from casework.monitoring.logs import gunicorn_log_config

    # Workers count requests in files of a shared folder, so /metrics adds up all of them. It is
    # set before the app (and its metrics) are made.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="casework-metrics-"))
    app = make_app()
    log_format = str(app.config.get("LOG_FORMAT") or "text")

    def child_exit(server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    timeout = worker_timeout(app.config)

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("child_exit", child_exit)
            self.cfg.set("logconfig_dict", gunicorn_log_config(log_format))
            self.cfg.set("timeout", timeout)
            self.cfg.set("graceful_timeout", timeout)

        def load(self) -> Flask:
            return app

    Server().run()


# --- users and people -------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Manage user accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--password", help="Without it, a one-time password is printed.")
@click.option("--display-name", default="")
@click.option("--email")
@with_app
def users_add(
    name: str, roles: tuple[str, ...], password: str | None, display_name: str, email: str | None
) -> None:
    """Add a user NAME with one or more roles.

    Recorded in the administration trail as done by `cli:` and the operating-system user.
    """
    from casework.services.administration import cli_actor
    from casework.services.passwords import generate_password
    from casework.services.users import create_user

    split = [r.strip() for role in roles for r in role.split(",") if r.strip()]
    one_time = password is None
    password = password or generate_password()
    user = create_user(
        name,
        split,
        password=password,
        display_name=display_name,
        email=email,
        must_change_password=one_time,
        by=cli_actor(),
    )
    click.echo(f"added {user.username} ({', '.join(user.assigned_roles)})")
    if one_time:
        click.echo(f"one-time password: {password}")


@users.command("list")
@with_app
def users_list() -> None:
    """List user accounts and their roles."""
    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import User

    for user in db.session.execute(sa.select(User).order_by(User.username)).scalars():
        status = "" if user.active else " (disabled)"
        click.echo(f"{user.username:<20} {', '.join(user.assigned_roles)}{status}")


@users.command("token")
@click.argument("name")
@click.option("--name", "token_name", help='What the token is for, e.g. "reports script".')
@click.option("--days", type=int, help="Days until it expires (CASEWORK_TOKEN_DAYS, 90, if unset).")
@with_app
def users_token(name: str, token_name: str | None, days: int | None) -> None:
    """Print a new API token for user NAME (recorded in the administration trail).

    The token works once the user has chosen their own password, and ends when it expires,
    is revoked, their password changes or is reset, their sessions are ended, or they are
    disabled.
    """
    from casework.errors import InvalidFields
    from casework.services.administration import cli_actor
    from casework.services.tokens import issue_token
    from casework.services.users import find_user

    user = find_user(name)
    if user is None or not user.active:
        fail(f"no active user {name!r}")
        return
    try:
        click.echo(issue_token(user, by=cli_actor(), name=token_name, days=days))
    except InvalidFields as exc:
        fail(" ".join(f"--{field}: {' '.join(m)}" for field, m in exc.fields.items()))


@users.command("tokens")
@click.argument("name")
@with_app
def users_tokens(name: str) -> None:
    """List the API tokens of user NAME that are not revoked: number, name, expiry, last use."""
    from casework.models import utcnow
    from casework.services.tokens import tokens_of
    from casework.services.users import find_user

    user = find_user(name)
    if user is None:
        fail(f"no user {name!r}")
        return
    now = utcnow()
    for token in tokens_of(user):
        state = "expired" if token.expires_at <= now else "expires"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        click.echo(
            f"{token.id:<6} {token.name:<30} {state} {token.expires_at:%Y-%m-%d %H:%M}  "
            f"last used {used}"
        )


@users.command("revoke-token")
@click.argument("name")
@click.argument("token")
@with_app
def users_revoke_token(name: str, token: str) -> None:
    """Revoke the API token TOKEN (its name or number) of user NAME (recorded in the trail)."""
    from casework.services.administration import cli_actor
    from casework.services.tokens import find_token, revoke_token
    from casework.services.users import find_user

    user = find_user(name)
    found = find_token(user, token) if user is not None else None
    if user is None or found is None:
        fail(f"no API token {token!r} of {name!r} that is not revoked already")
        return
    revoke_token(cli_actor(), user, found)
    click.echo(f"revoked {found.name} of {user.username}")


@main.group()
def people() -> None:
    """Manage the people who can be subjects of violation cases."""


@people.command("add")
@click.argument("name")
@click.option("--employee-id", required=True)
@click.option("--branch", default="")
@click.option("--user", "username", help="The person's own user account, if any.")
@with_app
def people_add(name: str, employee_id: str, branch: str, username: str | None) -> None:
    """Add a person NAME."""
    from casework.services.people import create_person

    person = create_person(name, employee_id, branch, username)
    click.echo(f"added person {person.id}: {person.name} ({person.employee_id})")


@people.command("separate")
@click.argument("employee_id")
@click.argument("day", metavar="DATE")
@with_app
def people_separate(employee_id: str, day: str) -> None:
    """Record that the person with EMPLOYEE_ID left on DATE (YYYY-MM-DD); "" clears it."""
    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import Person
    from casework.services.people import set_separation

    found = db.session.execute(
        sa.select(Person).where(Person.employee_id == employee_id)
    ).scalar_one_or_none()
    if found is None:
        fail(f"no person with employee id {employee_id!r}")
        return
    set_separation(found, day)
    click.echo(f"{found.name}: left {found.separated_on or 'no date'}")


# --- audit ------------------------------------------------------------------------------------


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
    # Helpers start on their share of the events as soon as the database is known, while this
    # process builds the rest of the application.
    helpers: list[Ahead] = []
    try:
        app = make_app(web=False, configured=lambda app: helpers.append(_start_helpers(app)))
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
    finally:
        for ahead in helpers:
            ahead.close()
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


def _start_helpers(app: Flask) -> Ahead:
    """Helpers for `audit verify`, one per core beyond this one, started at once."""
    from casework.services.chain_helpers import start_helpers

    processes = min(os.cpu_count() or 1, 8)
    return start_helpers(str(app.config["SQLALCHEMY_DATABASE_URI"]), processes)


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


# --- backups ----------------------------------------------------------------------------------


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
    from casework.services.backup import (
        BackupError,
        list_backups,
        read_manifest,
        restore_into,
        scratch_database,
        take_backup,
    )

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
    from casework.services.backup import (
        BackupError,
        contents,
        is_empty,
        read_manifest,
        restore_into,
    )
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


# --- deadlines and e-mail ---------------------------------------------------------------------


@main.command()
@click.option("--dry-run", is_flag=True, help="List what the sweep would do; change nothing.")
@click.option("--quiet", is_flag=True, help="Print nothing when there was nothing to do.")
def sweep(dry_run: bool, quiet: bool) -> None:
    """Act on overdue cases as their workflows say, then send the waiting e-mail.

    Safe to run every few minutes (cron, a systemd timer), and on several hosts at once.
    Exits with 1 when an overdue case could not be acted on.
    """
    import socket

    from casework.deadlines import sweep_deadlines
    from casework.extensions import db
    from casework.models import SweepRun, utcnow
    from casework.notifications.delivery import deliver_outbox, due_messages
    from casework.services.db import refresh_statistics

    app = make_app()
    now = utcnow()
    with app_session(app, write=not dry_run):
        actions = sweep_deadlines(now, dry_run=dry_run)
        due = [(m.recipient, m.subject) for m in due_messages(now)] if dry_run else []
        if not dry_run:
            refresh_statistics()  # every few minutes: the planner keeps up as cases pile up
    for action in actions:
        click.echo(action.line())
    if not actions and not quiet:
        click.echo("deadlines: nothing to do")
    if dry_run:
        for recipient, subject in due:
            click.echo(f"would send to {recipient}: {subject}")
        click.echo(f"mail: {len(due)} message(s) would be sent now")
        return
    with app.app_context():
        try:
            checkpoint = _sweep_checkpoint(now, quiet)
            report = deliver_outbox(now)
        finally:
            db.session.remove()
            db.engine.dispose()
    if checkpoint:
        click.echo(checkpoint)
    with app_session(app):
        db.session.add(
            SweepRun(
                started_at=now,
                finished_at=utcnow(),
                host=socket.gethostname()[:255],
                actions=sum(a.what != "problem" for a in actions),
                problems=sum(a.what == "problem" for a in actions),
                mail_sent=report.sent,
                mail_failed=report.failed,
            )
        )
    for error in report.errors:
        click.echo(f"mail failed for good: {error}")
    if not quiet or report.sent or report.retrying or report.failed:
        click.echo(report.summary())
    if any(a.what == "problem" for a in actions):
        sys.exit(1)


def _sweep_checkpoint(now: Any, quiet: bool) -> str:
    """A checkpoint when the log has grown since the last (before the mail, which sends it)."""
    from casework.extensions import db
    from casework.services.db import begin_write
    from casework.services.log import LogError
    from casework.services.log.checkpoints import make_checkpoint

    try:
        begin_write()
        row = make_checkpoint(now, only_if_grown=True)
        db.session.commit()
    except LogError as exc:
        db.session.rollback()
        return "" if quiet else f"checkpoint: not made: {exc.message}"
    return f"checkpoint: {row.size} records signed" if row else ""


# --- retention and disposal ------------------------------------------------------------------


def _officer(username: str) -> Any:
    from casework.services.users import find_user

    found = find_user(username)
    if found is None or not found.active:
        fail(f"no active user {username!r}")
    return found


@main.group(invoke_without_command=True)
@click.option("--days", default=90, show_default=True, help="How far ahead to look.")
@click.option("--as", "username", help="List as this user (default: every case).")
@click.pass_context
def retention(ctx: click.Context, days: int, username: str | None) -> None:
    """The cases eligible for disposal now and within DAYS days, by record series."""
    if ctx.invoked_subcommand is not None:
        return
    from casework.services import disposal
    from casework.services.users import system_user

    app = make_app()
    with app_session(app, write=False):
        user = _officer(username) if username else system_user()
        today = disposal.today_for()
        due = disposal.due_cases(user, today, days) if username else disposal.all_due(today, days)
        if not due:
            click.echo(f"No case is eligible for disposal within {days} days.")
        for d in due:
            rule = d.eligibility.rule
            assert rule is not None  # nosec B101 # only cases with a rule become eligible
            when = "now" if d.eligibility.eligible(today) else f"from {d.eligibility.on}"
            held = "  ON LEGAL HOLD" if d.held else ""
            click.echo(
                f"{d.case.number}  {rule.schedule}  {rule.series}: eligible {when}"
                f" (closed {d.closed_day}){held}"
            )


@retention.command("prepare")
@click.argument("schedule")
@click.option("--as", "username", required=True, help="The records officer (or Director).")
@click.option("-o", "--output", help="Also write the certificate (PDF) to this file.")
@with_app
def retention_prepare(schedule: str, username: str, output: str | None) -> None:
    """Prepare a disposal batch of the series with schedule number SCHEDULE, and its
    certificate: every case of it eligible today and not under a legal hold."""
    from casework.services import disposal

    batch = disposal.prepare_batch(_officer(username), schedule)
    if output:
        _save(batch.certificate, output)
    click.echo(
        f"batch {batch.id}: {len(batch.numbers)} case(s) of {batch.series} ({batch.schedule}); "
        f"certificate SHA-256 {batch.certificate_sha256}; may be confirmed from "
        f"{batch.wait_until.isoformat()}"
    )


@retention.command("confirm")
@click.argument("batch_id")
@click.option("--as", "username", required=True, help="The records officer (or Director).")
@with_app
def retention_confirm(batch_id: str, username: str) -> None:
    """Confirm disposal batch BATCH_ID: destroy the content of its cases (run again, it finishes
    what a cut-short run left)."""
    from casework.services import disposal

    user = _officer(username)
    done = disposal.confirm_batch(user, disposal.load_batch(user, batch_id, write=True))
    click.echo(f"batch {batch_id}: {len(done.disposed)} case(s) disposed of")
    for reason in done.kept:
        click.echo(f"kept: {reason}")


# --- printed records ---------------------------------------------------------------------------


def _printing_user(username: str | None) -> Any:
    """The user a print is made and recorded as: `--as NAME`, else Casework's system user."""
    from casework.services.users import find_user, system_user

    if username is None:
        return system_user()
    found = find_user(username)
    if found is None or not found.active:
        fail(f"no active user {username!r}")
    return found


def _save(content: bytes, output: str) -> None:
    try:
        Path(output).write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")


@main.command("print")
@click.argument("number")
@click.option("-o", "--output", required=True, help="The PDF file to write.")
@click.option("--redacted", is_flag=True, help="The public-records copy: confidential withheld.")
@click.option("--as", "username", help="Print as this user, with their access (default: system).")
@with_app
def print_record(number: str, output: str, redacted: bool, username: str | None) -> None:
    """Write the record of case NUMBER as a PDF; the print is recorded in the case's trail."""
    from casework.printing.documents import case_record_pdf

    printed = case_record_pdf(_printing_user(username), number, redacted=redacted)
    _save(printed.content, output)
    click.echo(f"{output}: {printed.filename}, {len(printed.content)} bytes")


@main.command("history")
@click.argument("person")
@click.option("-o", "--output", required=True, help="The PDF file to write.")
@click.option("--as", "username", help="Print as this user, with their access (default: system).")
@with_app
def print_history(person: str, output: str, username: str | None) -> None:
    """Write the case history of PERSON (id or employee id) as a PDF, for the personnel file."""
    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import Person
    from casework.printing.documents import employee_history_pdf

    found = db.session.execute(
        sa.select(Person.id).where(Person.employee_id == person)
    ).scalar_one_or_none()
    printed = employee_history_pdf(_printing_user(username), found if found else person)
    _save(printed.content, output)
    click.echo(f"{output}: {len(printed.recorded)} case(s), {len(printed.content)} bytes")


# --- reports ----------------------------------------------------------------------------------


@main.group()
def report() -> None:
    """Reports for the Board of Trustees."""


@report.command("monthly")
@click.option("--month", help="The month, YYYY-MM (default: the last full month).")
@click.option("--from", "first", help="The first month of a range, YYYY-MM.")
@click.option("--until", "last", help="The last month of a range, YYYY-MM.")
@click.option("--format", "form", type=click.Choice(["csv", "pdf"]), default="csv")
@click.option("-o", "--output", required=True, help="The file to write.")
@click.option("--as", "username", help="Make it as this user, with their sections.")
@with_app
def report_monthly(
    month: str | None,
    first: str | None,
    last: str | None,
    form: str,
    output: str,
    username: str | None,
) -> None:
    """Write the Board's monthly report as CSV or PDF; the reading is recorded."""
    from casework.models import utcnow
    from casework.services import board_report
    from casework.services.administration import cli_actor

    reader = _printing_user(username)
    period = board_report.choose_period(month, first, last)
    made = board_report.build_report(reader, period, now=utcnow())
    if form == "pdf":
        from casework.printing.board import board_report_pdf

        content = board_report_pdf(reader, made)
    else:
        content = board_report.csv_text(made).encode("utf-8")
    who = reader.username if username else cli_actor()
    board_report.record_read(who, made, form, at=made.generated_at)
    _save(content, output)
    click.echo(f"{output}: report for {period.label}, {len(content)} bytes")


# --- workflows --------------------------------------------------------------------------------


def _registry() -> Any:
    from casework.config import workflows_dir
    from casework.workflow import WorkflowFileError, load_registry

    folder = workflows_dir({"WORKFLOWS_DIR": os.environ.get("CASEWORK_WORKFLOWS_DIR")})
    try:
        return load_registry(folder)
    except WorkflowFileError as exc:
        fail(str(exc), 2)


@main.group()
def workflows() -> None:
    """Check and show workflow definitions."""


@workflows.command("check")
def workflows_check() -> None:
    """Validate every workflow file."""
    registry = _registry()
    for w in registry:
        click.echo(
            f"ok  {w.key:<12} v{w.version}  {w.prefix}  "
            f"{len(w.states)} states, {len(w.transitions)} transitions"
        )


@workflows.command("show")
@click.argument("key")
@click.option("--svg", is_flag=True, help="Print the diagram as SVG.")
def workflows_show(key: str, svg: bool) -> None:
    """Show workflow KEY: its states, transitions and who may fire them."""
    from casework.presenting.words import role_label
    from casework.workflow.diagram import render_svg

    registry = _registry()
    if key not in registry:
        fail(f"no workflow {key!r}; known: {', '.join(registry.keys())}")
    w = registry.get(key)
    if svg:
        click.echo(render_svg(w))
        return
    click.echo(f"{w.title} ({w.key} v{w.version}, numbers {w.prefix}-YEAR-NNNN)")
    if w.policy:
        click.echo(f"Policy: {w.policy}")
    click.echo("\nStates:")
    for s in w.states.values():
        flags = " (final)" if s.terminal else ""
        flags += " (start)" if s.name == w.initial else ""
        deadline = f" — due within {s.deadline.period}" if s.deadline else ""
        click.echo(f"  {s.name}{flags}{deadline}")
    click.echo("\nRetention:")
    if w.retention is None:
        click.echo("  no rule: the cases are kept for good")
    else:
        for state in w.terminal_states:
            rule = w.retention.for_state(state)
            click.echo(f"  {state}: {rule.series} (schedule {rule.schedule}), {rule.period}")
    click.echo("\nTransitions:")
    for t in w.transitions.values():
        roles = ", ".join(role_label(r) for r in t.roles)
        click.echo(f"  {t.trigger}: {' | '.join(t.sources)} -> {t.dest}  [{roles}]")
        for source, narrower in t.roles_by_source.items():
            click.echo(f"      from {source} only: {', '.join(role_label(r) for r in narrower)}")
        if t.fields:
            click.echo(
                f"      fields: {', '.join(f.name + ('*' if f.required else '') for f in t.fields)}"
            )
        if t.guards or t.conditions:
            click.echo(f"      checks: {', '.join(t.guards + t.conditions)}")
