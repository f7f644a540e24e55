"""Deadlines: due dates in business days of the library's zone, overdue cases, workflow versions."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from timed import et, fire_at, open_at
from workflow_driver import new_version

from casework.extensions import db
from casework.jobs import deadlines
from casework.models import Case, utcnow
from casework.paths import resource_dir


def due_at(app: Any, number: str) -> datetime | None:
    with app.app_context():
        found = db.session.execute(sa.select(Case.due_at).where(Case.number == number))
        value: datetime | None = found.scalar_one()
        db.session.rollback()
        return value


COMPLAINT = {"summary": "Hours wrong", "channel": "facebook"}
ACCOUNT = {"platform": "x", "handle": "@ppl", "branch": "Main Library", "purpose": "News."}


def test_the_deadline_counts_business_days_from_the_local_day_of_receipt(app, cast):
    # 23:30 on Friday in Portsmouth is already Saturday in UTC: it still counts from Friday.
    late_friday = open_at(app, "librarian", "complaint", COMPLAINT, et(2026, 4, 10, 23, 30))
    assert due_at(app, late_friday) == et(2026, 4, 14, 23, 59, 59)
    saturday = open_at(app, "librarian", "complaint", COMPLAINT, et(2026, 4, 11, 10, 0))
    assert due_at(app, saturday) == et(2026, 4, 14, 23, 59, 59)
    # Memorial Day (25 May 2026) is skipped in an account request's ten business days.
    account = open_at(app, "staff", "account", ACCOUNT, et(2026, 5, 18, 9, 0))
    assert due_at(app, account) == et(2026, 6, 2, 23, 59, 59)


def test_the_deadline_ends_when_the_case_leaves_its_state(app, cast):
    number = open_at(app, "librarian", "complaint", COMPLAINT, et(2026, 4, 6, 9, 0))
    fire_at(app, "librarian", number, "engage", et(2026, 4, 7, 9, 0), response="Answered.")
    assert due_at(app, number) is None
    with app.app_context():
        assert deadlines.overdue_cases(et(2026, 5, 1, 9, 0)) == []
        db.session.rollback()


def test_overdue_shows_in_the_api_and_its_lists_until_the_sweep_acts(app, api, cast):
    late = open_at(app, "librarian", "complaint", COMPLAINT, utcnow() - timedelta(days=10))
    fresh = api.open("librarian", "complaint", **COMPLAINT)["number"]

    assert api.get(f"/cases/{late}", "librarian").get_json()["overdue"] is True
    assert api.get(f"/cases/{fresh}", "librarian").get_json()["overdue"] is False
    listed = api.get("/cases?overdue=1", "librarian").get_json()["items"]
    assert [c["number"] for c in listed] == [late]

    with app.app_context():
        deadlines.sweep_deadlines(utcnow())
        db.session.commit()
    body = api.get(f"/cases/{late}", "director").get_json()
    # Escalated, the complaint has the Director's own deadline, not yet passed.
    assert (body["state"], body["overdue"]) == ("escalated", False)
    assert body["due_at"] is not None
    assert api.get("/cases?overdue=1", "librarian").get_json()["items"] == []


def test_an_open_case_keeps_the_deadline_rule_of_its_workflow_version(
    app, make_app, cast, tmp_path: Path
):
    old = open_at(app, "librarian", "complaint", COMPLAINT, et(2026, 4, 6, 9, 0))

    # A new version of the complaint workflow: five business days, and no automatic escalation.
    folder = tmp_path / "workflows"
    shutil.copytree(resource_dir("workflows"), folder)
    path = folder / "complaint.toml"
    text = path.read_text()
    text = new_version(text)
    text = text.replace("business_days = 2", "business_days = 5")
    text = text.replace('on_overdue = "escalate"\n', "")
    path.write_text(text)
    v2 = make_app(WORKFLOWS_DIR=str(folder))

    new = open_at(v2, "librarian", "complaint", COMPLAINT, et(2026, 4, 6, 9, 0))
    assert due_at(v2, new) == et(2026, 4, 13, 23, 59, 59)
    assert due_at(v2, old) == et(2026, 4, 8, 23, 59, 59)

    with v2.app_context():
        actions = deadlines.sweep_deadlines(et(2026, 4, 15, 9, 0))
        db.session.commit()
        rows = db.session.execute(sa.select(Case.number, Case.state))
        states = {number: state for number, state in rows}
    assert {(a.number, a.what) for a in actions} == {(old, "fire"), (new, "remind")}
    assert (states[old], states[new]) == ("escalated", "received")
