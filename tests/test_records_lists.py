"""Holds and eligibility in the case lists (filters), the dashboard, the API and the employee
history."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Person, utcnow
from casework.services.listing import sub_years
from casework.services.retention import add_years
from tests.test_pdf_records import get_pdf, pdf_text
from tests.webpages import Visitor


def closed(api, summary: str) -> str:
    number: str = api.open("librarian", "complaint", summary=summary, channel="email")["number"]
    api.ok("librarian", number, "engage", response="Answered")
    api.ok("librarian", number, "resolve", resolution="Done")
    return number


def test_the_on_hold_and_eligible_filters(app, api, cast):
    old = closed(api, "Old one")
    held_old = closed(api, "Old held one")
    young = closed(api, "Young one")
    api.open("librarian", "complaint", summary="Open one", channel="email")
    with app.app_context():
        db.session.execute(
            sa.update(Case)
            .where(Case.number.in_([old, held_old]))
            .values(closed_at=utcnow().replace(year=2019))
        )
        db.session.commit()
    hold = {"kind": "litigation", "reason": "Suit"}
    assert api.post(f"/cases/{held_old}/holds", "director", json=hold).status_code == 201
    assert api.post(f"/cases/{young}/holds", "director", json=hold).status_code == 201

    def numbers(query: str) -> set[str]:
        body = api.get(f"/cases?{query}", "director").get_json()
        return {item["number"] for item in body["items"]}

    assert numbers("on_hold=1") == {held_old, young}
    assert numbers("eligible=1") == {old}
    assert numbers("eligible=1&on_hold=1") == set()
    bad = api.get("/cases?eligible=maybe", "director")
    assert bad.status_code == 422 and "eligible" in bad.get_json()["error"]["fields"]
    # HR sees no complaint: nothing, and no count.
    assert api.get("/cases?on_hold=1", "hr").get_json()["total"] == 0
    director = Visitor(app, "director")
    page = director.get("/cases?eligible=1").text
    assert old in page and young not in page and held_old not in page
    dashboard = director.get("/dashboard").text
    assert "On legal hold" in dashboard and "Eligible for disposal" in dashboard
    due = api.get("/retention", "records").get_json()["items"]
    assert {d["number"]: d["on_hold"] for d in due if d["eligible_now"]} == {
        old: False,
        held_old: True,
    }


def test_sub_years_is_the_inverse_of_add_years():
    for start in (date(2024, 2, 29), date(2024, 2, 28), date(2023, 3, 1), date(2020, 12, 31)):
        for years in (1, 4, 5, 10):
            due = add_years(start, years)
            assert sub_years(due, years) >= start
            assert sub_years(date.fromordinal(due.toordinal() - 1), years) < start


def test_the_employee_history_shows_series_and_holds(app, api, cast):
    number = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="harassment",
        description="A post.",
    )["number"]
    api.post(f"/cases/{number}/holds", "hr", json={"kind": "investigation", "reason": "Inquiry"})
    with app.app_context():
        person = db.session.get(Person, cast.person_ids["olive"])
        assert person is not None
    text = pdf_text(get_pdf(api, f"/people/{cast.person_ids['olive']}/history.pdf", "hr"))
    assert "Personnel files: disciplinary records" in text and "Legal hold" in text
