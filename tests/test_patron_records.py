"""Patron identity (Ohio R.C. 149.432) and the public-records copy: complaints and posts are seen
by the Librarian in Charge, the Director, the social media team and whoever opened them; the
fields that can identify a patron are confidential and stay out of e-mail and public copies; the
public-records copy of a violation case names no member of staff and withholds its free text."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from webpages import Visitor

from casework.extensions import db
from casework.models import OutboxMessage, User, UserRole

PATRON = "Zanzibar Quokkapatron"
POST_URL = "https://social.example/quokka-post-5531"
CONTENT = "Quokkacontent says the branch is awful"
AUTHOR = "quokka_author_77"

NOT_READERS = ("staff", "hr", "trustee", "admin")
READERS = ("librarian", "director", "social")


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def printed(api, path: str, user: str) -> tuple[str, bytes]:
    response = api.get(path, user)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return pdf_text(response.data), response.data


@pytest.fixture
def patron_cases(app, api, cast):
    with app.app_context():
        for user in db.session.execute(sa.select(User)).scalars():
            user.email = f"{user.username}@library.example"
        db.session.commit()
    complaint = api.open(
        "librarian",
        "complaint",
        summary="Unhappy about hours",
        channel="facebook",
        patron=PATRON,
        post_url=POST_URL,
        content=CONTENT,
    )["number"]
    api.ok("librarian", complaint, "escalate", reason="Needs the Director")
    post = api.open(
        "social",
        "moderation",
        post_url=POST_URL,
        author=AUTHOR,
        content=CONTENT,
        is_complaint="no",
    )["number"]
    return complaint, post


def test_complaints_and_posts_are_hidden_from_other_staff(app, api, patron_cases):
    numbers = list(patron_cases)
    for user in NOT_READERS:
        for number in numbers:
            for tail in ("", "/events", "/record.pdf", "/record.pdf?redacted=1"):
                assert api.get(f"/cases/{number}{tail}", user).status_code == 404, (user, tail)
        listed = api.get("/cases", user).get_json()
        assert listed["total"] == 0 and listed["items"] == [], user
        searched = api.get("/cases?q=quokkacontent", user).get_json()
        assert searched["total"] == 0, user
        if user == "admin":
            continue
        visitor = Visitor(app, user)
        for path in ("/", "/cases", "/cases?q=quokka", "/dashboard", "/cases/export.csv"):
            text = visitor.get(path).text
            for number in numbers:
                assert number not in text, (user, path)
            assert PATRON not in text and AUTHOR not in text and CONTENT not in text
        for number in numbers:
            assert visitor.get(f"/cases/{number}").status_code == 404, user
    for user in READERS:
        for number in numbers:
            assert api.get(f"/cases/{number}", user).status_code == 200, (user, number)


def test_whoever_opened_a_complaint_keeps_reading_it(app, api, cast):
    cast.add_user("lic2", "librarian_in_charge")
    number = api.open("lic2", "complaint", summary="Noise", channel="phone", patron=PATRON)[
        "number"
    ]
    with app.app_context():
        user_id = db.session.execute(sa.select(User.id).where(User.username == "lic2")).scalar()
        db.session.execute(
            sa.delete(UserRole).where(
                UserRole.user_id == user_id, UserRole.role == "librarian_in_charge"
            )
        )
        db.session.commit()
    assert api.get(f"/cases/{number}", "lic2").get_json()["fields"]["patron"] == PATRON
    assert number in json.dumps(api.get("/cases", "lic2").get_json())
    assert api.get(f"/cases/{number}", "staff").status_code == 404


def test_the_fields_that_identify_a_patron_are_confidential(api):
    for key, names in (
        ("complaint", ("patron", "post_url", "content")),
        ("moderation", ("author", "post_url", "content")),
    ):
        fields = {
            f["name"]: f for f in api.get(f"/workflows/{key}", "librarian").get_json()["fields"]
        }
        for name in names:
            assert fields[name]["confidential"] is True, (key, name)


def test_no_email_carries_a_patrons_identity(app, patron_cases):
    with app.app_context():
        messages = db.session.execute(sa.select(OutboxMessage)).scalars().all()
        assert messages  # the Director was told of the escalation, the team of the post
        for message in messages:
            text = f"{message.subject} {message.body_text} {message.body_html}"
            for secret in (PATRON, POST_URL, CONTENT, AUTHOR, "quokka"):
                assert secret not in text, message.recipient


def test_public_copies_of_complaints_and_posts_withhold_the_patron(api, cast, patron_cases):
    complaint, post = patron_cases
    account = api.open(
        "social",
        "account",
        platform="facebook",
        handle="@library",
        branch="Main",
        purpose="News",
        administrators=["social"],
    )["number"]
    api.ok("director", account, "approve")
    api.ok("social2", account, "approve")
    api.ok("social", account, "activate")
    removed = api.open(
        "social",
        "moderation",
        account=account,
        post_url=POST_URL,
        author=AUTHOR,
        content=CONTENT,
        is_complaint="no",
    )["number"]
    api.ok("social", removed, "remove", grounds="spam_or_advertising", note="Spam")
    api.ok(
        "social",
        removed,
        "deny_access",
        reason="Repeated spam",
        duration="90_days",
        review_on="2027-01-15",
    )
    for number in (complaint, post, removed, account):
        full, _ = printed(api, f"/cases/{number}/record.pdf", "director")
        public, raw = printed(api, f"/cases/{number}/record.pdf?redacted=1", "director")
        for secret in (PATRON, POST_URL, CONTENT, AUTHOR, "quokka"):
            assert secret.lower() not in public.lower(), (number, secret)
            assert secret.encode() not in raw, (number, secret)
        assert "R.C. 149.432" in public, number
    full, _ = printed(api, f"/cases/{removed}/record.pdf", "director")
    assert AUTHOR in full and CONTENT in full.replace("\n", " ")


STAFF_NAMES = ("qreporterzz", "qassigneezz", "qdeciderzz", "Quinn Reporterzz", "Quill Decidezz")


def test_the_public_copy_of_a_violation_names_no_member_of_staff(app, api, cast):
    cast.add_user("qreporterzz", "staff")
    cast.add_user("qassigneezz", "hr")
    cast.add_user("qdeciderzz", "director")
    with app.app_context():
        for username, name in (
            ("qreporterzz", "Quinn Reporterzz"),
            ("qdeciderzz", "Quill Decidezz"),
        ):
            user = db.session.execute(sa.select(User).where(User.username == username)).scalar_one()
            user.display_name = name
        db.session.commit()
    number = api.open(
        "qreporterzz",
        "violation",
        subject=cast.person_ids["olive"],
        category="harassment",
        platform="Quokkaplatform",
        post_url="https://social.example/quokka-vio",
        description="Quokkadescription of the post",
    )["number"]
    assert (
        api.post(
            f"/cases/{number}/assignee", "qdeciderzz", json={"username": "qassigneezz"}
        ).status_code
        == 200
    )
    api.ok("qdeciderzz", number, "inspect", cause="Quokkacause", findings="Quokkafindings")
    api.post(f"/cases/{number}/notes", "qdeciderzz", json={"text": "Quokkanote"})
    api.post(
        f"/cases/{number}/attachments",
        "qdeciderzz",
        data={"file": (io.BytesIO(b"evidence"), "quokkafile.txt")},
        content_type="multipart/form-data",
    )
    api.ok("qdeciderzz", number, "review", assessment="Quokkaassessment")
    api.ok(
        "qdeciderzz",
        number,
        "discipline",
        action="written_warning",
        handbook_reference="Quokkahandbook",
    )
    full, _ = printed(api, f"/cases/{number}/record.pdf", "qdeciderzz")
    # The full copy names staff by full name and role (each of these has an employee record).
    for name in (
        "Qreporterzz, Staff",
        "Qassigneezz, Human Resources",
        "Qdeciderzz, Library Director",
    ):
        assert name in full, name
    for name in ("Olive Outsider", "Quokkanote"):
        assert name in full, name
    public, raw = printed(api, f"/cases/{number}/record.pdf?redacted=1", "qdeciderzz")
    for secret in (*STAFF_NAMES, "Olive Outsider", "E-olive", "quokka"):
        assert secret.lower() not in public.lower(), secret
        assert secret.encode() not in raw, secret
    assert "[withheld: personnel record, Ohio R.C. 149.43(A)(1)]" in public
    assert "free text, not reviewed" not in public
    # Who printed it is in the case's trail, not on the copy.
    events = api.get(f"/cases/{number}/events", "qdeciderzz").get_json()["items"]
    printed_event = [e for e in events if e["action"] == "print"][-1]
    assert printed_event["actor"] == "qdeciderzz" and printed_event["data"]["redacted"] is True
