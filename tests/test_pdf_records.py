"""Printed case records: what they show, who may print them, and that every print is recorded."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from casework.extensions import db
from casework.models import Case, Event
from casework.presenting.words import local_time


def pdf_text(content: bytes, *, page: int | None = None) -> str:
    """The text of a PDF (or of one page, from 1), as a reader's copy and paste would take it."""
    pages = PdfReader(io.BytesIO(content)).pages
    chosen = pages if page is None else [pages[page - 1]]
    text = "\n".join(p.extract_text() or "" for p in chosen)
    # Layout wraps long values; compare on single spaces.
    return " ".join(text.replace("\u00a0", " ").split())


def squeezed(text: str) -> str:
    return text.replace(" ", "")


def page_count(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


def events_of(app: Any, number: str) -> list[Event]:
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        rows = db.session.execute(
            sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq)
        ).scalars()
        return list(rows)


def get_pdf(api: Any, path: str, user: str) -> bytes:
    response = api.get(path, user)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    content: bytes = response.data
    assert content.startswith(b"%PDF-")
    return content


def complaint(api: Any, **fields: Any) -> str:
    body = {
        "summary": "Story time was cancelled without notice",
        "channel": "facebook",
        "patron": "Zelda Quux-Patron",
        "content": "Why was story time cancelled?",
        **fields,
    }
    number: str = api.open("librarian", "complaint", **body)["number"]
    return number


