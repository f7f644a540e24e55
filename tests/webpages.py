"""Using the web pages in tests as a signed-in person would: forms with their CSRF tokens."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from casework.extensions import db
from casework.models import Case, Event, User
from casework.services.passwords import hash_password

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def set_password(app: Flask, username: str, password: str = PASSWORD, **changes: Any) -> None:
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one()
        user.password_hash = hash_password(password)
        for name, value in changes.items():
            setattr(user, name, value)
        db.session.commit()


def csrf_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1) or found.group(2)


class Visitor:
    """One browser: its own cookies, signed in as one user."""

    def __init__(self, app: Flask, username: str | None = None) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.username = username
        self.token = ""
        if username:
            self.sign_in(username)

    def sign_in(self, username: str, password: str = PASSWORD, *, set_it: bool = True) -> Any:
        if set_it:
            set_password(self.app, username, password)
        page = self.client.get("/sign-in")
        response = self.client.post(
            "/sign-in",
            data={"csrf_token": csrf_token(page.text), "username": username, "password": password},
        )
        if response.status_code == 302:
            self.username = username
            self.refresh_token()
        return response

    def refresh_token(self) -> None:
        page = self.client.get("/account")
        if page.status_code == 200:
            self.token = csrf_token(page.text)

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """POST a form as the page would, with this session's CSRF token."""
        body = {"csrf_token": self.token, **(data or {})}
        return self.client.post(path, data=body, **kw)

    def fire(self, number: str, trigger: str, version: int | None = None, **fields: Any) -> Any:
        """Submit a transition's form (the version is the one the form page carries)."""
        if version is None:
            page = self.get(f"/cases/{number}/transitions/{trigger}")
            assert page.status_code == 200, page.text[:500]
            found = re.search(r'name="version" value="(\d+)"', page.text)
            assert found
            version = int(found.group(1))
        return self.post(
            f"/cases/{number}/transitions/{trigger}", {"version": str(version), **fields}
        )

    def open(self, workflow: str, **fields: Any) -> str:
        """Open a case through its intake form, confirmed at once where the workflow checks the
        answers first; returns its number."""
        response = self.post(f"/cases/new/{workflow}", {"confirmed": "1", **fields})
        assert response.status_code == 302, response.text[:3000]
        return response.headers["Location"].rsplit("/", 1)[-1]


def events_of(app: Flask, number: str) -> list[tuple[str, str]]:
    """(action, actor) of every event of a case, straight from the database."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Event.action, Event.actor)
            .join(Case, Case.id == Event.case_id)
            .where(Case.number == number)
            .order_by(Event.seq)
        ).all()
        db.session.rollback()
    return [(a, b) for a, b in rows]


def case_state(app: Flask, number: str) -> tuple[str, int]:
    with app.app_context():
        state, version = db.session.execute(
            sa.select(Case.state, Case.version).where(Case.number == number)
        ).one()
        db.session.rollback()
    return state, version


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def page_text(html: str) -> str:
    """The visible words of a page, whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
