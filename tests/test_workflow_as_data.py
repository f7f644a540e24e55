"""A workflow is a file: queues, e-mail, dashboard figures and deadlines come from it, and a fifth
workflow (access appeals) works end to end with no Python naming it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from webpages import Visitor, page_text
from workflow_driver import active_account

from casework.extensions import db
from casework.models import Case, DeniedAuthor, Event, OutboxMessage
from casework.paths import PACKAGE_DIR, resource_dir
from casework.workflow import WorkflowFileError, load_registry

APPEAL = "access_appeal"


def test_no_python_file_of_the_engine_names_the_appeal_workflow():
    named = [
        str(path.relative_to(PACKAGE_DIR))
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file()
        and path.suffix in (".py", ".html", ".txt", ".toml")
        and APPEAL in path.read_text(encoding="utf-8", errors="ignore")
    ]
    assert named == []
    assert (resource_dir("workflows") / f"{APPEAL}.toml").is_file()


@pytest.fixture
def denied_author(api):
    """An active account, a removed post whose author is denied access: (account, moderation)."""
    account = active_account(api)
    post = api.open(
        "social",
        "moderation",
        account=account,
        post_url="https://social.example/p/1",
        author="troll42",
        content="Buy pills",
        is_complaint="no",
    )["number"]
    api.ok("social", post, "remove", grounds="spam_or_advertising", note="Spam.")
    api.ok(
        "social",
        post,
        "deny_access",
        reason="Repeated spam.",
        duration="90_days",
        review_on="2027-01-15",
    )
    return account, post


def _denials(app, account):
    with app.app_context():
        case_id = db.session.execute(sa.select(Case.id).where(Case.number == account)).scalar()
        return (
            db.session.execute(
                sa.select(DeniedAuthor).where(DeniedAuthor.account_case_id == case_id)
            )
            .scalars()
            .all()
        )


def test_an_appeal_goes_from_receipt_to_restored_access(app, api, denied_author):
    account, post = denied_author
    [denial] = _denials(app, account)
    assert denial.until is not None and denial.review_on.isoformat() == "2027-01-15"
    appeal = api.open(
        "social",
        APPEAL,
        account=account,
        moderation=post,
        author="troll42",
        statement="I will not post spam again.",
    )
    assert appeal["number"].startswith("APL-") and appeal["state"] == "received"
    assert appeal["due_at"] is not None
    number = appeal["number"]
    # Only the Director decides; the social media team reviews first.
    assert api.fire("social", number, "restore", reason="x").status_code in (403, 409, 422)
    api.ok("social", number, "review", recommendation="restore", assessment="First offence.")
    assert api.fire("social", number, "restore", reason="x").status_code == 403
    body = api.ok("director", number, "restore", reason="Appeal accepted.")
    assert body["state"] == "restored"
    [denial] = _denials(app, account)
    assert denial.lifted_at is not None
    with app.app_context():
        account_id = db.session.execute(sa.select(Case.id).where(Case.number == account)).scalar()
        actions = (
            db.session.execute(
                sa.select(Event.action).where(Event.case_id == account_id).order_by(Event.seq)
            )
            .scalars()
            .all()
        )
    assert actions[-1] == "access_restored"


def test_an_appeal_has_its_queues_mail_and_dashboard_figure(app, api, cast, denied_author):
    account, post = denied_author
    with app.app_context():
        for name in ("social", "social2", "director"):
            cast.user(name).email = f"{name}@library.example"
        db.session.commit()
    number = api.open("librarian", APPEAL, account=account, author="troll42", statement="Please.")[
        "number"
    ]
    social_home = page_text(Visitor(app, "social").get("/").text)
    assert "Access appeals to review" in social_home and number in social_home
    api.ok("social", number, "review", recommendation="uphold", assessment="Spam again.")
    director_home = page_text(Visitor(app, "director").get("/").text)
    assert "Access appeals to decide" in director_home and number in director_home
    api.ok("director", number, "uphold", reason="The posts were spam.")
    with app.app_context():
        mail = db.session.execute(
            sa.select(OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body_text)
        ).all()
    subjects = {(to, subject) for to, subject, _ in mail}
    assert ("social@library.example", f"{number}: access appeal received") in subjects
    assert ("director@library.example", f"{number}: access appeal waiting for your decision") in (
        subjects
    )
    # The author is confidential: no e-mail names them.
    assert not any("troll42" in text for _, _, text in mail)
    dashboard = page_text(Visitor(app, "director").get("/dashboard").text)
    assert "Median time to decide an access appeal" in dashboard
    # And it prints.
    record = api.get(f"/cases/{number}/record.pdf", "director")
    assert record.status_code == 200 and record.data.startswith(b"%PDF")


def test_an_appeal_is_hidden_from_staff_who_do_not_moderate(api, denied_author):
    account, _ = denied_author
    number = api.open("social", APPEAL, account=account, author="troll42", statement="Please.")[
        "number"
    ]
    assert api.get(f"/cases/{number}", "staff").status_code == 404
    listed = api.get(f"/cases?workflow={APPEAL}", "staff").get_json()
    assert listed["total"] == 0


def test_the_appeal_deadline_counts_from_when_it_was_received(api, denied_author):
    account, _ = denied_author
    received = "2026-03-02T09:00"  # a Monday
    appeal = api.open(
        "social",
        APPEAL,
        account=account,
        author="troll42",
        statement="Please.",
        received_at=received,
    )
    due = datetime.fromisoformat(appeal["due_at"].replace("Z", "+00:00")).astimezone(UTC)
    # Ten business days after Monday 2 March 2026: Monday 16 March, end of day in New York.
    assert due.date() in (datetime(2026, 3, 16).date(), datetime(2026, 3, 17).date())
    assert appeal["overdue"] is True
    future = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    refused = api.post(
        "/cases",
        "social",
        json={
            "workflow": APPEAL,
            "fields": {
                "account": account,
                "author": "x",
                "statement": "y",
                "received_at": future,
            },
        },
    )
    assert refused.status_code == 422
    assert "received_at" in refused.get_json()["error"]["fields"]


def test_a_complaint_deadline_counts_from_received_on(api):
    body = api.open(
        "librarian", "complaint", summary="Rude", channel="phone", received_at="2026-03-06T16:00"
    )
    # Friday 6 March 2026, 2 business days: Tuesday 10 March.
    due = datetime.fromisoformat(body["due_at"].replace("Z", "+00:00"))
    assert due.astimezone(UTC).date() in (
        datetime(2026, 3, 10).date(),
        datetime(2026, 3, 11).date(),
    )
    assert body["fields"]["received_at"].startswith("2026-03-06T")
    fresh = api.open("librarian", "complaint", summary="Now", channel="phone")
    assert fresh["fields"]["received_at"]  # defaults to now, stored


def test_denying_twice_is_refused_and_restoring_lifts_the_denial(app, api, denied_author):
    account, post = denied_author
    again = api.fire(
        "social",
        post,
        "deny_access",
        reason="Again.",
        duration="permanent",
        review_on="2027-01-15",
    )
    assert again.status_code == 422
    assert "already denied" in again.get_json()["error"]["message"]
    missing = api.fire("social", post, "deny_access", reason="Again.")
    assert set(missing.get_json()["error"]["fields"]) >= {"duration", "review_on"}
    api.ok("director", post, "restore_access", reason="Reviewed: lifted.")
    [denial] = _denials(app, account)
    assert denial.lifted_at is not None
    nothing = api.fire("director", post, "restore_access", reason="Again.")
    assert nothing.status_code == 422
    assert "nothing to restore" in nothing.get_json()["error"]["message"]
    # Denied again after the lift: a new denial, permanent this time.
    api.ok(
        "social", post, "deny_access", reason="Back.", duration="permanent", review_on="2027-02-01"
    )
    rows = _denials(app, account)
    assert len(rows) == 2 and rows[1].until is None


def test_the_registry_lists_each_denial_with_its_dates(app, api, denied_author):
    account, post = denied_author
    page = page_text(Visitor(app, "social").get("/registry").text)
    assert "troll42" in page and "review on 15 January 2027" in page and "until" in page
    assert "Ended" not in page and "lifted on" not in page
    api.ok("director", post, "restore_access", reason="Lifted.")
    page = page_text(Visitor(app, "social").get("/registry").text)
    # A lifted denial stays listed, marked as ended, with the day access was restored.
    assert "troll42 Ended" in page and "lifted on" in page


def _copy_workflows(tmp_path: Path) -> Path:
    folder = tmp_path / "workflows"
    shutil.copytree(resource_dir("workflows"), folder)
    return folder


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ('state = "received"\nsort = "due_at"', 'state = "lost"\nsort = "due_at"', "unknown state"),
        ('sort = "due_at"', 'sort = "random"', "sort must be one of"),
        ('mail_fields = ["account"]', 'mail_fields = ["author"]', "confidential"),
        ('states = ["under_review"]', 'states = ["received"]', "already sends"),
        ('received_field = "received_at"', 'received_field = "statement"', "type datetime"),
        ('to = ["restored", "upheld"]', 'to = ["closed"]', "unknown state"),
    ],
)
def test_a_bad_queue_notification_or_figure_stops_start_up(tmp_path, old, new, reason):
    folder = _copy_workflows(tmp_path)
    path = folder / f"{APPEAL}.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(WorkflowFileError) as caught:
        load_registry(folder)
    assert reason in str(caught.value) and APPEAL in str(caught.value)


def test_a_new_workflow_file_gets_its_queue_without_code(make_app, cast, tmp_path):
    folder = _copy_workflows(tmp_path)
    text = (folder / f"{APPEAL}.toml").read_text()
    text = text.replace(f'key = "{APPEAL}"', 'key = "suggestion"').replace(
        'prefix = "APL"', 'prefix = "SUG"'
    )
    text = text.replace("Access appeals to review", "Suggestions to read").replace(
        'key = "appeal_', 'key = "suggestion_'
    )
    (folder / "suggestion.toml").write_text(text)
    app = make_app(WORKFLOWS_DIR=str(folder))
    home = page_text(Visitor(app, "social").get("/").text)
    assert "Suggestions to read" in home


def test_the_registry_names_denied_authors_only_to_those_who_read_posts(app, api, denied_author):
    team = page_text(Visitor(app, "social").get("/registry").text)
    staff = page_text(Visitor(app, "staff").get("/registry").text)
    assert "troll42" in team
    assert "troll42" not in staff
    printed = api.get("/registry.pdf", "staff")
    assert printed.status_code == 200 and b"troll42" not in printed.data
