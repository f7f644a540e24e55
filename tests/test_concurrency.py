"""Racing writers: optimistic locking gives one winner and clean 409s; numbers never collide."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from racing import race

from casework.extensions import db
from casework.models import Case, Event


def test_32_racing_transitions_give_one_success_and_31_conflicts(app, api, cast):
    number = api.open("librarian", "complaint", summary="Race", channel="email")["number"]
    headers = cast.headers("librarian")
    body = {"trigger": "engage", "version": 1, "fields": {"response": "Answered"}}

    def fire(client):
        response = client.post(f"/api/v1/cases/{number}/transitions", json=body, headers=headers)
        return response.status_code, response.get_json()

    results = race(32, fire, prepare=lambda _: app.test_client())
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 409: 31}
    for status, payload in results:
        if status == 409:
            assert payload["error"]["code"] == "stale_version"
            assert payload["case"]["state"] == "engaged" and payload["case"]["version"] == 2
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        transitions = db.session.execute(
            sa.select(sa.func.count())
            .select_from(Event)
            .where(Event.case_id == case.id, Event.action == "transition")
        ).scalar_one()
    assert (case.state, case.version, transitions, case.head_seq) == ("engaged", 2, 1, 2)


def test_case_numbers_stay_unique_under_concurrent_creation(app, cast):
    headers = cast.headers("librarian")

    def open_case(client):
        response = client.post(
            "/api/v1/cases",
            json={"workflow": "complaint", "fields": {"summary": "Busy day", "channel": "phone"}},
            headers=headers,
        )
        return response.status_code, (response.get_json() or {}).get("number")

    results = race(24, open_case, prepare=lambda _: app.test_client())
    assert Counter(status for status, _ in results) == {201: 24}
    numbers = sorted(number for _, number in results)
    assert len(set(numbers)) == 24
    year = numbers[0].split("-")[1]
    assert numbers == [f"CMP-{year}-{n:04d}" for n in range(1, 25)]


def test_notes_racing_on_one_case_keep_one_unbroken_chain(app, api, cast):
    number = api.open("librarian", "complaint", summary="Chatty", channel="email")["number"]
    headers = cast.headers("librarian")

    def note(client):
        return client.post(
            f"/api/v1/cases/{number}/notes", json={"text": "racing"}, headers=headers
        ).status_code

    assert Counter(race(16, note, prepare=lambda _: app.test_client())) == {201: 16}
    from casework.services.verification import verify_chains

    with app.app_context():
        result = verify_chains()
    assert result.ok and result.events == 17
