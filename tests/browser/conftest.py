"""Browser tests: a real Casework server on loopback, and Debian's Chromium driven by Playwright.

The server runs in a thread on 127.0.0.1 and a free port, on its own database (a SQLite copy of
the migrated template, or a PostgreSQL schema of its own) filled with the demo data. Every page a
test opens is checked with axe-core and saved, as a screenshot and as its HTML (which CI gives to
the W3C HTML checker), under test-artifacts/browser/.

Without Chromium these tests are skipped, with one line saying how to get it; CI sets
CASEWORK_REQUIRE_BROWSER=1, which makes a missing Chromium a failure instead.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, sync_playwright
from werkzeug.serving import make_server

from casework import create_app
from casework.extensions import db

from .livesite import ARTIFACTS, Site, Tab

PG_URL = os.environ.get("CASEWORK_TEST_DATABASE_URL")
REQUIRE_BROWSER = os.environ.get("CASEWORK_REQUIRE_BROWSER") == "1"
MISSING = (
    "Chromium not found: apt-get install chromium (or set CASEWORK_CHROMIUM to its path) "
    "to run the browser tests"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    """CASEWORK_CHROMIUM when set, else Debian's (or any) `chromium` on the PATH."""
    named = os.environ.get("CASEWORK_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM = find_chromium()
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, skip the browser tests (CI, which requires them, lets them fail)."""
    if CHROMIUM or REQUIRE_BROWSER:
        return
    skip = pytest.mark.skip(reason=MISSING)
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Report every such skip from this one place, so the summary gives it one line."""
    report = yield
    if report.skipped and CHROMIUM is None and HERE in item.path.parents:
        report.longrepr = (__file__, None, f"Skipped: {MISSING}")
    return report


@pytest.fixture(scope="session")
def site_database(
    database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database for the live server alone, migrated, with nothing in it yet."""
    if not PG_URL:
        path = tmp_path_factory.mktemp("browser") / "site.sqlite"
        path.write_bytes(Path(database_template).read_bytes())
        yield f"sqlite:///{path}"
        return
    from casework.extensions import upgrade_schema

    schema = f"cw_browser_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    app = create_app({"SECRET_KEY": "x", "DATABASE_URL": url})
    with app.app_context():
        upgrade_schema()
        db.session.remove()
        db.engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(scope="session")
def site(site_database: str) -> Iterator[Site]:
    """The demo library, served over HTTP on loopback for the whole browser session."""
    from casework.demo import seed

    app = create_app(
        {
            "DATABASE_URL": site_database,
            "SECRET_KEY": "browser-test-key",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024,
            # As `casework demo` serves it; the two-factor test asks for it for its own user.
            "SECOND_FACTOR_ROLES": "",
        }
    )
    with app.app_context():
        accounts = {a.username: a.password for a in seed()}
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(app, f"http://127.0.0.1:{server.server_port}", accounts)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.fail(f"CASEWORK_REQUIRE_BROWSER=1: {MISSING}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.html")]:
        old.unlink()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def tab(site: Site, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """A fresh browser window (its own cookies) at desktop size."""
    opened = Tab.open(site, browser, request.node.name)
    yield opened
    opened.close()


@pytest.fixture
def new_tab(site: Site, browser: Browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """More windows, e.g. a phone-sized one or a second person at the same time."""
    tabs: list[Tab] = []

    def make(**options: object) -> Tab:
        opened = Tab.open(site, browser, f"{request.node.name}-{len(tabs) + 2}", **options)
        tabs.append(opened)
        return opened

    yield make
    for opened in tabs:
        opened.close()
