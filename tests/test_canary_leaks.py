"""Canaries planted in violation cases appear nowhere a user who may not see the case looks: lists,
counts, search, dashboards, CSV and JSON exports, e-mails and PDFs, for every such role, the
subject (even with a role that reads violation cases) and the administrator included."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from webpages import Visitor

from casework.extensions import db
from casework.models import Case, OutboxMessage, User

CANARY_A = "quokkacanaryA"
CANARY_B = "quokkacanaryB"


def plant(api, cast, subject: str, reporter: str, canary: str) -> str:
    """A violation case carrying `canary` in every part of it, decided (so HR is told)."""
    number = api.open(
        reporter,
        "violation",
        subject=cast.person_ids[subject],
        category="harassment",
        protected_classes=["religion"],
        platform=f"Platform {canary}",
        post_url=f"https://social.example/{canary}",
        description=f"Mocking post {canary}",
    )["number"]
    actor = "trustee" if subject == "director" else "director"
    api.ok(actor, number, "inspect", cause=f"Cause {canary}", findings=f"Found {canary}")
    api.ok(actor, number, "review", assessment=f"Assessment {canary}")
    api.post(f"/cases/{number}/notes", actor, json={"text": f"Note {canary}"})
    upload = api.post(
        f"/cases/{number}/attachments",
        actor,
        data={"file": (io.BytesIO(f"evidence {canary}".encode()), f"{canary}.txt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201
    api.ok(actor, number, "discipline", action="written_warning", handbook_reference=canary)
    return number


@pytest.fixture
def planted(app, cast, api):
    """Case A is about an HR user, case B about the Director; every user has an e-mail address."""
    cast.add_user("hr2", "hr")
    with app.app_context():
        for user in db.session.execute(sa.select(User)).scalars():
            user.email = f"{user.username}@library.example"
        db.session.commit()
    # Ordinary cases, so the lists and counts the canaries must be absent from are not empty.
    api.open("librarian", "complaint", summary="Ordinary complaint", channel="email")
    other = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Ordinary report",
    )["number"]
    api.ok("director", other, "dismiss", reason="no_violation", explanation="Nothing there")
    account = api.open(
        "staff",
        "account",
        platform="instagram",
        handle="@branch",
        branch="Main",
        purpose="Events",
        administrators=["social"],
    )["number"]
    for who, trigger in (("director", "approve"), ("social", "approve"), ("social", "activate")):
        api.ok(who, account, trigger)
    a = plant(api, cast, subject="hr", reporter="staff", canary=CANARY_A)
    b = plant(api, cast, subject="director", reporter="librarian", canary=CANARY_B)
    # A case the HR user reads, linked to the case about them: the link must not number it.
    linked = api.post(f"/cases/{other}/links", "director", json={"number": a})
    assert linked.status_code == 201
    return {a: CANARY_A, b: CANARY_B}


def ordinary_violation(app) -> str:
    """The ordinary violation case (the first opened), which every reader of violations sees."""
    with app.app_context():
        found: str = (
            db.session.execute(
                sa.select(Case.number).where(Case.workflow_key == "violation").order_by(Case.id)
            )
            .scalars()
            .first()
        )
        return found


#: Who may not see each case (the reporter, who holds a receipt, may not see its content).
BLIND = {
    CANARY_A: ["hr", "librarian", "social", "staff", "staff2", "trustee", "admin"],
    CANARY_B: ["director", "social", "staff", "staff2", "librarian", "admin"],
}
RECEIPT = {CANARY_A: "staff", CANARY_B: "librarian"}


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(page.extract_text() or "" for page in reader.pages)


def everything_seen(app, cast, username: str, numbers: list[str]) -> dict[str, str]:
    """What one user can read anywhere: pages, exports, JSON, PDFs they may print; the ordinary
    violation case, linked to a planted one, included."""
    numbers = [*numbers, ordinary_violation(app)]
    visitor = Visitor(app, username)
    api = app.test_client()
    headers = cast.headers(username)
    seen: dict[str, str] = {}
    pages = [
        "/",
        "/cases",
        "/cases?workflow=violation",
        "/cases?q=quokka",
        "/cases?q=canary",
        "/cases?state=disciplined",
        "/cases/export.csv",
        "/cases/export.csv?workflow=violation",
        "/cases/export.csv?q=quokka",
        "/dashboard",
        "/registry",
        "/people",
        f"/people/{cast.person_ids['hr']}",
        f"/people/{cast.person_ids['director']}",
        "/account",
        "/notifications/preferences",
        "/notifications/outbox",
        "/workflows/violation",
        "/administration-trail",
    ] + [f"/cases/{n}" for n in numbers]
    for path in pages:
        response = visitor.get(path)
        assert response.status_code < 500, (username, path)
        seen[path] = response.get_data(as_text=True)
    endpoints = [
        "/api/v1/cases",
        "/api/v1/cases?workflow=violation",
        "/api/v1/cases?q=quokka",
        "/api/v1/cases?state=disciplined",
        "/api/v1/cases?per_page=1",
        "/api/v1/cases?per_page=1&sort=-updated_at",
        "/api/v1/cases?state=disciplined&workflow=violation",
        "/api/v1/people?q=",
        "/api/v1/audit/verify",
    ] + [f"/api/v1/cases/{n}{tail}" for n in numbers for tail in ("", "/events")]
    for path in endpoints:
        response = api.get(path, headers=headers)
        assert response.status_code < 500, (username, path)
        seen[path] = response.get_data(as_text=True)
    for path in [
        "/api/v1/registry.pdf",
        f"/api/v1/people/{cast.person_ids['hr']}/history.pdf",
        f"/api/v1/people/{cast.person_ids['director']}/history.pdf",
    ] + [f"/api/v1/cases/{n}/record.pdf{q}" for n in numbers for q in ("", "?redacted=1")]:
        response = api.get(path, headers=headers)
        assert response.status_code < 500, (username, path)
        if response.mimetype == "application/pdf":
            seen[path] = pdf_text(response.data)
        else:
            seen[path] = response.get_data(as_text=True)
    # The print and export buttons (forms).
    buttons = [(f"/cases/{n}/record.pdf", {"redacted": r}) for n in numbers for r in ("0", "1")]
    buttons += [
        ("/registry.pdf", {}),
        (f"/people/{cast.person_ids['hr']}/history.pdf", {}),
        (f"/people/{cast.person_ids['director']}/history.pdf", {}),
        ("/cases/export.csv", {"q": "quokka"}),
        ("/cases/export.csv", {"workflow": "violation"}),
    ]
    for path, form in buttons:
        response = visitor.post(path, form)
        assert response.status_code < 500, (username, path)
        key = f"POST {path} {form}"
        if response.mimetype == "application/pdf":
            seen[key] = pdf_text(response.data)
        else:
            seen[key] = response.get_data(as_text=True)
    # Refused answers: a stale version (409, which carries the case to a reader) and an empty
    # note (422, the case page shown again with its error).
    for n in numbers:
        stale = api.post(
            f"/api/v1/cases/{n}/transitions",
            headers=headers,
            json={"trigger": "nonsense", "version": 0},
        )
        seen[f"POST /api/v1/cases/{n}/transitions"] = stale.get_data(as_text=True)
        empty = visitor.post(f"/cases/{n}/notes", {"text": ""})
        seen[f"POST /cases/{n}/notes"] = empty.get_data(as_text=True)
        for response in (stale, empty):
            assert response.status_code < 500, (username, n)
    return seen


@pytest.mark.parametrize("username", sorted({u for users in BLIND.values() for u in users}))
def test_no_canary_reaches_anyone_who_may_not_see_the_case(app, cast, planted, username):
    numbers = list(planted)
    seen = everything_seen(app, cast, username, numbers)
    for number, canary in planted.items():
        if username not in BLIND[canary]:
            continue
        for path, text in seen.items():
            assert canary not in text, (username, path)
            if username != RECEIPT[canary] and number not in path:
                assert number not in text, (username, path)
    # E-mails: none to a user about a case they may not see, and no canary in any message.
    with app.app_context():
        user_id = db.session.execute(
            sa.select(User.id).where(User.username == username)
        ).scalar_one()
        for number, canary in planted.items():
            if username not in BLIND[canary]:
                continue
            case_id = db.session.execute(
                sa.select(Case.id).where(Case.number == number)
            ).scalar_one()
            told = db.session.execute(
                sa.select(OutboxMessage.subject).where(
                    OutboxMessage.user_id == user_id, OutboxMessage.case_id == case_id
                )
            ).all()
            assert told == [], (username, number)


def test_no_message_carries_any_canary_and_readers_were_told(app, planted):
    with app.app_context():
        messages = db.session.execute(sa.select(OutboxMessage)).scalars().all()
        recipients = {m.recipient for m in messages}
        for message in messages:
            for canary in planted.values():
                text = f"{message.subject} {message.body_text} {message.body_html}"
                assert canary not in text and "Mocking post" not in text, message.recipient
    # The decisions were announced to the HR user who may read them, not to the subject.
    assert "hr2@library.example" in recipients and "hr@library.example" in recipients
    assert len(messages) >= 3


@pytest.mark.parametrize("reader", ["director", "hr2"])
def test_the_canary_does_reach_those_who_may_read_it(app, cast, planted, reader):
    """The searches above would find the canary if it were visible: shown by those who may."""
    number = next(n for n, c in planted.items() if c == CANARY_A)
    seen = everything_seen(app, cast, reader, [number])
    assert CANARY_A in seen[f"/cases/{number}"]
    assert CANARY_A in seen[f"/api/v1/cases/{number}"]
    assert number in seen["/api/v1/cases?q=quokka"]
    assert CANARY_A in seen[f"/api/v1/cases/{number}/record.pdf"]
    assert CANARY_A in seen[f"POST /cases/{number}/record.pdf {{'redacted': '0'}}"]
    assert CANARY_A in seen[f"POST /api/v1/cases/{number}/transitions"]
    assert CANARY_A in seen[f"/api/v1/people/{cast.person_ids['hr']}/history.pdf"]
