"""Two-factor sign-in and API tokens in a real browser, with the keyboard alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
import pytest

from casework.extensions import db
from casework.services.tokens import issue_token
from casework.services.users import create_user, find_user

from .livesite import Tab

PASSWORD = "a trustee's long passphrase"


def step_now() -> int:
    return int(datetime.now(UTC).timestamp()) // 30


def code(secret: str, step: int) -> str:
    """The app's code for a time step (typing it takes a while: a step may pass meanwhile)."""
    return pyotp.TOTP(secret).generate_otp(step)


def give_password(tab: Tab, username: str) -> None:
    tab.page.goto("/sign-in")
    tab.type_into("#username", username)
    tab.type_into("#password", tab.site.passwords[username])
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")


def submit(tab: Tab, selector: str, text: str) -> None:
    tab.type_into(selector, text)
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")


def sign_out(tab: Tab) -> None:
    tab.page.goto("/account")
    tab.press_on('main form button[type="submit"]:text-is("Sign out everywhere")')


def test_a_trustee_sets_up_the_app_signs_in_with_codes_and_revokes_a_token(
    tab: Tab, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tab.site
    monkeypatch.setitem(site.app.config, "SECOND_FACTOR_ROLES", "trustee")
    with site.app.app_context():
        user = create_user("trustee2", ["trustee"], password=PASSWORD, display_name="Ida Trust")
        issue_token(user, name="board reports")
        db.session.commit()
    site.passwords["trustee2"] = PASSWORD

    # The trustee's role needs the app: nothing else opens until it is set up.
    give_password(tab, "trustee2")
    assert tab.page.url.endswith("/account/two-factor")
    tab.check("two-factor setup")
    assert tab.page.locator("figure.qr svg[role=img]").count() == 1
    secret = tab.page.inner_text("#totp-secret").replace(" ", "")
    tab.page.goto("/cases")
    assert tab.page.url.endswith("/account/two-factor")
    enrolled = step_now()
    submit(tab, "#code", code(secret, enrolled))
    tab.check("recovery codes")
    codes = re.findall(r"[a-z0-9]{5}-[a-z0-9]{5}", tab.text())
    assert len(codes) == 10
    tab.press_on('main a:text-is("I have kept them: go on")')
    tab.check("account with two-factor on")
    assert "On since" in tab.text()

    # Signing in again asks for the app's code after the password.
    sign_out(tab)
    give_password(tab, "trustee2")
    assert tab.page.url.endswith("/sign-in/code")
    tab.check("code page")
    submit(tab, "#code", code(secret, max(step_now(), enrolled + 1)))
    assert "/sign-in" not in tab.page.url
    tab.check("signed in with the app")

    # A recovery code instead of the phone, once.
    sign_out(tab)
    give_password(tab, "trustee2")
    submit(tab, "#code", codes[0])
    assert "/sign-in" not in tab.page.url
    tab.check("signed in with a recovery code")
    assert "recovery code" in tab.text()

    # The token is listed on the account page and revoked there.
    tab.goto("/account", "account with a token")
    assert "board reports" in tab.text()
    tab.press_on('main form button[type="submit"]:has-text("Revoke")')
    tab.check("token revoked")
    assert "is revoked" in tab.text()
    with site.app.app_context():
        found = find_user("trustee2")
        assert found is not None
        from casework.services.tokens import tokens_of

        assert tokens_of(found) == []
        db.session.rollback()
