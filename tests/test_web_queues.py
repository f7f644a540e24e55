"""Queues as a helpdesk has them: quick filters, "assign to me", new cases taken by whoever
opened them, lateness in business days, and a direct way to log a complaint."""

from __future__ import annotations

import re
from datetime import datetime, time

from webpages import Visitor, page_text

from casework.library import library
from casework.models import utcnow
from casework.web.display import age_words, due_words


def at(day: str, hour: int) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour), library().tz)


def test_lateness_counts_business_days(app):
    with app.app_context():
        monday_end = at("2026-12-07", 23).replace(minute=59, second=59)
        assert due_words(monday_end, at("2026-12-10", 12)) == "3 business days overdue"
        # Saturday and Sunday are not counted.
        tuesday_end = at("2026-12-15", 23).replace(minute=59, second=59)
        assert due_words(tuesday_end, at("2026-12-11", 12)) == "due in 2 business days"
        assert due_words(tuesday_end, at("2026-12-14", 9)) == "due in 1 business day"
        assert due_words(tuesday_end, at("2026-12-15", 9)) == "due today"
        # Christmas Day is a holiday: due Thursday the 24th, it is one business day late on
        # Monday the 28th (Friday the 25th and the weekend skipped).
        christmas_eve = at("2026-12-24", 23).replace(minute=59, second=59)
        assert due_words(christmas_eve, at("2026-12-28", 10)) == "1 business day overdue"
        far = at("2027-06-01", 23)
        assert due_words(far, at("2026-12-01", 10)) == "due 1 June 2027"
        assert age_words(at("2026-12-07", 9), at("2026-12-10", 12)) == "3 days ago"
        assert age_words(at("2026-12-10", 9), at("2026-12-10", 12)) == "today"


def test_a_new_case_goes_to_whoever_opened_it_when_they_work_it(app, cast):
    librarian = Visitor(app, "librarian")
    number = librarian.open("complaint", summary="Parking", channel="phone")
    page = page_text(librarian.get(f"/cases/{number}").text)
    assert "Assigned to Librarian" in page
    assert f"{number} is opened and assigned to you." in page
    assert number in page_text(librarian.get("/").text.split('id="queue-assigned"')[1])
    # A member of staff asking for an account does not approve it: nobody is assigned.
    staff = Visitor(app, "staff")
    account = staff.open(
        "account", platform="tiktok", handle="@ppl", branch="Main", purpose="Teens"
    )
    assert "Assigned to Nobody" in page_text(staff.get(f"/cases/{account}").text)


def test_assign_to_me_and_the_quick_filters(app, cast, api):
    first = api.open("librarian", "complaint", summary="Noise", channel="email")["number"]
    second = api.open("librarian", "complaint", summary="Wifi", channel="email")["number"]
    closed = api.open("librarian", "complaint", summary="Old", channel="email")["number"]
    api.ok("librarian", closed, "engage", response="Answered")
    api.ok("librarian", closed, "resolve", resolution="Done")
    director = Visitor(app, "director")
    page = director.get(f"/cases/{first}")
    assert ">Assign to me</button>" in page.text
    taken = director.post(f"/cases/{first}/assignee", {"username": "director"})
    assert taken.status_code == 302
    page = director.get(f"/cases/{first}")
    assert ">Assign to me</button>" not in page.text
    assert "Assigned to Director" in page_text(page.text)
    # Who may not work a case gets no such button (HR reads a violation case, takes no step).
    report = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo",
    )["number"]
    hr_page = Visitor(app, "hr").get(f"/cases/{report}")
    assert hr_page.status_code == 200 and "Assign to me" not in hr_page.text
    assert ">Assign to me</button>" in director.get(f"/cases/{report}").text
    search = director.get("/cases")
    links = dict(
        (label, href.replace("&amp;", "&"))
        for href, label in re.findall(
            r'<a href="(/cases\?[^"]+)"[^>]*>(Assigned to me|Unassigned|Overdue)</a>', search.text
        )
    )
    assert set(links) == {"Assigned to me", "Unassigned", "Overdue"}
    mine = page_text(director.get(links["Assigned to me"]).text)
    assert first in mine and second not in mine and closed not in mine
    unassigned = page_text(director.get(links["Unassigned"]).text)
    assert second in unassigned and first not in unassigned and closed not in unassigned
    current = director.get(links["Unassigned"]).text
    assert re.search(r'aria-current="page">Unassigned</a>', current)
    overdue = page_text(director.get(links["Overdue"]).text)
    assert "No case matches these filters." in overdue


def test_lists_say_when_a_case_is_due_in_words(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    text = page_text(Visitor(app, "librarian").get("/").text)
    with app.app_context():
        from casework.extensions import db
        from casework.models import Case

        case = db.session.execute(db.select(Case).where(Case.number == number)).scalar_one()
        expected = due_words(case.due_at, utcnow())
    assert expected and expected[:1].upper() + expected[1:] in text
    assert "today" in text


def test_the_librarian_in_charge_logs_a_complaint_from_home(app, cast):
    home = Visitor(app, "librarian").get("/").text
    assert re.search(
        r'<a class="button" href="/cases/new/complaint">Log a patron complaint</a>', home
    )
    # The Director logs public-records requests from home, but not complaints.
    assert "Log a patron complaint" not in Visitor(app, "director").get("/").text
    assert "Log a" not in Visitor(app, "staff").get("/").text
