"""Search, filters, keyset pages and CSV export in the web interface."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import sqlalchemy as sa
from webpages import Visitor

from casework.extensions import db
from casework.models import Case, utcnow


def numbers_in(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/cases/([A-Z]+-\d{4}-\d{4})">', html)


def test_filters_narrow_the_list_and_the_address_keeps_them(app, cast, api):
    a = api.open(
        "librarian", "complaint", summary="Broken printer", channel="phone", branch="Main Library"
    )
    b = api.open(
        "librarian",
        "complaint",
        summary="Noisy study room",
        channel="in_person",
        branch="Lucasville Branch",
    )
    c = api.open(
        "social",
        "moderation",
        post_url="https://social.example/p/9",
        content="Spam link",
        is_complaint="no",
    )
    api.ok("librarian", b["number"], "engage", response="Asked for quiet.")
    assert (
        api.post(
            f"/cases/{a['number']}/assignee", "librarian", json={"username": "social"}
        ).status_code
        == 200
    )
    librarian = Visitor(app, "librarian")

    def found(query: str) -> set[str]:
        response = librarian.get(f"/cases?{query}")
        assert response.status_code == 200, response.text[:500]
        return set(numbers_in(response.text))

    assert found("") == {a["number"], b["number"], c["number"]}
    assert found("workflow=complaint") == {a["number"], b["number"]}
    assert found("workflow=complaint&state=engaged") == {b["number"]}
    assert found("q=printer") == {a["number"]}
    assert found("q=noisy+study") == {b["number"]}
    assert found("assignee=social") == {a["number"]}
    assert found("assignee=SOCIAL") == {a["number"]}
    assert found("assignee=nobody-by-that-name") == set()
    assert found("assignee=none&workflow=complaint") == {b["number"]}
    assert found("branch=Lucasville+Branch") == {b["number"]}
    today = utcnow().date()
    assert found(
        f"opened_from={today - timedelta(days=1)}&opened_to={today + timedelta(days=1)}"
    ) == {a["number"], b["number"], c["number"]}
    assert found(f"opened_to={today - timedelta(days=3)}") == set()
    page = librarian.get("/cases?workflow=complaint&state=engaged")
    assert '<option value="engaged" selected>' in page.text
    # The export button is a form (exports are recorded): it posts the list's filters.
    export = re.search(r'<form method="post" action="/cases/export.csv">(.*?)</form>', page.text)
    assert export is not None
    assert 'name="workflow" value="complaint"' in export.group(1)
    assert 'name="state" value="engaged"' in export.group(1)


def test_overdue_cases_stand_out_and_can_be_filtered(app, cast, api):
    late = api.open("librarian", "complaint", summary="Old complaint", channel="email")["number"]
    fresh = api.open("librarian", "complaint", summary="New complaint", channel="email")["number"]
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == late)).scalar_one()
        case.due_at = utcnow() - timedelta(days=1)
        db.session.commit()
    librarian = Visitor(app, "librarian")
    page = librarian.get("/cases?overdue=1")
    assert numbers_in(page.text) == [late]
    assert 'class="is-overdue"' in page.text and "Overdue" in page.text
    home = librarian.get("/")
    assert late in home.text and fresh in home.text
    assert home.text.index(late) < home.text.index(fresh), "overdue first in the queue"
    assert "badge--overdue" in librarian.get(f"/cases/{late}").text


def test_pages_follow_by_keyset(app, cast, api):
    opened = [
        api.open("librarian", "complaint", summary=f"Complaint {i}", channel="email")["number"]
        for i in range(7)
    ]
    visitor = Visitor(app, "librarian")
    seen: list[str] = []
    path = "/cases?workflow=complaint&per_page=3&sort=created_at"
    while path:
        page = visitor.get(path)
        assert page.status_code == 200
        seen += numbers_in(page.text)
        following = re.search(r'rel="next" href="([^"]+)"', page.text)
        path = following.group(1).replace("&amp;", "&") if following else ""
        assert not path or "cursor=" in path
    assert seen == opened


def test_bad_filters_are_named_and_never_break_the_page(app, cast):
    visitor = Visitor(app, "librarian")
    for query, field in (
        ("workflow=nope", "workflow"),
        ("state=flying", "state"),
        ("overdue=maybe", "overdue"),
        ("opened_from=yesterday", "opened_from"),
        ("opened_to=2026-02-31", "opened_to"),
        ("opened_to=9999-12-31", "opened_to"),
        ("opened_from=0001-01-01", "opened_from"),
        ("sort=name", "sort"),
        ("per_page=0", "per_page"),
        ("per_page=abc", "per_page"),
        ("page=-1", "page"),
        ("cursor=%00%ff", "cursor"),
        ("q=" + "x" * 600, "q"),
    ):
        response = visitor.get(f"/cases?{query}")
        assert response.status_code == 400, query
        assert f'href="#filter-{field}"' in response.text, query
        csv_response = visitor.get(f"/cases/export.csv?{query}")
        assert csv_response.status_code == 400, query


def test_csv_export_holds_every_match_and_defuses_formulas(app, cast, api):
    api.open("librarian", "complaint", summary='=HYPERLINK("http://x")', channel="email")
    for i in range(3):
        api.open("librarian", "complaint", summary=f"Plain {i}", channel="email")
    export = Visitor(app, "librarian").get("/cases/export.csv?workflow=complaint&per_page=1")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[0] == [
        "number",
        "workflow",
        "title",
        "state",
        "assignee",
        "branch",
        "opened",
        "due",
        "overdue",
    ]
    assert len(rows) == 5, "an export is not limited to one page"
    titles = [r[2] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in titles
    assert all(r[3] == "Received" for r in rows[1:])


def test_the_filters_offer_the_branches_and_assignees_of_cases_the_user_may_see(app, cast, api):
    for branch in ("Wheelersburg Branch", "Main Library", "Lucasville Branch", "Main Library"):
        api.open("librarian", "complaint", summary="Hours", channel="phone", branch=branch)
    assigned = api.open("librarian", "complaint", summary="Parking", channel="phone")["number"]
    api.post(f"/cases/{assigned}/assignee", "librarian", json={"username": "social"})
    hidden = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="harassment",
        description="x",
    )["number"]
    assert (
        api.post(f"/cases/{hidden}/assignee", "director", json={"username": "hr"}).status_code
        == 200
    )

    def offered(username: str, name: str) -> list[str]:
        page = Visitor(app, username).get("/cases").text
        select = re.search(rf'<select id="filter-{name}" name="{name}".*?</select>', page, re.S)
        assert select, page[:500]
        return re.findall(r'<option value="([^"]+)"', select.group(0))

    branches = ["Lucasville Branch", "Main Library", "Wheelersburg Branch"]
    assert offered("librarian", "branch") == branches
    assert "hr" not in offered("librarian", "assignee")
    assert "social" in offered("librarian", "assignee")
    assert {"hr", "social"} <= set(offered("director", "assignee"))
