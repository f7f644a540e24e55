"""Markup the HTML standard accepts: machine-readable times and date fields that hold dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

from webpages import Visitor

from casework.web.display import iso_time

#: A valid `datetime` attribute: a date, or a date and time with at most three digits of a second.
HTML_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?"
)


def datetimes_in(html: str) -> list[str]:
    return re.findall(r'<time datetime="([^"]*)"', html)


def date_input(html: str, name: str) -> str:
    found = re.search(rf'<input type="date" id="filter-{name}" name="{name}" value="([^"]*)"', html)
    assert found, f"no date input {name}"
    return unescape(found.group(1))


def test_times_carry_at_most_milliseconds():
    moment = datetime(2026, 11, 29, 14, 59, 5, 921454, tzinfo=UTC)
    assert iso_time(moment) == "2026-11-29T14:59:05.921+00:00"
    assert iso_time(None) == ""


def test_every_time_on_case_pages_lists_and_receipts_is_valid(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    api.ok("librarian", number, "engage", response="Posted the hours.")
    receipt = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo",
    )["number"]
    pages = {
        "case": Visitor(app, "librarian").get(f"/cases/{number}"),
        "search": Visitor(app, "librarian").get("/cases"),
        "queue": Visitor(app, "librarian").get("/"),
        "receipt": Visitor(app, "staff").get(f"/cases/{receipt}"),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        found = datetimes_in(page.text)
        assert found, name
        bad = [value for value in found if not HTML_DATETIME.fullmatch(value)]
        assert bad == [], (name, bad)


def test_a_refused_date_is_named_in_the_message_and_left_out_of_the_field(app, cast):
    visitor = Visitor(app, "librarian")
    page = visitor.get("/cases?opened_from=notadate&opened_to=2026-03-01")
    assert page.status_code == 400
    assert date_input(page.text, "opened_from") == ""
    # The other date was fine: it stays, as the form was sent.
    assert date_input(page.text, "opened_to") == "2026-03-01"
    assert "You typed \u201cnotadate\u201d." in unescape(page.text)
    assert 'value="notadate"' not in page.text
    # Markup in what was typed stays text.
    hostile = visitor.get('/cases?opened_to="><b>x')
    assert hostile.status_code == 400
    assert date_input(hostile.text, "opened_to") == ""
    assert "<b>x" not in hostile.text


def test_an_accepted_date_is_written_as_a_date_field_needs(app, cast):
    # Python reads 20260301 as a date; the field shows it as the date it was taken for.
    page = Visitor(app, "librarian").get("/cases?opened_from=20260301")
    assert page.status_code == 200
    assert date_input(page.text, "opened_from") == "2026-03-01"


def state_select(html: str) -> str:
    found = re.search(r'<select id="filter-state".*?</select>', html, re.S)
    assert found, "no state filter"
    return found.group(0)


def test_a_state_several_workflows_share_is_selected_once(app, cast):
    """`received` is a state of complaints and of access appeals: a select may choose one."""
    visitor = Visitor(app, "director")
    for query, group in (
        ("state=received", None),
        ("workflow=complaint&state=received", "Patron complaint"),
        ("workflow=access_appeal&state=received", "Access appeal"),
    ):
        select = state_select(visitor.get(f"/cases?{query}").text)
        assert select.count(" selected") == 1, query
        if group:  # and in the chosen workflow's group
            chosen = select.index(" selected")
            group_starts = select.rfind(f'<optgroup label="{group}">', 0, chosen)
            assert group_starts == select.rfind("<optgroup", 0, chosen), query
