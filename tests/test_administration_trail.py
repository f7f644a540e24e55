"""The administration trail: every change to a user account recorded, chained, overseen.

Nobody changes their own roles; each change to an account is an event the Director, HR and the
trustees are told of by e-mail; `audit verify` names any tampering with the trail; tokens end
with their owner's password; and two accounts of one person give one approval, not two.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import CAST
from sqlalchemy.exc import DBAPIError
from tampering import tamper
from webpages import PASSWORD, Visitor, csrf_token, set_password

from casework.cli import main
from casework.extensions import db
from casework.models import AdministrationEvent, AdministrationHead, OutboxMessage, User
from casework.services.administration import check_trail
from casework.services.verification import verify_chains

#: The cast's users and their tokens, as conftest makes them.
CAST_EVENTS = 2 * len(CAST)


def user_id(app, username):
    with app.app_context():
        return db.session.execute(sa.select(User.id).where(User.username == username)).scalar_one()


def trail(app, after=CAST_EVENTS):
    """(actor, action, subject, data) of each event after the first `after`."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(AdministrationEvent)
            .where(AdministrationEvent.seq > after)
            .order_by(AdministrationEvent.seq)
        ).scalars()
        found = [(e.actor, e.action, e.subject, e.data) for e in rows]
        db.session.rollback()
        return found


def roles_of(app, username):
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one()
        return user.assigned_roles


def give_addresses(app):
    with app.app_context():
        for user in db.session.execute(sa.select(User)).scalars():
            user.email = f"{user.username}@library.example"
        db.session.commit()


def outbox(app):
    """(recipient, subject, text) of every queued message."""
    with app.app_context():
        rows = db.session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
        found = [(m.recipient, m.subject, m.body_text, m.kind) for m in rows]
        db.session.rollback()
        return found


def user_form(visitor, user_id_, **changes):
    page = visitor.get(f"/admin/users/{user_id_}")
    assert page.status_code == 200
    name = re.search(r'name="display_name"[^>]*value="([^"]*)"', page.text)
    email = re.search(r'name="email"[^>]*value="([^"]*)"', page.text)
    roles = re.findall(r'name="roles"[^>]*value="([^"]+)"[^>]*checked', page.text)
    form = {
        "display_name": name.group(1) if name else "",
        "email": email.group(1) if email else "",
        "roles": roles,
    }
    form.update(changes)
    return visitor.post(f"/admin/users/{user_id_}", form)


# --- nobody changes their own roles -----------------------------------------------------------


@pytest.mark.parametrize("role", ["director", "hr", "trustee"])
def test_the_administrator_cannot_give_themselves_a_role_that_reads_personnel_cases(
    app, cast, role
):
    admin = Visitor(app, "admin")
    response = user_form(admin, user_id(app, "admin"), roles=["admin", role])
    assert response.status_code == 403
    assert "own roles" in response.text
    assert roles_of(app, "admin") == ["admin"]
    assert trail(app) == []


def test_nobody_takes_their_own_roles_away_either_but_may_change_their_own_address(app, cast):
    with app.app_context():
        admin = cast.user("admin")
        admin.set_roles(["admin", "staff"])
        db.session.commit()
    visitor = Visitor(app, "admin")
    refused = user_form(visitor, user_id(app, "admin"), roles=["admin"])
    assert refused.status_code == 403
    assert roles_of(app, "admin") == ["admin", "staff"]
    saved = user_form(visitor, user_id(app, "admin"), email="it@library.example")
    assert saved.status_code == 302
    assert [(a, act) for a, act, _, _ in trail(app)] == [("admin", "email_changed")]


def test_the_user_page_says_ones_own_roles_are_changed_by_another_administrator(app, cast):
    page = Visitor(app, "admin").get(f"/admin/users/{user_id(app, 'admin')}")
    assert "another administrator" in page.text


# --- every change is an event -------------------------------------------------------------


