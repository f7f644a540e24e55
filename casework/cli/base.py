"""The `casework` command group, and what its commands share: the app, its session, errors.

Flask, SQLAlchemy and WeasyPrint are imported only by the commands that need them, so that
`casework --help` and `casework workflows check` answer at once.
"""

from __future__ import annotations

import atexit
import functools
import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from flask import Flask

F = TypeVar("F", bound=Callable[..., Any])

# A command that built the application leaves about 100,000 objects; the interpreter's last
# collections of cycles among them took a tenth of a second of every such command. Frozen at
# exit, they are simply left to the end of the process (commands close their own files and
# connections before they return).
atexit.register(gc.freeze)


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


def printing_user(username: str | None) -> Any:
    """The user a print is made and recorded as: `--as NAME`, else Casework's system user."""
    from casework.services.users import find_user, system_user

    if username is None:
        return system_user()
    found = find_user(username)
    if found is None or not found.active:
        fail(f"no active user {username!r}")
    return found


def save(content: bytes, output: str) -> None:
    """Write a command's file, or a clean error naming it."""
    try:
        Path(output).write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
