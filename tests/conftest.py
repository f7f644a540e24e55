"""Test fixtures: a fresh database per test (SQLite by default, PostgreSQL when configured).

SQLite: the schema is built once by the migrations into a template file, copied for each test.
PostgreSQL (`CASEWORK_TEST_DATABASE_URL`): the run gets its own schema, built by the migrations
once; each test starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from casework import create_app
from casework.cli import main
from casework.extensions import db
from casework.models import Case, Person, User
from casework.services.people import create_person
from casework.services.tokens import issue_token
from casework.services.users import create_user

PG_URL = os.environ.get("CASEWORK_TEST_DATABASE_URL")

#: username -> roles of the standard cast most tests use.
CAST: dict[str, list[str]] = {
    "director": ["director"],
    "librarian": ["librarian_in_charge"],
    "hr": ["hr"],
    "social": ["social_media_team"],
    "social2": ["social_media_team"],
    "staff": ["staff"],
    "staff2": ["staff"],
    "trustee": ["trustee"],
    "records": ["records_officer"],
    "admin": ["admin"],
}

BASE_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": True,
    # Cheap password hashing keeps tests fast; production uses argon2's defaults.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 1024,
    # Most tests sign the cast in with a password alone; tests of two-factor sign-in ask for it.
    "SECOND_FACTOR_ROLES": "",
    # Most tests type branches freely; tests of the configured list (and the browser tests'
    # demo library) use one.
    "BRANCHES": "",
}


def _migrate(url: str) -> None:
    from casework.extensions import upgrade_schema

    app = create_app({**BASE_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        upgrade_schema()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite: path of a migrated template database. PostgreSQL: URL of this run's schema."""
    if PG_URL:
        schema = f"cw_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(PG_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        separator = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
        _migrate(url)
        yield url
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        _migrate(f"sqlite:///{path}")
        yield str(path)


def _empty_postgresql_tables(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            # As the database owner, skip the triggers that keep the audit trail append-only.
            conn.exec_driver_sql("SET session_replication_role = replica")
            tables = [t.name for t in db.metadata.sorted_tables]
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
            conn.exec_driver_sql("INSERT INTO log_head (id, size) VALUES (1, 0)")  # as migrated
            conn.exec_driver_sql("SET session_replication_role = DEFAULT")
        db.engine.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    if PG_URL:
        return database_template
    path = tmp_path / "casework.sqlite"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the schema: a SQLite file, or a PostgreSQL schema
    of its own (dropped afterwards). Ask for it before `make_app`, which may clean it up."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    schema = f"cw_empty_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(autouse=True)
def signing_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's log signing key lives in its own folder (made only when a test asks)."""
    path = tmp_path / "log_signing_key"
    monkeypatch.setenv("CASEWORK_SIGNING_KEY_FILE", str(path))
    return path


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build apps on this test's database (a test may need several, e.g. for other settings)."""
    apps: list[Flask] = []

    def build(**config: Any) -> Flask:
        app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url, **config})
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if PG_URL and apps:
        _empty_postgresql_tables(apps[0])


@pytest.fixture
def app(make_app: Any) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


class Cast:
    """The standard users, their API tokens and people, made once per test."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.tokens: dict[str, str] = {}
        self.person_ids: dict[str, int] = {}
        with app.app_context():
            for username, roles in CAST.items():
                user = create_user(username, roles, display_name=username.title())
                self.tokens[username] = issue_token(user)
                if username != "admin":
                    person = create_person(
                        f"{username.title()} Person", f"E-{username}", "Main Library", username
                    )
                    self.person_ids[username] = person.id
            outsider = create_person("Olive Outsider", "E-olive", "Lucasville Branch")
            self.person_ids["olive"] = outsider.id
            db.session.commit()

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def add_user(self, username: str, *roles: str, person: bool = True) -> None:
        with self.app.app_context():
            user = create_user(username, list(roles))
            self.tokens[username] = issue_token(user)
            if person:
                self.person_ids[username] = create_person(
                    username.title(), f"E-{username}", "", username
                ).id
            db.session.commit()

    def user(self, username: str) -> User:
        found = db.session.execute(sa.select(User).where(User.username == username)).scalar_one()
        return found

    def person(self, key: str) -> Person:
        found = db.session.get(Person, self.person_ids[key])
        assert found is not None
        return found


@pytest.fixture
def cast(app: Flask) -> Cast:
    return Cast(app)


class Api:
    """Calls the JSON API as one of the cast."""

    def __init__(self, client: FlaskClient, cast: Cast) -> None:
        self.client = client
        self.cast = cast

    def get(self, path: str, user: str | None = None, **kw: Any) -> Any:
        headers = self.cast.headers(user) if user else {}
        return self.client.get(f"/api/v1{path}", headers=headers, **kw)

    def post(self, path: str, user: str | None = None, **kw: Any) -> Any:
        headers = self.cast.headers(user) if user else {}
        return self.client.post(f"/api/v1{path}", headers=headers, **kw)

    def open(self, user: str, workflow: str, **fields: Any) -> dict[str, Any]:
        """Open a case and return its JSON; fails the test if it is refused."""
        response = self.post("/cases", user, json={"workflow": workflow, "fields": fields})
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def fire(
        self, user: str, number: str, trigger: str, version: int | None = None, **fields: Any
    ) -> Any:
        if version is None:
            version = self.version(number)
        return self.post(
            f"/cases/{number}/transitions",
            user,
            json={"trigger": trigger, "version": version, "fields": fields},
        )

    def version(self, number: str) -> int:
        """The case's current version, read from the database (whoever may see it)."""
        with self.cast.app.app_context():
            found: int = db.session.execute(
                sa.select(Case.version).where(Case.number == number)
            ).scalar_one()
            return found

    def ok(self, user: str, number: str, trigger: str, **fields: Any) -> dict[str, Any]:
        response = self.fire(user, number, trigger, **fields)
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body


@pytest.fixture
def api(client: FlaskClient, cast: Cast) -> Api:
    return Api(client, cast)


@pytest.fixture
def api_for(cast: Cast) -> Any:
    """An `Api` on another app of this test (one built by `make_app` with other settings)."""

    def build(app: Flask) -> Api:
        return Api(app.test_client(), cast)

    return build


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The `casework` command line as a user runs it (its own app, from the environment): call
    it with the arguments and the exit code expected; it returns what was printed."""
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "cli-test-key")
    monkeypatch.setenv("CASEWORK_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("CASEWORK_ARGON2_MEMORY_KIB", "1024")

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        output: str = result.output
        return output

    return run