def test_every_administration_action_on_the_pages_is_an_event_in_the_trail(app, cast):
    admin = Visitor(app, "admin")
    page = admin.get("/admin/users/new")
    added = admin.post(
        "/admin/users/new",
        {
            "csrf_token": csrf_token(page.text),
            "username": "newhire",
            "display_name": "New Hire",
            "email": "newhire@library.example",
            "roles": ["staff"],
        },
    )
    assert added.status_code == 200
    target = user_id(app, "newhire")
    assert user_form(admin, target, roles=["staff", "director"]).status_code == 302
    assert user_form(admin, target, roles=["staff"]).status_code == 302
    assert user_form(admin, target, email="hire@library.example").status_code == 302
    assert user_form(admin, target, display_name="Nina Hire").status_code == 302
    assert admin.post(f"/admin/users/{target}/password").status_code == 200
    assert admin.post(f"/admin/users/{target}/sessions").status_code == 302
    assert admin.post(f"/admin/users/{target}/active", {"active": "0"}).status_code == 302
    assert admin.post(f"/admin/users/{target}/active", {"active": "1"}).status_code == 302
    found = trail(app)
    assert [(actor, action, subject) for actor, action, subject, _ in found] == [
        ("admin", "user_added", "newhire"),
        ("admin", "roles_changed", "newhire"),
        ("admin", "roles_changed", "newhire"),
        ("admin", "email_changed", "newhire"),
        ("admin", "name_changed", "newhire"),
        ("admin", "password_reset", "newhire"),
        ("admin", "sessions_ended", "newhire"),
        ("admin", "user_disabled", "newhire"),
        ("admin", "user_enabled", "newhire"),
    ]
    data = [d for _, _, _, d in found]
    assert data[0]["roles"] == ["staff"]
    assert data[1]["granted"] == ["director"] and data[1]["removed"] == []
    assert data[2]["granted"] == [] and data[2]["removed"] == ["director"]
    assert data[3] == {"from": "newhire@library.example", "to": "hire@library.example"}
    assert data[4] == {"from": "New Hire", "to": "Nina Hire"}
    assert not any("password" in str(value) for d in data for value in d.values())
    with app.app_context():
        assert check_trail().ok


def test_a_refused_change_records_nothing(app, cast):
    admin = Visitor(app, "admin")
    response = user_form(admin, user_id(app, "staff"), roles=["wizard"])
    assert response.status_code == 422
    assert trail(app) == []


def test_the_command_line_records_its_changes_as_cli_and_the_system_user(
    app, cast, monkeypatch, database_url
):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    monkeypatch.setenv("USER", "itdesk")
    monkeypatch.setenv("LOGNAME", "itdesk")
    runner = app.test_cli_runner()
    added = runner.invoke(main, ["users", "add", "dana", "--role", "director"])
    assert added.exit_code == 0, added.output
    issued = runner.invoke(main, ["users", "token", "staff"])
    assert issued.exit_code == 0, issued.output
    assert [(a, act, s) for a, act, s, _ in trail(app)] == [
        ("cli:itdesk", "user_added", "dana"),
        ("cli:itdesk", "token_issued", "staff"),
    ]


# --- the overseers are told ---------------------------------------------------------------


def test_the_director_hr_and_the_trustees_are_told_of_each_event_at_once(app, cast):
    give_addresses(app)
    admin = Visitor(app, "admin")
    assert (
        user_form(admin, user_id(app, "librarian"), roles=["librarian_in_charge", "hr"]).status_code
        == 302
    )
    messages = outbox(app)
    told = sorted(recipient for recipient, *_ in messages)
    assert told == sorted(
        f"{name}@library.example" for name in ("director", "hr", "trustee", "librarian")
    )
    for _, subject, text, kind in messages:
        assert kind == "administration"
        assert "Roles changed" in subject and "librarian" in subject
        assert "Gave librarian Human Resources." in text
        assert "By: admin" in text and "/administration-trail" in text


def test_an_address_change_is_also_sent_to_the_old_address(app, cast):
    give_addresses(app)
    admin = Visitor(app, "admin")
    target = user_id(app, "director")
    response = user_form(admin, target, email="attacker@elsewhere.example")
    assert response.status_code == 302
    told = [recipient for recipient, *_ in outbox(app)]
    assert "director@library.example" in told
    assert "attacker@elsewhere.example" in told
    assert {"hr@library.example", "trustee@library.example"} <= set(told)


def test_a_password_reset_of_the_director_tells_the_director_and_the_trustees(app, cast):
    give_addresses(app)
    admin = Visitor(app, "admin")
    assert admin.post(f"/admin/users/{user_id(app, 'director')}/password").status_code == 200
    told = {recipient for recipient, *_ in outbox(app)}
    assert {"director@library.example", "trustee@library.example", "hr@library.example"} <= told
    assert "staff@library.example" not in told


# --- the page ---------------------------------------------------------------------------------


