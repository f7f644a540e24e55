"""Racing writers through the web forms, across app instances and across kinds of change: one
winner, clear refusals for the others, and a trail with exactly what was saved."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from racing import race
from webpages import Visitor, case_state, events_of, page_text

from casework.extensions import db
from casework.models import Case, CaseLink
from casework.services.verification import verify_chains


def same_browser(app, visitor, count):
    """`count` clients carrying the visitor's session cookie: one browser sending many times."""
    cookie = visitor.client.get_cookie("session")
    assert cookie is not None
    clients = []
    for _ in range(count):
        client = app.test_client()
        client.set_cookie("session", cookie.value, domain=cookie.domain or "localhost")
        clients.append(client)
    return clients


def transitions_of(app, number):
    return [a for a, _ in events_of(app, number)].count("transition")


@pytest.mark.parametrize("count", [2, pytest.param(32, marks=pytest.mark.stress)])
def test_a_double_submitted_form_saves_once(app, cast, api, count):
    number = api.open("librarian", "complaint", summary="Wi-Fi", channel="email")["number"]
    librarian = Visitor(app, "librarian")
    clients = same_browser(app, librarian, count)
    form = {"csrf_token": librarian.token, "version": "1", "response": "Reset the router."}

    def submit(index):
        response = clients[index].post(f"/cases/{number}/transitions/engage", data=form)
        return response.status_code, page_text(response.get_data(as_text=True))

    results = race(count, submit)
    assert Counter(status for status, _ in results) == {302: 1, 409: count - 1}
    for status, text in results:
        if status == 409:
            assert "This case changed since you opened it" in text
            assert "Nothing was saved" in text
            assert "Reset the router." in text, "what was typed is shown, not lost"
    assert transitions_of(app, number) == 1
    assert case_state(app, number) == ("engaged", 2)


def test_sixteen_form_submits_of_different_actions_on_one_version(app, cast, api):
    """Engage and escalate sent at once from the same version: one of them, never both."""
    number = api.open("librarian", "complaint", summary="Noise", channel="phone")["number"]
    librarian = Visitor(app, "librarian")
    social = Visitor(app, "social")
    senders = [(librarian, "engage", {"response": "Asked for quiet."})] * 8 + [
        (social, "escalate", {"reason": "Repeated complaint."})
    ] * 8
    clients = [same_browser(app, v, 1)[0] for v, _, _ in senders]

    def submit(index):
        visitor, trigger, fields = senders[index]
        data = {"csrf_token": visitor.token, "version": "1", **fields}
        return clients[index].post(f"/cases/{number}/transitions/{trigger}", data=data).status_code

    assert Counter(race(16, submit)) == {302: 1, 409: 15}
    state, version = case_state(app, number)
    assert state in ("engaged", "escalated") and version == 2
    assert transitions_of(app, number) == 1


def test_two_app_instances_on_one_database_give_one_winner(app, make_app, cast, api):
    """Several workers or hosts share one database: locking holds across them."""
    other = make_app()
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    body = {"trigger": "engage", "version": 1, "fields": {"response": "Answered"}}
    headers = cast.headers("librarian")
    instances = [app, other] * 8

    def fire(index):
        client = instances[index].test_client()
        response = client.post(f"/api/v1/cases/{number}/transitions", json=body, headers=headers)
        return response.status_code

    assert Counter(race(16, fire)) == {200: 1, 409: 15}
    assert transitions_of(app, number) == 1
    assert case_state(app, number) == ("engaged", 2)


def test_a_referral_raced_against_itself_opens_one_complaint(app, cast, api):
    """The losing transition's spawned case goes with it: all of a transition, or none."""
    post = api.open(
        "social",
        "moderation",
        post_url="https://social.example/p/9",
        content="Your hours are terrible",
        is_complaint="yes",
    )["number"]
    headers = cast.headers("social")
    body = {"trigger": "refer", "version": 1, "fields": {}}

    def fire(index):
        client = app.test_client()
        return client.post(
            f"/api/v1/cases/{post}/transitions", json=body, headers=headers
        ).status_code

    assert Counter(race(8, fire)) == {200: 1, 409: 7}
    with app.app_context():
        complaints = db.session.execute(
            sa.select(Case.number).where(Case.workflow_key == "complaint")
        ).all()
        links = db.session.execute(sa.select(sa.func.count()).select_from(CaseLink)).scalar_one()
        assert len(complaints) == 1 and links == 1
        assert verify_chains().ok


def test_transitions_notes_and_assignments_interleave_without_losing_any(app, cast, api):
    number = api.open("librarian", "complaint", summary="Parking", channel="in_person")["number"]
    headers = cast.headers("librarian")

    def act(index):
        client = app.test_client()
        path = f"/api/v1/cases/{number}"
        if index % 3 == 0:
            body = {"trigger": "engage", "version": 1, "fields": {"response": "Answered"}}
            return "transition", client.post(
                f"{path}/transitions", json=body, headers=headers
            ).status_code
        if index % 3 == 1:
            return "note", client.post(
                f"{path}/notes", json={"text": f"note {index}"}, headers=headers
            ).status_code
        who = "librarian" if index % 2 else "director"
        return "assign", client.post(
            f"{path}/assignee", json={"username": who}, headers=headers
        ).status_code

    by_kind = Counter(race(24, act))
    # An assignment also moves the version, so the transition may lose to one: at most one wins.
    won = by_kind[("transition", 200)]
    assert won <= 1 and by_kind[("transition", 409)] == 8 - won
    assert by_kind[("note", 201)] == 8 and by_kind[("assign", 200)] == 8
    actions = Counter(a for a, _ in events_of(app, number))
    assert actions["transition"] == won and actions["note"] == 8
    assert 1 <= actions["assign"] <= 8
    state, version = case_state(app, number)
    # Only real changes of assignee are recorded, each a new version.
    assert state == ("engaged" if won else "received")
    assert version == 1 + won + actions["assign"]
    with app.app_context():
        assert verify_chains().ok
