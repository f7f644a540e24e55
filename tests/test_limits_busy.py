"""A held database lock: a write waits a few seconds at most, then 503 and Retry-After."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator

import sqlalchemy as sa
from webpages import Visitor

from casework.extensions import db
from casework.models import Case

COMPLAINT = {"summary": "Story time", "channel": "facebook", "patron": "P", "content": "Why?"}
WAIT = 0.5


@contextlib.contextmanager
def lock_held(app, database_url: str, number: str) -> Iterator[None]:
    """Another process holds the write lock (SQLite) or the case's row (PostgreSQL).

    Released after 40 s at the latest, so a server that waits without end fails the test rather
    than hanging it.
    """
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        release = conn.rollback
    else:
        engine = sa.create_engine(database_url)
        holder = engine.connect()
        holder.execute(sa.select(Case.id).where(Case.number == number).with_for_update())

        def release() -> None:
            holder.rollback()

    timer = threading.Timer(40, release)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        release()
        if not database_url.startswith("sqlite"):
            holder.close()
            engine.dispose()


def busy_lines(caplog):
    return [r for r in caplog.records if "busy" in r.getMessage()]


def test_a_write_gives_up_after_the_lock_timeout_with_503_json(
    make_app, database_url, cast, api_for, caplog
):
    app = make_app(LOCK_TIMEOUT=WAIT)
    api = api_for(app)
    number = api.open("librarian", "complaint", **COMPLAINT)["number"]
    with lock_held(app, database_url, number), caplog.at_level(logging.WARNING):
        started = time.monotonic()
        response = api.post(f"/cases/{number}/notes", "librarian", json={"text": "A note."})
        took = time.monotonic() - started
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert took < WAIT + 3, f"waited {took:.1f} s"
    lines = busy_lines(caplog)
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert not any(r.exc_info for r in caplog.records), "a busy database is no traceback"
    # Nothing was saved, and once the lock is gone the same write goes through.
    assert (
        api.post(f"/cases/{number}/notes", "librarian", json={"text": "A note."}).status_code == 201
    )


def test_a_print_while_the_lock_is_held_answers_503_json(
    make_app, database_url, cast, api_for, caplog
):
    app = make_app(LOCK_TIMEOUT=WAIT)
    api = api_for(app)
    number = api.open("librarian", "complaint", **COMPLAINT)["number"]
    with lock_held(app, database_url, number), caplog.at_level(logging.WARNING):
        started = time.monotonic()
        response = api.get(f"/cases/{number}/record.pdf", "librarian")
        took = time.monotonic() - started
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert "Retry-After" in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert took < WAIT + 20  # the render itself, then the wait for the lock
    assert not any(r.exc_info for r in caplog.records)


def test_a_form_while_the_lock_is_held_gets_the_error_page(make_app, database_url, cast, api_for):
    app = make_app(LOCK_TIMEOUT=WAIT)
    number = api_for(app).open("librarian", "complaint", **COMPLAINT)["number"]
    librarian = Visitor(app, "librarian")
    with lock_held(app, database_url, number):
        response = librarian.post(f"/cases/{number}/notes", {"text": "A note."})
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "busy" in response.text
    assert "Retry-After" in response.headers
    assert "Content-Security-Policy" in response.headers


def test_reads_go_on_while_the_lock_is_held(make_app, database_url, cast, api_for):
    app = make_app(LOCK_TIMEOUT=10)
    api = api_for(app)
    number = api.open("librarian", "complaint", **COMPLAINT)["number"]
    with lock_held(app, database_url, number):
        started = time.monotonic()
        listed = api.get("/cases?workflow=complaint", "librarian")
        shown = api.get(f"/cases/{number}", "librarian")
        took = time.monotonic() - started
    assert listed.status_code == 200 and shown.status_code == 200
    assert took < 3, "a read does not queue behind a held write lock"


def test_the_lock_timeout_is_five_seconds_unless_configured(app):
    from casework.config import DEFAULTS

    assert DEFAULTS["LOCK_TIMEOUT"] == 5
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            timeout = db.session.execute(sa.text("PRAGMA busy_timeout")).scalar_one()
            assert timeout == 5000
        else:
            assert db.session.execute(sa.text("SHOW lock_timeout")).scalar_one() == "5s"


def test_serve_gives_gunicorn_a_timeout_above_the_longest_request(app, monkeypatch):
    from click.testing import CliRunner
    from gunicorn.app.base import BaseApplication

    from casework.cli import main

    seen = {}

    def run(self):
        seen["timeout"] = self.cfg.timeout

    monkeypatch.setattr(BaseApplication, "run", run)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    result = CliRunner().invoke(main, ["serve", "--port", "5999"])
    assert result.exit_code == 0, result.output
    render, lock = app.config["PRINT_TIME_LIMIT"], app.config["LOCK_TIMEOUT"]
    assert seen["timeout"] > 2 * render + lock