def test_a_record_shows_the_case_every_event_and_the_chain_head(app, api):
    number = complaint(api)
    api.ok("librarian", number, "engage", response="Apologised and posted the new schedule.")
    note = api.post(f"/cases/{number}/notes", "librarian", json={"text": "Manager confirmed it."})
    assert note.status_code == 201
    upload = api.post(
        f"/cases/{number}/attachments",
        "librarian",
        data={"file": (io.BytesIO(b"screenshot text"), "post.txt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201
    head = events_of(app, number)[-1]

    content = get_pdf(api, f"/cases/{number}/record.pdf", "librarian")
    text = pdf_text(content)
    for expected in (
        number,
        "Portsmouth Public Library",
        "Patron complaint",
        "Story time was cancelled without notice",
        "Zelda Quux-Patron",
        "Case opened",
        "Engage · Received → Engaged",
        "Apologised and posted the new schedule.",
        "Manager confirmed it.",
        "Evidence attached",
        "workflow complaint, version 4",
        "Page 1 of",
        "by Librarian Person, Librarian in Charge",
    ):
        assert expected in text, expected
    # Hashes may wrap in their cells: look for them without the spaces.
    assert upload.get_json()["sha256"] in squeezed(text)
    assert f"event{head.seq},{head.hash}" in squeezed(text)
    with app.app_context():
        for event in events_of(app, number)[: head.seq]:
            assert f"{event.seq} · {local_time(event.at)}" in text, event.seq
    meta = PdfReader(io.BytesIO(content)).metadata
    assert meta is not None
    assert meta.title == f"Case record {number}"
    assert meta.author == "Portsmouth Public Library"
    assert number in (meta.subject or "")


def test_every_page_carries_the_header_page_numbers_and_the_stamp(app, api):
    number = complaint(api)
    for i in range(70):
        api.post(f"/cases/{number}/notes", "librarian", json={"text": f"Follow-up call {i}."})
    content = get_pdf(api, f"/cases/{number}/record.pdf", "social")
    pages = page_count(content)
    assert pages >= 3
    for page in range(1, pages + 1):
        text = pdf_text(content, page=page)
        assert f"Page {page} of {pages}" in text
        assert f"{number} · Patron complaint" in text
        assert "Portsmouth Public Library" in text
        assert "by Social Person, Social media team" in text
    # The timeline's header repeats on the pages it continues onto.
    assert "Event · when · who What happened" in pdf_text(content, page=2)
    assert "Follow-up call 69." in pdf_text(content)


def test_each_print_is_recorded_with_the_chain_head_it_printed(app, api):
    number = complaint(api)
    api.ok("librarian", number, "engage", response="Answered.")
    last_change = events_of(app, number)[-1]

    first = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf", "director"))
    second = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf?redacted=1", "librarian"))
    prints = [e for e in events_of(app, number) if e.action == "print"]
    assert [p.actor for p in prints] == ["director", "librarian"]
    assert prints[0].data == {
        "document": "record",
        "redacted": False,
        "chain_head": {"seq": last_change.seq, "hash": last_change.hash},
    }
    # A print changes nothing printed: the next one shows the same chain head, which a later
    # verification finds in the trail.
    assert prints[1].data["chain_head"] == prints[0].data["chain_head"]
    assert prints[1].data["redacted"] is True
    for text in (first, second):
        assert f"event{last_change.seq},{last_change.hash}" in squeezed(text)
    verify = api.get("/audit/verify", "director").get_json()
    assert verify["ok"] is True


def test_a_violation_record_is_marked_and_quotes_its_policy_clause(app, api, cast):
    number = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Posted the library logo on a political flyer.",
    )["number"]
    api.ok("director", number, "inspect", cause="A report.", findings="The flyer is public.")
    content = get_pdf(api, f"/cases/{number}/record.pdf", "director")
    for page in range(1, page_count(content) + 1):
        assert "CONFIDENTIAL — PERSONNEL RECORD" in pdf_text(content, page=page)
    text = pdf_text(content)
    assert "Statements or uses of the Portsmouth Public Library System's logo" in text
    assert "Olive Outsider (employee E-olive, Lucasville Branch)" in text
    assert "Inspect for cause · Reported → Inspected" in text
    # The print of a confidential case is in its trail, next to the views.
    assert events_of(app, number)[-1].action == "print"


def test_only_full_readers_may_print_and_refusals_record_nothing(app, api, cast):
    number = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="harassment",
        description="A harassing post.",
    )["number"]
    before = len(events_of(app, number))
    # The reporter sees a receipt only; others do not learn the case exists.
    assert api.get(f"/cases/{number}/record.pdf", "staff").status_code == 403
    for user in ("librarian", "admin", "social", "trustee"):
        response = api.get(f"/cases/{number}/record.pdf", user)
        assert response.status_code == 404, user
        # The same answer as for a number that does not exist.
        assert response.get_json()["error"]["message"] == (
            f"There is no case {number} that you can see."
        )
    assert api.get(f"/cases/{number}/record.pdf").status_code == 401
    assert api.get("/cases/CMP-2026-9999/record.pdf", "director").status_code == 404
    assert api.get("/cases/not-a-number/record.pdf", "director").status_code == 404
    assert len(events_of(app, number)) == before


@pytest.mark.parametrize("value", ["2", "maybe", "1; drop"])
def test_a_bad_redacted_flag_is_refused_by_name(api, value):
    number = complaint(api)
    response = api.get(f"/cases/{number}/record.pdf?redacted={value}", "librarian")
    assert response.status_code == 422
    assert "redacted" in response.get_json()["error"]["fields"]


def test_records_are_tagged_for_accessibility(api):
    content = get_pdf(api, f"/cases/{complaint(api)}/record.pdf", "librarian")
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"])
    assert str(root["/Lang"]) == "en"
    xmp = root["/Metadata"].get_object().get_data()
    assert b'pdfuaid:part="1"' in xmp or b"<pdfuaid:part>1<" in xmp
    # Every font is embedded (the stamp's too).
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (
                font.get("/FontDescriptor")
                or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            )
            descriptor = descriptor.get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_the_cli_prints_a_record_and_a_history(app, api, cast, database_url, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from casework.cli import main

    number = complaint(api)
    violation = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="harassment",
        description="A harassing post.",
    )["number"]
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "cli-test-key")
    runner = CliRunner()
    out = tmp_path / "record.pdf"
    result = runner.invoke(main, ["print", number, "-o", str(out), "--redacted"])
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes())
    assert number in text and "Zelda Quux-Patron" not in text
    assert "by the casework command line" in text

    history = tmp_path / "history.pdf"
    result = runner.invoke(main, ["history", "E-olive", "-o", str(history), "--as", "hr"])
    assert result.exit_code == 0, result.output
    assert violation in pdf_text(history.read_bytes())
    assert events_of(app, violation)[-1].actor == "hr"

    refused = runner.invoke(main, ["history", "E-olive", "-o", str(history), "--as", "librarian"])
    assert refused.exit_code == 1
    assert "no such person" in refused.output
    missing = runner.invoke(main, ["print", "CMP-2026-9999", "-o", str(out)])
    assert missing.exit_code == 1 and "Traceback" not in missing.output
