"""Personnel records fit for the file: people named with their role, a decision per case,
signature lines, checking details in an appendix, folded views, file names and one date format."""

from __future__ import annotations

import re

import sqlalchemy as sa
from test_pdf_history import violation
from test_pdf_records import complaint, events_of, get_pdf, page_count, pdf_text, squeezed
from webpages import Visitor

from casework.extensions import db
from casework.models import Case
from casework.notifications.render import render_mail
from casework.notifications.rules import OVERDUE_KIND
from casework.presenting.words import file_date, local_date, local_time
from casework.services.definitions import workflow_of


def decided(api, cast) -> str:
    number = violation(api, cast, "olive", category="logo_misuse")
    api.ok("director", number, "inspect", cause="Report.", findings="Public post.")
    # Three looks before the next step: one folded line in the record.
    for _ in range(3):
        assert api.get(f"/cases/{number}", "director").status_code == 200
    api.ok("director", number, "review", assessment="Reviewed.")
    api.ok("director", number, "discipline", action="written_warning", handbook_reference="4.12")
    return number


def test_the_history_has_a_decision_signature_lines_and_an_appendix(app, api, cast):
    number = decided(api, cast)
    person = cast.person_ids["olive"]
    response = api.get(f"/people/{person}/history.pdf", "hr")
    assert response.status_code == 200
    *_, discipline, printed = events_of(app, number)
    with app.app_context():
        today, day = file_date(printed.at), local_date(discipline.at)
    disposition = response.headers["Content-Disposition"]
    assert f"filename=Outsider-E-olive-history-{today}.pdf" in disposition
    content = response.data
    text = pdf_text(content)
    # People by name and role, never by user name.
    decision = re.search(r"Decision Outcome (.*?) Timeline", text)
    assert decision, text
    assert decision.group(1) == (
        "Disciplined: Written warning Disciplinary action Written warning "
        "Personnel Policy Handbook reference 4.12 "
        f"Decided by Director Person, Library Director Date {day}"
    )
    assert "Opened" in text and "by Staff Person, Staff" in text
    assert " director " not in f" {text} "
    # One line for the three views.
    assert "Viewed 3 times by Director Person, Library Director" in text
    views = [e.seq for e in events_of(app, number) if e.action == "view"]
    assert f"{views[0]}–{views[-1]} ·" in text
    # Acknowledgment and signatures, then the appendix on the last page, jargon only there.
    for expected in (
        "Acknowledgment",
        "Employee: Olive Outsider",
        "Library Director or Human Resources",
    ):
        assert expected in text, expected
    last = page_count(content)
    appendix = pdf_text(content, page=last)
    body = " ".join(pdf_text(content, page=p) for p in range(1, last))
    assert "Appendix: checking this copy" in appendix
    assert "(America/New_York)" in squeezed(appendix)
    for jargon in ("workflow violation, version", "casework audit verify --record", "SHA-256"):
        assert jargon in appendix and jargon not in body, jargon


def test_a_record_is_named_for_its_case_and_day(app, api):
    number = complaint(api)
    response = api.get(f"/cases/{number}/record.pdf?redacted=1", "librarian")
    printed = events_of(app, number)[-1]
    assert printed.action == "print"
    with app.app_context():
        today = file_date(printed.at)
    assert response.headers["Content-Disposition"] == (
        f"inline; filename={number}-public-record-{today}.pdf"
    )


def test_a_moment_reads_the_same_on_the_page_on_paper_and_in_mail(app, api, cast):
    number = complaint(api)
    api.post(f"/cases/{number}/notes", "social", json={"text": "Called the patron back."})
    paper = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf", "librarian"))
    page = Visitor(app, "librarian").get(f"/cases/{number}").text
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        due = local_time(case.due_at)
        mail = render_mail(OVERDUE_KIND, case, workflow_of(case), cast.user("librarian"), {})
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d", due), due
    assert f"Due {due}" in paper
    assert f">{due}</time>" in page
    assert f"Due: {due}" in mail.text
    # The page and the paper word an event alike, from the one presenter.
    with app.app_context():
        note = next(e for e in events_of(app, number) if e.action == "note")
        at = local_time(note.at)
    said = "Social Person, Social media team"
    assert f"{note.seq} · {at} {said} Note · Called the patron back." in paper
    assert re.search(
        rf"{said} · <time[^>]*>{at}</time></p>\s*<p class=\"timeline__text multiline\">"
        "Called the patron back.</p>",
        page,
    ), page
