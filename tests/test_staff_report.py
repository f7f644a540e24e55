"""The staff report form: "not sure" as a category, a "check your answers" page that says who
will read the report and takes evidence files, and a receipt that says what happens next."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from webpages import Visitor, case_state, page_text

from casework.errors import Forbidden
from casework.extensions import db
from casework.models import Attachment, Case, User
from casework.services import evidence, opening

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def report(subject: int, **more: str) -> dict[str, str]:
    return {
        "subject": str(subject),
        "category": "not_sure",
        "description": "A post about the budget vote.",
        **more,
    }


def cases_of(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(sa.select(Case.number, Case.workflow_key)).all()
        db.session.rollback()
    return [(n, w) for n, w in rows]


def test_a_staff_report_is_checked_then_sent_with_its_evidence(app, cast):
    staff = Visitor(app, "staff")
    form = staff.get("/cases/new/violation").text
    assert 'value="not_sure"' in form and "Not sure" in form
    assert "Continue" in form and 'type="file"' not in form
    fields = report(cast.person_ids["olive"])
    check = staff.post("/cases/new/violation", fields)
    assert check.status_code == 200 and cases_of(app) == []
    text = page_text(check.text)
    assert "Check your answers before you send the report" in text
    assert "Olive Outsider" in text and "Not sure" in text
    assert "Who will read it The Library Director and Human Resources." in text
    assert 'enctype="multipart/form-data"' in check.text and 'name="evidence"' in check.text
    assert 'name="change" value="description"' in check.text
    # "Change": the form again, as it was filled in.
    again = staff.post("/cases/new/violation", {**fields, "change": "description"})
    assert again.status_code == 200 and "A post about the budget vote." in again.text
    assert "Check your answers" not in again.text and cases_of(app) == []
    # The kept answers are sent again with the evidence files and the confirmation.
    kept = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', check.text))
    assert kept.pop("csrf_token") and kept == fields
    sent = staff.post(
        "/cases/new/violation",
        {
            **kept,
            "confirmed": "1",
            "evidence": [(io.BytesIO(PNG), "shot.png"), (io.BytesIO(b"Saw it at 9pm."), "n.txt")],
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302, sent.text[:2000]
    number = sent.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        assert case.fields["category"] == "not_sure"
        names = db.session.execute(
            sa.select(Attachment.name).where(Attachment.case_id == case.id)
        ).scalars()
        assert sorted(names) == ["n.txt", "shot.png"]
        db.session.rollback()
    receipt = page_text(staff.get(f"/cases/{number}").text)
    assert "What happens next" in receipt
    assert "Retaliation is forbidden" in receipt
    assert f"quote the number {number}" in receipt
    assert "The Library Director and Human Resources read your report" in receipt
    assert "Not sure" not in receipt and "shot.png" not in receipt  # still only a receipt
    # The Director corrects "not sure" when inspecting.
    director = Visitor(app, "director")
    director.fire(
        number, "inspect", cause="Reported by staff.", findings="Seen.", category="harassment"
    )
    assert case_state(app, number)[0] == "inspected"
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        assert case.fields["category"] == "harassment"
        db.session.rollback()


def test_a_report_about_the_director_is_read_by_the_trustees(app, cast):
    staff = Visitor(app, "staff")
    check = page_text(staff.post("/cases/new/violation", report(cast.person_ids["director"])).text)
    assert "The Board of Trustees and Human Resources" in check
    assert "Library Director" not in check.split("Who will read it", 1)[1].split(".")[0]
    number = staff.open("violation", **report(cast.person_ids["director"]))
    receipt = page_text(staff.get(f"/cases/{number}").text)
    assert "The Board of Trustees and Human Resources read your report" in receipt


def test_a_refused_evidence_file_keeps_the_check_page_and_sends_nothing(app, cast):
    staff = Visitor(app, "staff")
    fields = report(cast.person_ids["olive"])
    refused = staff.post(
        "/cases/new/violation",
        {**fields, "confirmed": "1", "evidence": (io.BytesIO(b"MZ\x90\x00binary"), "tool.exe")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    text = page_text(refused.text)
    assert "There is a problem" in text and "Only PNG, JPEG, PDF and plain-text" in text
    assert 'aria-invalid="true"' in refused.text and "Send the report" in text
    assert cases_of(app) == []
    # Hostile answers are refused on the form, naming the field, before any check page.
    bad = staff.post("/cases/new/violation", {**fields, "category": "<script>", "subject": "-1"})
    assert bad.status_code == 422 and "Check your answers" not in bad.text
    assert 'id="field-category-error"' in bad.text and 'id="field-subject-error"' in bad.text
    assert cases_of(app) == []


def test_evidence_is_sent_with_a_report_only_as_it_is_opened(app, cast):
    with app.app_context():
        staff = db.session.execute(sa.select(User).where(User.username == "staff")).scalar_one()
        other = db.session.execute(sa.select(User).where(User.username == "staff2")).scalar_one()
        case = opening.open_case(staff, "violation", report(cast.person_ids["olive"]))
        with pytest.raises(Forbidden):
            evidence.attach_sent_with(other, case, "a.png", io.BytesIO(PNG))
        assert evidence.attach_sent_with(staff, case, "a.png", io.BytesIO(PNG)).name == "a.png"
        db.session.commit()
        number = case.number
        with pytest.raises(Forbidden):  # committed: no longer being opened
            evidence.attach_sent_with(staff, case, "c.png", io.BytesIO(PNG + b"c"))
        db.session.rollback()
    with app.app_context():  # later, the reporter holds only a receipt: nothing more is taken
        staff = db.session.execute(sa.select(User).where(User.username == "staff")).scalar_one()
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        with pytest.raises(Forbidden):
            evidence.attach_sent_with(staff, case, "b.png", io.BytesIO(PNG + b"b"))
        db.session.rollback()
