"""Two-factor sign-in: setting up an authenticator app, codes accepted once, wrong codes
throttled, recovery codes, roles that must use it, and an administrator's reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import sqlalchemy as sa
from webpages import PASSWORD, Visitor, csrf_token, set_password

from casework.extensions import db
from casework.models import AdministrationEvent, OutboxMessage, RecoveryCode, User

REQUIRED = "director,hr,trustee,admin"


def code(secret: str, steps: int = 0) -> str:
    """The app's code `steps` time steps from now (-1: the one before)."""
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps))


def secret_on(page) -> str:
    found = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
    assert found, "the page shows the key as text"
    return found.group(1).replace(" ", "")


def enrol(visitor: Visitor, **extra) -> tuple[str, list[str]]:
    """Set up the app on the account page; (its secret, the recovery codes shown)."""
    page = visitor.get("/account/two-factor")
    assert page.status_code == 200
    assert "<svg" in page.text and 'role="img"' in page.text, "the QR code is drawn in the page"
    secret = secret_on(page)
    # The code of the step before now: a sign-in right after may use the current one.
    done = visitor.post("/account/two-factor", {"code": code(secret, -1), **extra})
    assert done.status_code == 200, done.text[:2000]
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


def password_step(app, username: str, client=None):
    """A browser that has given the right password; its answer."""
    client = client or app.test_client()
    page = client.get("/sign-in")
    answer = client.post(
        "/sign-in",
        data={"csrf_token": csrf_token(page.text), "username": username, "password": PASSWORD},
    )
    return client, answer


def give_code(client, value: str):
    page = client.get("/sign-in/code")
    assert page.status_code == 200
    return client.post("/sign-in/code", data={"csrf_token": csrf_token(page.text), "code": value})


def trail(app, username: str) -> list[str]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(AdministrationEvent.action)
            .where(AdministrationEvent.subject == username)
            .order_by(AdministrationEvent.seq)
        ).scalars()
        return list(rows)


def mail_to(app, address: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.execute(
                sa.select(OutboxMessage.subject).where(OutboxMessage.recipient == address)
            ).scalars()
        )


def test_enrolment_then_signing_in_asks_for_the_apps_code(app, cast):
    set_password(app, "staff", email="staff@library.example")
    visitor = Visitor(app, "staff")
    secret, _ = enrol(visitor)
    assert trail(app, "staff")[-1] == "second_factor_enrolled"
    assert any("Two-factor sign-in set up" in s for s in mail_to(app, "staff@library.example"))
    assert "On since" in visitor.get("/account").text

    client, answer = password_step(app, "staff")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/sign-in/code")
    assert client.get("/").status_code == 302, "the password alone signs nobody in"
    assert client.get("/api/v1/cases").status_code == 401
    signed_in = give_code(client, code(secret))
    assert signed_in.status_code == 302 and "/sign-in" not in signed_in.headers["Location"]
    assert client.get("/").status_code == 200


def test_a_code_is_accepted_once(app, cast):
    set_password(app, "staff")
    secret, _ = enrol(Visitor(app, "staff"))
    now = code(secret)
    first, _ = password_step(app, "staff")
    assert give_code(first, now).status_code == 302
    second, _ = password_step(app, "staff")
    replayed = give_code(second, now)
    assert replayed.status_code == 401
    assert "used already" in replayed.text
    assert second.get("/").status_code == 302
    assert give_code(second, code(secret, 1)).status_code == 302, "the next code works"


def test_wrong_codes_are_throttled_and_a_right_password_does_not_reset_the_count(app, cast):
    set_password(app, "staff")
    secret, _ = enrol(Visitor(app, "staff"))
    client, _ = password_step(app, "staff")
    answers = [give_code(client, f"{n:06d}").status_code for n in range(111111, 111117)]
    assert answers == [401, 401, 401, 401, 429, 429]
    # The password again clears its own failures, not the code's: no endless guesses.
    client, again = password_step(app, "staff", client)
    assert again.status_code == 302
    refused = give_code(client, code(secret))
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Too many wrong codes" in refused.text
    assert client.get("/").status_code == 302


