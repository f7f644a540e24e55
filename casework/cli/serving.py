"""`casework init`, `demo` and `serve`: the database made ready, demo data, and serving."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from casework import settle
from casework.cli.base import app_session, main, make_app

if TYPE_CHECKING:
    from flask import Flask


def prepare_database(app: Flask) -> list[str]:
    """Bring the schema up to date and store the workflow definitions; return what was done."""
    from casework import config
    from casework.extensions import upgrade_schema
    from casework.library import library
    from casework.services.db import refresh_statistics
    from casework.services.definitions import store_definition
    from casework.services.users import system_user

    done = []
    if not os.environ.get("CASEWORK_SECRET_KEY"):
        path = config.ensure_secret_key_file(app.instance_path)
        app.config["SECRET_KEY"] = path.read_text().strip()
        done.append(f"secret key: {path}")
    upgrade_schema()
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
        settle()
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
    settle()  # before the workers are forked, so they share what it froze

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
