"""Public-records requests (`records_request`, REQ-…): a workflow file only, walked end to end,
with its "promptly" targets, queues, e-mail, figure and who sees it."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from webpages import Visitor, page_text

from casework.extensions import db
from casework.models import OutboxMessage
from casework.paths import PACKAGE_DIR, resource_dir

REQUEST = "records_request"


def open_request(api, who="records", **fields):
    given = {"request": "Minutes of the March board meeting", "delivery": "email"}
    given.update(fields)
    return api.open(who, REQUEST, **given)


def test_no_python_file_of_the_engine_names_the_request_workflow():
    named = [
        str(path.relative_to(PACKAGE_DIR))
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file()
        and path.suffix in (".py", ".html", ".txt", ".toml")
        # The demo opens requests by name; a migration's name is not engine code.
        and "demo" not in path.relative_to(PACKAGE_DIR).parts
        and "migrations" not in path.parts
        and REQUEST in path.read_text(encoding="utf-8", errors="ignore")
    ]
    assert named == []
    assert (resource_dir("workflows") / f"{REQUEST}.toml").is_file()


def test_a_request_goes_from_receipt_to_each_answer(api):
    for trigger, fields, state in (
        ("fulfil", {"released": "The minutes, by e-mail."}, "fulfilled"),
        (
            "fulfil_partially",
            {
                "released": "The minutes, one passage withheld.",
                "authorities": "Ohio R.C. 149.43(A)(1)(v)",
                "reason": "A passage names a patron.",
            },
            "partially_fulfilled",
        ),
        (
            "deny",
            {"authorities": "Ohio R.C. 149.432", "reason": "Patron records."},
            "denied",
        ),
    ):
        case = open_request(api, requester="A. Requester", delivery_address="a@example.org")
        number = case["number"]
        assert number.startswith("REQ-") and case["state"] == "received"
        assert case["due_at"] is not None
        assert api.ok("records", number, "acknowledge")["state"] == "acknowledged"
        assert api.ok("records", number, trigger, **fields)["state"] == state


def test_denying_or_withholding_in_part_requires_the_authority(api):
    number = open_request(api)["number"]
    api.ok("director", number, "acknowledge")
    for trigger in ("deny", "fulfil_partially"):
        refused = api.fire("records", number, trigger, released="x", reason="Because.")
        assert refused.status_code == 422
        assert "authorities" in refused.get_json()["error"]["fields"]
    assert api.get(f"/cases/{number}", "records").get_json()["state"] == "acknowledged"


def test_the_desk_takes_a_request_and_sees_its_receipt_only(api):
    number = open_request(api, who="librarian", requester="Jo Patron")["number"]
    shown = api.get(f"/cases/{number}", "librarian")
    assert "Jo Patron" not in shown.get_data(as_text=True)
    for who in ("staff", "hr", "social", "trustee", "admin"):
        assert api.get(f"/cases/{number}", who).status_code == 404, who
        assert api.get(f"/cases?workflow={REQUEST}", who).get_json()["total"] == 0
    for who in ("records", "director"):
        assert api.get(f"/cases/{number}", who).get_json()["fields"]["requester"] == "Jo Patron"
    assert api.fire("librarian", number, "acknowledge").status_code in (403, 404)


def test_the_promptly_target_counts_business_days_from_receipt(api):
    received = "2026-03-02T09:00"  # a Monday
    case = open_request(api, received_at=received)
    due = datetime.fromisoformat(case["due_at"].replace("Z", "+00:00")).astimezone(UTC)
    # Three business days after Monday 2 March 2026: Thursday 5 March, end of day in New York.
    assert due.date() in (datetime(2026, 3, 5).date(), datetime(2026, 3, 6).date())
    assert case["overdue"] is True
    listed = api.get(f"/cases?workflow={REQUEST}&overdue=1", "records").get_json()
    assert case["number"] in [c["number"] for c in listed["items"]]
    acknowledged = api.ok("records", case["number"], "acknowledge")
    assert acknowledged["due_at"] != case["due_at"]
    fresh = open_request(api)
    assert fresh["overdue"] is False


def test_requests_have_their_queues_mail_and_dashboard_figure(app, api, cast):
    with app.app_context():
        cast.user("records").email = "records@library.example"
        db.session.commit()
    overdue = open_request(
        api, who="librarian", received_at="2026-03-02T09:00", requester="Secret Name"
    )["number"]
    home = page_text(Visitor(app, "records").get("/").text)
    assert "Records requests to acknowledge" in home and overdue in home
    director_home = page_text(Visitor(app, "director").get("/").text)
    assert "Records requests not yet acknowledged, overdue" in director_home
    assert overdue in director_home
    api.ok("records", overdue, "acknowledge")
    api.ok("records", overdue, "fulfil", released="All of it.")
    with app.app_context():
        mail = db.session.execute(sa.select(OutboxMessage.subject, OutboxMessage.body_text)).all()
    assert any(s == f"{overdue}: public-records request received" for s, _ in mail)
    assert not any("Secret Name" in text for _, text in mail)
    dashboard = page_text(Visitor(app, "director").get("/dashboard").text)
    assert "Median time to answer a records request" in dashboard
    copy = api.get(f"/cases/{overdue}/record.pdf?redacted=1", "records")
    assert copy.status_code == 200 and b"Secret Name" not in copy.data
