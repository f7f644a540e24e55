"""Signing in and out: sessions, their generation, throttling, forced password changes."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import sqlalchemy as sa
from webpages import PASSWORD, Visitor, csrf_token, set_password

from casework.extensions import db
from casework.models import ThrottleHit, User
from casework.services import limits


def user_row(app, username):
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one()
        db.session.expunge(user)
        return user


def test_a_page_sends_a_stranger_to_sign_in_and_back(app, cast):
    client = app.test_client()
    response = client.get("/cases/CMP-2026-0001?x=1")
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]
    set_password(app, "librarian")
    page = client.get(response.headers["Location"])
    signed = client.post(
        response.headers["Location"],
        data={"csrf_token": csrf_token(page.text), "username": "librarian", "password": PASSWORD},
    )
    assert signed.status_code == 302
    assert signed.headers["Location"] == "/cases/CMP-2026-0001?x=1"


def failures(app, name, address="127.0.0.1"):
    """Failed sign-ins counted for the name from the address."""
    with app.app_context():
        key = limits.sign_in_keys(name, address)[0]
        return db.session.execute(
            sa.select(sa.func.count()).select_from(ThrottleHit).where(ThrottleHit.key == key)
        ).scalar_one()


def age_failures(app, by):
    """Move every counted attempt back in time, as if `by` had passed."""
    with app.app_context():
        for row in db.session.execute(sa.select(ThrottleHit)).scalars():
            row.at = row.at - by
        db.session.commit()


def test_wrong_password_is_refused_and_counted(app, cast):
    visitor = Visitor(app)
    set_password(app, "librarian")
    response = visitor.sign_in("librarian", "not the password", set_it=False)
    assert response.status_code == 401
    assert "The user name or password is not right." in response.text
    assert 'aria-invalid="true"' in response.text
    assert failures(app, "librarian") == 1
    unknown = visitor.sign_in("nobody-here", "whatever", set_it=False)
    assert unknown.status_code == 401
    assert "The user name or password is not right." in unknown.text


def test_five_failures_in_a_row_throttle_and_are_logged(app, cast, caplog):
    visitor = Visitor(app)
    set_password(app, "director")
    statuses = [
        visitor.sign_in("director", f"wrong {i}", set_it=False).status_code for i in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    assert any("sign-in refused for 'director'" in r.getMessage() for r in caplog.records)
    with caplog.at_level(logging.WARNING):
        right = visitor.sign_in("director", PASSWORD, set_it=False)
    assert right.status_code == 429, "the right password does not help while locked"
    assert "Too many failed sign-ins" in right.text
    assert int(right.headers["Retry-After"]) > 0
    assert failures(app, "director") == 5
    # Once the window has passed, the right password works and the count starts again.
    age_failures(app, timedelta(minutes=16))
    assert visitor.sign_in("director", PASSWORD, set_it=False).status_code == 302
    assert failures(app, "director") == 0


def test_a_success_resets_the_count(app, cast):
    visitor = Visitor(app)
    set_password(app, "hr")
    for _ in range(4):
        visitor.sign_in("hr", "wrong", set_it=False)
    assert visitor.sign_in("hr", PASSWORD, set_it=False).status_code == 302
    assert failures(app, "hr") == 0


def test_signing_in_starts_a_new_session(app, cast):
    client = app.test_client()
    set_password(app, "staff")
    page = client.get("/sign-in")
    before = csrf_token(page.text)
    client.post("/sign-in", data={"csrf_token": before, "username": "staff", "password": PASSWORD})
    # The token of the session before sign-in no longer works: nothing carried over.
    stale = client.post("/sign-out", data={"csrf_token": before})
    assert stale.status_code == 400
    assert "security token" in stale.text
    assert client.get("/").status_code == 200


def test_signing_out_ends_every_session_of_the_user(app, cast):
    desk = Visitor(app, "librarian")
    phone = Visitor(app)
    phone.sign_in("librarian", set_it=False)
    assert phone.get("/").status_code == 200
    out = desk.post("/sign-out")
    assert out.status_code == 302
    assert desk.get("/").status_code == 302
    assert phone.get("/").status_code == 302, "the other device is signed out too"
    assert user_row(app, "librarian").session_generation == 1


def test_sign_out_needs_a_post_with_the_token(app, cast):
    visitor = Visitor(app, "librarian")
    assert visitor.get("/sign-out").status_code == 405
    assert visitor.client.post("/sign-out").status_code == 400
    assert visitor.get("/").status_code == 200


def test_changing_the_password_ends_other_sessions_but_keeps_this_one(app, cast):
    here = Visitor(app, "hr")
    there = Visitor(app)
    there.sign_in("hr", set_it=False)
    bad = here.post(
        "/account/password",
        {
            "current_password": "wrong",
            "new_password": "short",
            "confirm_password": "different",
        },
    )
    assert bad.status_code == 422
    assert "This is not your current password." in bad.text
    assert "Use at least 10 characters." in bad.text
    ok = here.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert ok.status_code == 302
    assert here.get("/").status_code == 200
    assert there.get("/").status_code == 302
    fresh = Visitor(app)
    assert fresh.sign_in("hr", "a brand new passphrase", set_it=False).status_code == 302


def test_disabling_a_user_ends_their_sessions(app, cast):
    worker = Visitor(app, "staff")
    admin = Visitor(app, "admin")
    staff_id = user_row(app, "staff").id
    response = admin.post(f"/admin/users/{staff_id}/active", {"active": "0"})
    assert response.status_code == 302
    assert worker.get("/").status_code == 302
    assert Visitor(app).sign_in("staff", set_it=False).status_code == 401
    admin_id = user_row(app, "admin").id
    refused = admin.post(f"/admin/users/{admin_id}/active", {"active": "0"})
    assert refused.status_code == 422
    assert user_row(app, "admin").active


def test_a_new_user_must_choose_a_password_first(app, cast):
    admin = Visitor(app, "admin")
    created = admin.post(
        "/admin/users/new",
        {"username": "newhire", "display_name": "New Hire", "roles": ["librarian_in_charge"]},
    )
    assert created.status_code == 200
    password = re.search(r"<code>([^<]+)</code>", created.text).group(1)
    assert user_row(app, "newhire").must_change_password
    newbie = Visitor(app)
    signed = newbie.sign_in("newhire", password, set_it=False)
    assert signed.status_code == 302 and signed.headers["Location"] == "/account/password"
    assert newbie.get("/cases").headers["Location"] == "/account/password"
    page = newbie.get("/account/password")
    newbie.token = csrf_token(page.text)
    changed = newbie.post(
        "/account/password",
        {
            "current_password": password,
            "new_password": "my own good password",
            "confirm_password": "my own good password",
        },
    )
    assert changed.status_code == 302
    assert newbie.get("/cases").status_code == 200
    assert not user_row(app, "newhire").must_change_password


def test_a_reset_password_is_shown_once_and_ends_sessions(app, cast):
    worker = Visitor(app, "social")
    admin = Visitor(app, "admin")
    social_id = user_row(app, "social").id
    reset = admin.post(f"/admin/users/{social_id}/password")
    assert reset.status_code == 200
    password = re.search(r"<code>([^<]+)</code>", reset.text).group(1)
    assert worker.get("/").status_code == 302
    assert Visitor(app).sign_in("social", password, set_it=False).headers["Location"] == (
        "/account/password"
    )


def test_sign_in_goes_only_to_local_pages(app, cast):
    set_password(app, "staff")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        client = app.test_client()
        page = client.get("/sign-in")
        response = client.post(
            f"/sign-in?next={target}",
            data={"csrf_token": csrf_token(page.text), "username": "staff", "password": PASSWORD},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target


def test_a_form_without_its_token_changes_nothing(app, cast, api):
    case = api.open("librarian", "complaint", summary="Hours wrong", channel="facebook")
    visitor = Visitor(app, "librarian")
    response = visitor.client.post(
        f"/cases/{case['number']}/notes", data={"text": "written without a token"}
    )
    assert response.status_code == 400
    assert "<h1>" in response.text and "Nothing was saved" in response.text
    events = api.get(f"/cases/{case['number']}/events", "librarian").get_json()["items"]
    assert all(e["action"] != "note" for e in events)