def test_the_overseers_read_the_trail_on_its_page_and_others_do_not(app, cast):
    admin = Visitor(app, "admin")
    assert admin.post(f"/admin/users/{user_id(app, 'staff')}/sessions").status_code == 302
    for role in ("director", "hr", "trustee", "admin"):
        page = Visitor(app, role).get("/administration-trail")
        assert page.status_code == 200, role
        assert "Ended every session and API token of staff" in page.text
        assert "The trail checks out" in page.text
    for role in ("staff", "librarian", "social"):
        assert Visitor(app, role).get("/administration-trail").status_code == 403, role


def test_the_page_names_tampering(app, cast):
    tamper(app, ("UPDATE administration_events SET actor = 'director' WHERE seq = 2", {}))
    page = Visitor(app, "director").get("/administration-trail")
    assert "tampered with" in page.text and "Event 2" in page.text


# --- tampering --------------------------------------------------------------------------------


def broken(app):
    with app.app_context():
        result = verify_chains()
        db.session.rollback()
        return [(b.seq, b.problem) for b in result.administration.broken], result.ok


COLUMN_CHANGES = {
    "at": "UPDATE administration_events SET at = :at WHERE seq = 5",
    "actor": "UPDATE administration_events SET actor = 'director' WHERE seq = 5",
    "action": "UPDATE administration_events SET action = 'token_issued' WHERE seq = 5",
    "subject": "UPDATE administration_events SET subject = 'trustee' WHERE seq = 5",
    "data_json": "UPDATE administration_events SET data_json = :forged WHERE seq = 5",
    "prev_hash": "UPDATE administration_events SET prev_hash = :fake WHERE seq = 5",
    "hash": "UPDATE administration_events SET hash = :fake WHERE seq = 5",
    "seq": "UPDATE administration_events SET seq = 60 WHERE seq = 5",
}


@pytest.mark.parametrize("column", sorted(COLUMN_CHANGES))
def test_a_change_to_any_column_of_an_administration_event_is_named(app, cast, column):
    assert set(COLUMN_CHANGES) == {c.name for c in AdministrationEvent.__table__.columns} - {"id"}
    with app.app_context():
        at = db.session.execute(
            sa.select(AdministrationEvent.at).where(AdministrationEvent.seq == 5)
        ).scalar_one()
    params = {
        "fake": "f" * 64,
        "forged": '{"roles":["staff"]}',
        "at": (at + timedelta(microseconds=1)).replace(tzinfo=None),
    }
    assert broken(app) == ([], True)
    tamper(app, (COLUMN_CHANGES[column], params))
    found, ok = broken(app)
    assert not ok
    assert [seq for seq, _ in found] == [5], found


def test_a_deleted_administration_event_is_named(app, cast):
    tamper(app, ("DELETE FROM administration_events WHERE seq = 3", {}))
    found, ok = broken(app)
    assert not ok and found == [(3, "event 3 is missing (found 4 next)")]


def test_a_cut_tail_is_caught_by_the_head_kept_for_the_trail(app, cast):
    tamper(app, ("DELETE FROM administration_events WHERE seq > :keep", {"keep": CAST_EVENTS - 2}))
    found, ok = broken(app)
    assert not ok
    assert found == [
        (
            CAST_EVENTS - 1,
            f"events {CAST_EVENTS - 1}–{CAST_EVENTS} are missing (the trail was cut short)",
        )
    ]


def test_a_trail_rewritten_without_its_head_is_caught(app, cast):
    tamper(app, ("DELETE FROM administration_trail", {}))
    found, ok = broken(app)
    assert not ok and found == [(CAST_EVENTS, "the trail's head row is missing")]


def test_the_database_refuses_to_change_or_delete_administration_events(app, cast):
    with app.app_context():
        for statement in (
            "UPDATE administration_events SET actor = 'x'",
            "DELETE FROM administration_events",
            "DELETE FROM administration_trail",
        ):
            with pytest.raises(DBAPIError):
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(statement)
        assert verify_chains().ok


def test_cli_and_api_verify_report_the_administration_trail(
    app, cast, api, monkeypatch, database_url
):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    runner = app.test_cli_runner()
    clean = runner.invoke(main, ["audit", "verify"])
    assert clean.exit_code == 0
    assert f"administration trail: {CAST_EVENTS} events" in clean.output
    report = api.get("/audit/verify", "director").get_json()
    assert report["administration"] == {"events": CAST_EVENTS, "ok": True, "broken": []}
    tamper(app, ("UPDATE administration_events SET data_json = '{}' WHERE seq = 1", {}))
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN administration trail event 1: content does not match its hash" in result.output
    report = api.get("/audit/verify", "admin").get_json()
    assert report["ok"] is False and report["broken"] == []
    assert report["administration"]["ok"] is False
    assert report["administration"]["broken"][0]["seq"] == 1


