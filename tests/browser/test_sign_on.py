"""Signing on through a real OpenID provider (oidc-provider-mock) in the browser, with the
keyboard on Casework's pages; axe-core checks each of them (the provider's own are not ours)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import oidc_provider_mock
import pytest
import requests
from playwright.sync_api import Browser
from werkzeug.serving import make_server

from casework import create_app
from casework.extensions import db

from .livesite import Site, Tab


@dataclass
class SignOnSite(Site):
    issuer: str = ""


class Later:
    """A WSGI app that serves the app given later (the app needs its own address first)."""

    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


def serve(app: Any, host: str) -> tuple[Any, threading.Thread]:
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def sign_on_site(site: Site, site_database: str) -> Iterator[SignOnSite]:
    """The demo library served a second time, signing on through a provider on loopback, with
    local passwords off but for the break-glass administrator.

    The provider is on `localhost` and Casework on 127.0.0.1: other hosts, other cookies, so
    coming back from the provider is a request from another site, as it is for real.
    """
    provider, provider_thread = serve(oidc_provider_mock.app(), "localhost")
    issuer = f"http://localhost:{provider.server_port}"
    later = Later()
    casework, casework_thread = serve(later, "127.0.0.1")
    base_url = f"http://127.0.0.1:{casework.server_port}"
    later.app = create_app(
        {
            "DATABASE_URL": site_database,
            "SECRET_KEY": "browser-test-key",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024,
            "BASE_URL": base_url,
            "OIDC_ISSUER": issuer,
            "OIDC_CLIENT_ID": "casework",
            "OIDC_CLIENT_SECRET": "browser-secret",
            "OIDC_BUTTON_LABEL": "Sign in with Microsoft",
            "LOCAL_PASSWORDS": False,
            "BREAK_GLASS": "admin",
        }
    )
    try:
        yield SignOnSite(later.app, base_url, site.passwords, issuer)
    finally:
        for server, thread in ((casework, casework_thread), (provider, provider_thread)):
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
        with later.app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def sso_tab(
    sign_on_site: SignOnSite, browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Tab]:
    opened = Tab.open(sign_on_site, browser, request.node.name)
    yield opened
    opened.close()


def at_provider(tab: Tab, sub: str, **claims: Any) -> None:
    """Press the sign-on button by keyboard and sign in at the provider as `sub`."""
    assert isinstance(tab.site, SignOnSite)
    issuer = tab.site.issuer
    if claims:
        answer = requests.put(f"{issuer}/users/{quote(sub, safe='')}", json=claims, timeout=10)
        assert answer.status_code == 204
    tab.goto("/sign-in", "sign-in with sign-on")
    tab.press_on('main form button[type="submit"]:text-is("Sign in with Microsoft")')
    assert tab.page.url.startswith(issuer), tab.page.url
    tab.page.get_by_placeholder("sub").fill(sub)
    with tab.page.expect_navigation():
        tab.page.get_by_role("button", name="Authorize").click()
    # What the provider's own page logged (it asks for a style sheet off the network) is not
    # Casework's: the pages checked from here on are.
    tab.problems.clear()


def test_staff_sign_on_through_the_provider(sso_tab: Tab) -> None:
    at_provider(sso_tab, "entra-librarian", email="librarian@library.example", email_verified=True)
    assert sso_tab.page.url == f"{sso_tab.site.base_url}/", sso_tab.page.url
    sso_tab.check("queue after sign-on")
    sso_tab.goto("/account", "account after sign-on")
    assert "librarian" in sso_tab.text()


def test_someone_casework_does_not_know_gets_a_clear_page(sso_tab: Tab) -> None:
    at_provider(sso_tab, "entra-stranger", email="stranger@example.org", email_verified=True)
    assert sso_tab.document is not None and sso_tab.document.status == 403
    sso_tab.check("sign-on refused")
    assert "Signing on does not create accounts" in sso_tab.text()


def test_the_break_glass_administrator_signs_in_with_a_password(sso_tab: Tab) -> None:
    sso_tab.goto("/sign-in", "sign-in, passwords off")
    assert "Casework passwords are switched off here" in sso_tab.text()
    sso_tab.tab_to("details.break-glass summary")
    sso_tab.page.keyboard.press("Enter")
    sso_tab.check("break-glass form open")
    sso_tab.type_into("#username", "admin")
    sso_tab.type_into("#password", sso_tab.site.passwords["admin"])
    with sso_tab.page.expect_navigation():
        sso_tab.page.keyboard.press("Enter")
    assert "/sign-in" not in sso_tab.page.url, sso_tab.text()
    sso_tab.check("administrator signed in")
