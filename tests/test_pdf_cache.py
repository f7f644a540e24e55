"""Rendered documents are reused while nothing they show has changed, and never served stale."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from test_pdf_records import complaint, get_pdf, pdf_text

from casework.extensions import db
from casework.models import RenderedDocument
from casework.printing import record, render
from casework.services.users import find_user

NOW = datetime(2026, 3, 2, 15, 14, tzinfo=UTC)


def stored(app) -> list[tuple[str, int | None]]:
    with app.app_context():
        rows = db.session.execute(sa.select(RenderedDocument.kind, RenderedDocument.case_id))
        return sorted((kind, case_id) for kind, case_id in rows)


def forbid_rendering(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(render, "pdf_of", refuse)


def test_a_repeat_print_of_an_unchanged_case_reuses_its_rendering(app, api, monkeypatch):
    number = complaint(api)
    first = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf", "librarian"))
    assert len(stored(app)) == 1
    forbid_rendering(monkeypatch)
    # The first print's own audit event does not count as a change.
    second = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf", "director"))
    # The stamp is drawn last, at the foot of each page beside its number (the second page is
    # the appendix).
    foot = r"Page 2 of 2 ?Generated \d+ [A-Z][a-z]+ \d{{4}}, [\d:]+ by {}$"
    assert re.search(foot.format("Director Person, Library Director"), second), second[-120:]
    assert re.search(foot.format("Librarian Person, Librarian in Charge"), first), first[-120:]
    assert first.split("Generated")[0] == second.split("Generated")[0]
    # The public copy is another document.
    monkeypatch.undo()
    get_pdf(api, f"/cases/{number}/record.pdf?redacted=1", "librarian")
    assert [kind for kind, _ in stored(app)] == ["public-record", "record"]


@pytest.mark.parametrize(
    "change",
    ["note", "transition", "assign", "person"],
)
def test_any_change_to_what_a_record_shows_renders_it_anew(app, api, cast, change):
    if change == "person":
        number = api.open(
            "staff",
            "violation",
            subject=cast.person_ids["olive"],
            category="harassment",
            description="A post.",
        )["number"]
        user = "director"
    else:
        number = complaint(api)
        user = "librarian"
    before = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf", user))
    if change == "note":
        api.post(f"/cases/{number}/notes", user, json={"text": "A brand new note."})
        expected = "A brand new note."
    elif change == "transition":
        api.ok(user, number, "engage", response="Answered today.")
        expected = "Answered today."
    elif change == "assign":
        api.post(f"/cases/{number}/assignee", user, json={"username": "social"})
        expected = "nobody → Social Person, Social media team"
    else:
        # A person's name is printed but is not in any case's audit trail: it is in the key.
        with app.app_context():
            person = cast.person("olive")
            person.name = "Olive Renamed"
            db.session.commit()
        expected = "Olive Renamed"
    assert expected not in before
    after = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf", user))
    assert expected in after
    # The older rendering, which no print can ask for again, is gone.
    assert len(stored(app)) == 1


def test_a_history_is_reused_until_one_of_its_cases_changes(app, api, cast, monkeypatch):
    person = cast.person_ids["olive"]
    numbers = [
        api.open(
            "staff", "violation", subject=person, category="harassment", description=f"Post {i}."
        )["number"]
        for i in range(2)
    ]
    get_pdf(api, f"/people/{person}/history.pdf", "hr")
    forbid_rendering(monkeypatch)
    get_pdf(api, f"/people/{person}/history.pdf", "hr")
    monkeypatch.undo()
    api.ok("director", numbers[1], "inspect", cause="Report.", findings="Seen.")
    assert "Inspect for cause" in pdf_text(get_pdf(api, f"/people/{person}/history.pdf", "hr"))
    assert [kind for kind, _ in stored(app)] == ["history"]


def test_output_is_byte_identical_for_the_same_input(app, api, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    number = complaint(api)
    api.ok("librarian", number, "engage", response="Answered.")

    def print_now() -> bytes:
        with app.app_context():
            printed = record.case_record_pdf(find_user("librarian"), number, now=NOW)
            db.session.commit()
            return printed.content

    cold = print_now()
    cached = print_now()
    with app.app_context():
        db.session.execute(sa.delete(RenderedDocument))
        db.session.commit()
    rendered_again = print_now()
    assert cold == cached == rendered_again
    # The only date inside the file is SOURCE_DATE_EPOCH's.
    meta = PdfReader(io.BytesIO(cold)).metadata
    assert meta is not None and meta.creation_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert "Generated 2 March 2026, 10:14 by Librarian Person" in pdf_text(cold)