def test_the_trail_goes_on_after_its_head_row_was_emptied_with_the_database(app, cast):
    """An emptied database (no events, no head) starts the trail again from its first event."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                conn.exec_driver_sql("DROP TRIGGER administration_events_no_delete")
                conn.exec_driver_sql("DROP TRIGGER administration_trail_no_delete")
            conn.exec_driver_sql("DELETE FROM administration_events")
            conn.exec_driver_sql("DELETE FROM administration_trail")
    admin = Visitor(app, "admin")
    assert admin.post(f"/admin/users/{user_id(app, 'staff')}/sessions").status_code == 302
    with app.app_context():
        check = check_trail()
        head = db.session.get(AdministrationHead, 1)
        assert check.ok and check.events == 1 and head is not None and head.head_seq == 1


# --- tokens end with their owner's password ---------------------------------------------------


def test_a_password_change_ends_every_token(app, cast, api):
    assert api.get("/cases", "staff").status_code == 200
    visitor = Visitor(app, "staff")
    page = visitor.get("/account/password")
    changed = visitor.client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(page.text),
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert changed.status_code == 302
    response = api.get("/cases", "staff")
    assert response.status_code == 401
    assert "password" in response.get_json()["error"]["message"]
    assert api.get("/cases", "librarian").status_code == 200  # nobody else's


@pytest.mark.parametrize(
    "action,form",
    [("password", {}), ("sessions", {}), ("active", {"active": "0"})],
    ids=["reset", "end-sessions", "disable"],
)
def test_an_administrator_ending_access_ends_every_token(app, cast, api, action, form):
    assert api.get("/cases", "staff").status_code == 200
    admin = Visitor(app, "admin")
    response = admin.post(f"/admin/users/{user_id(app, 'staff')}/{action}", form)
    assert response.status_code in (200, 302)
    assert api.get("/cases", "staff").status_code == 401
    assert api.get("/cases", "librarian").status_code == 200
    _, event, subject, data = trail(app)[-1]
    assert subject == "staff" and data["tokens_ended"] == 1


def test_one_who_must_change_a_one_time_password_cannot_use_the_api(app, cast, api):
    set_password(app, "librarian", must_change_password=True)
    by_token = api.get("/cases", "librarian")
    assert by_token.status_code == 403
    assert "Change your password first" in by_token.get_json()["error"]["message"]
    visitor = Visitor(
        app,
        "librarian",
    )
    by_cookie = visitor.get("/api/v1/cases")
    assert by_cookie.status_code == 403
    assert "Change your password first" in by_cookie.get_json()["error"]["message"]
    posted = visitor.client.post(
        "/api/v1/cases",
        json={"workflow": "complaint", "fields": {"summary": "x", "channel": "email"}},
        headers={"X-CSRFToken": visitor.token or "none"},
    )
    assert posted.status_code in (400, 403)


# --- one person, one approval -----------------------------------------------------------------


def account_request(api):
    return api.open(
        "staff",
        "account",
        platform="instagram",
        handle="@branch",
        branch="Lucasville",
        purpose="Branch news",
        administrators=["social"],
    )["number"]


@pytest.mark.parametrize(
    "director,social",
    [
        ({"email": "dana@library.example"}, {"email": "Dana+social@Library.example"}),
        ({"display_name": "Dana Whitfield"}, {"display_name": "dana  whitfield"}),
    ],
    ids=["same-address", "same-name"],
)
def test_two_accounts_of_one_person_cannot_give_both_approvals(app, cast, api, director, social):
    with app.app_context():
        for username, changes in (("director", director), ("social", social)):
            user = cast.user(username)
            for name, value in changes.items():
                setattr(user, name, value)
        db.session.commit()
    number = account_request(api)
    api.ok("director", number, "approve")
    response = api.fire("social", number, "approve")
    assert response.status_code == 422
    assert "same person" in response.get_json()["error"]["message"]
    assert api.get(f"/cases/{number}", "director").get_json()["state"] == "requested"
    assert api.ok("social2", number, "approve")["state"] == "approved"