def test_a_recovery_code_works_once_instead_of_the_app(app, cast):
    set_password(app, "staff", email="staff@library.example")
    _, codes = enrol(Visitor(app, "staff"))
    client, _ = password_step(app, "staff")
    used = give_code(client, codes[3].upper().replace("-", " "))
    assert used.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "signed in with a recovery code" in home.text and "9 are left" in home.text
    assert trail(app, "staff")[-1] == "recovery_code_used"
    assert any("Recovery code used" in s for s in mail_to(app, "staff@library.example"))
    with app.app_context():
        left = db.session.execute(
            sa.select(sa.func.count()).where(RecoveryCode.used_at.is_(None))
        ).scalar_one()
        stored = db.session.execute(sa.select(RecoveryCode.code_hash)).scalars().all()
    assert left == 9
    assert all(h.startswith("$argon2") for h in stored), "recovery codes are stored hashed"
    again, _ = password_step(app, "staff")
    assert give_code(again, codes[3]).status_code == 401, "a recovery code works once"
    assert give_code(again, codes[4]).status_code == 302


def test_required_roles_set_up_the_app_before_anything_else(make_app, cast):
    app = make_app(SECOND_FACTOR_ROLES=REQUIRED)
    visitor = Visitor(app, "director")
    assert visitor.get("/account").status_code == 302
    for path in ("/", "/cases", "/account"):
        answer = visitor.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith(
            "/account/two-factor"
        ), path
    assert visitor.get("/api/v1/cases").status_code == 403
    assert "two-factor" in visitor.get("/api/v1/cases").get_json()["error"]["message"]
    page = visitor.get("/account/two-factor")
    visitor.token = csrf_token(page.text)
    secret, _ = enrol(visitor)
    assert visitor.get("/").status_code == 200
    # Staff are offered it and not made to.
    assert Visitor(app, "staff").get("/").status_code == 200
    # From now on the director's sign-in asks for the code.
    client, answer = password_step(app, "director")
    assert answer.headers["Location"].endswith("/sign-in/code")
    assert give_code(client, code(secret)).status_code == 302


def test_replacing_the_app_needs_the_password_and_ends_the_old_one(app, cast):
    set_password(app, "staff", email="staff@library.example")
    visitor = Visitor(app, "staff")
    old, old_codes = enrol(visitor)
    page = visitor.get("/account/two-factor")
    assert "Replace your authenticator app" in page.text
    new = secret_on(page)
    assert new != old
    wrong = visitor.post(
        "/account/two-factor", {"code": code(new, -1), "current_password": "not it at all"}
    )
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    enrol(visitor, current_password=PASSWORD)
    assert trail(app, "staff")[-1] == "second_factor_replaced"
    assert any("Authenticator app replaced" in s for s in mail_to(app, "staff@library.example"))
    client, _ = password_step(app, "staff")
    assert give_code(client, code(old)).status_code == 401, "the old app no longer works"
    assert give_code(client, old_codes[0]).status_code == 401, "nor do the old recovery codes"


def test_it_resets_a_second_factor_recorded_and_mailed_but_never_its_own(app, cast):
    set_password(app, "staff", email="staff@library.example")
    enrol(Visitor(app, "staff"))
    admin = Visitor(app, "admin")
    with app.app_context():
        staff_id = db.session.execute(sa.select(User.id).where(User.username == "staff")).scalar()
        admin_id = db.session.execute(sa.select(User.id).where(User.username == "admin")).scalar()
    assert "Two-factor sign-in: on" in admin.get(f"/admin/users/{staff_id}").text
    done = admin.post(f"/admin/users/{staff_id}/second-factor")
    assert done.status_code == 302
    assert trail(app, "staff")[-1] == "second_factor_reset"
    assert any("Two-factor sign-in reset" in s for s in mail_to(app, "staff@library.example"))
    _, answer = password_step(app, "staff")
    assert answer.status_code == 302 and not answer.headers["Location"].endswith("/sign-in/code")
    own = admin.post(f"/admin/users/{admin_id}/second-factor")
    assert own.status_code == 403
    assert "Nobody resets their own second factor" in own.text
    assert trail(app, "admin").count("second_factor_reset") == 0
