"""Account administrators over time: reassignment, the continuity watch, the yearly review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from webpages import Visitor, page_text

from casework.extensions import db
from casework.jobs.deadlines import sweep_deadlines
from casework.models import Case, Event, OutboxMessage, Person
from casework.services.users import find_user


def _active_account(api, administrators):
    number = api.open(
        "social",
        "account",
        platform="instagram",
        handle="@teens",
        branch="Teen Services",
        purpose="Teen programs",
        administrators=administrators,
    )["number"]
    api.ok("director", number, "approve")
    api.ok("social", number, "approve")
    body = api.ok("social", number, "activate")
    assert body["state"] == "active"
    return number, body


def _sweep(app, now=None):
    with app.app_context():
        actions = sweep_deadlines(now or datetime.now(UTC))
        db.session.commit()
        return [a.line() for a in actions]


def _events(app, number, action):
    with app.app_context():
        case_id = db.session.execute(sa.select(Case.id).where(Case.number == number)).scalar()
        return [
            e.data
            for e in db.session.execute(
                sa.select(Event).where(Event.case_id == case_id, Event.action == action)
            ).scalars()
        ]


def test_reassigning_administrators_keeps_continuity_and_is_recorded(api, cast):
    number, _ = _active_account(api, ["social", "staff"])
    refused = api.fire(
        "social", number, "reassign_administrators", administrators=["staff2"], reason="x"
    )
    assert refused.status_code == 422
    assert "social media team or in IT" in refused.get_json()["error"]["message"]
    missing = api.fire("social", number, "reassign_administrators", administrators=["staff2"])
    assert "reason" in missing.get_json()["error"]["fields"]
    body = api.ok(
        "director",
        number,
        "reassign_administrators",
        administrators=["social2", "staff2"],
        reason="Staff member left; supervisor assigned staff2.",
    )
    assert body["state"] == "active"
    assert body["fields"]["administrators"] == ["social2", "staff2"]
    assert (
        api.fire(
            "staff", number, "reassign_administrators", administrators=["social"], reason="x"
        ).status_code
        == 403
    )


def test_the_sweep_flags_an_account_whose_only_team_administrator_is_disabled(app, api, cast):
    number, _ = _active_account(api, ["social", "staff"])
    with app.app_context():
        cast.user("social2").email = "social2@library.example"
        db.session.commit()
    assert not any(number in line for line in _sweep(app))
    with app.app_context():
        find_user("social").active = False
        db.session.commit()
    lines = _sweep(app)
    flagged = [line for line in lines if line.startswith(number)]
    assert flagged and "needs new administrators" in flagged[0]
    assert "no administrator on the social media team or in IT" in flagged[0]
    assert "social2" in flagged[0]  # told
    [raised] = _events(app, number, "flagged")
    assert "disabled or unknown: social" in raised["reason"]
    with app.app_context():
        subjects = (
            db.session.execute(
                sa.select(OutboxMessage.subject).where(
                    OutboxMessage.recipient == "social2@library.example"
                )
            )
            .scalars()
            .all()
        )
    assert f"{number}: needs new administrators" in subjects
    # A second sweep changes nothing; the registry and the team's queue show the flag.
    assert not any(line.startswith(number) for line in _sweep(app))
    registry = page_text(Visitor(app, "social2").get("/registry").text)
    assert "Needs new administrators" in registry
    home = page_text(Visitor(app, "social2").get("/").text)
    assert "Accounts that need new administrators (1)" in home
    # New administrators clear it, recorded.
    api.ok(
        "social2",
        number,
        "reassign_administrators",
        administrators=["social2"],
        reason="Took over.",
    )
    assert any("flag cleared" in line for line in _sweep(app) if line.startswith(number))
    assert _events(app, number, "flag_cleared")


def test_an_administrator_who_left_the_library_flags_the_account(app, api, cast):
    number, _ = _active_account(api, ["social", "staff"])
    with app.app_context():
        person = db.session.get(Person, cast.person_ids["staff"])
        person.separated_on = datetime.now(UTC).date() - timedelta(days=1)
        db.session.commit()
    lines = [line for line in _sweep(app) if line.startswith(number)]
    assert lines and "left the library: staff" in lines[0]


def test_the_yearly_review_is_due_a_year_after_activation_and_resets(app, api):
    number, body = _active_account(api, ["social"])
    due = datetime.fromisoformat(body["due_at"].replace("Z", "+00:00"))
    assert timedelta(days=364) < due - datetime.now(UTC) <= timedelta(days=365)
    assert api.fire("director", number, "review", note="x").status_code == 403
    later = datetime.now(UTC) + timedelta(days=400)
    reminded = [line for line in _sweep(app, later) if line.startswith(number)]
    assert reminded and "reminded" in reminded[0] and "within 365 days" in reminded[0]
    with app.app_context():  # a year on: the review is overdue
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        case.due_at = datetime.now(UTC) - timedelta(days=1)
        db.session.commit()
    assert api.get(f"/cases/{number}", "social").get_json()["overdue"] is True
    reviewed = api.ok("social", number, "review", note="Still in use; administrators checked.")
    again = datetime.fromisoformat(reviewed["due_at"].replace("Z", "+00:00"))
    assert reviewed["overdue"] is False
    assert timedelta(days=364) < again - datetime.now(UTC) <= timedelta(days=365)
    registry = page_text(Visitor(app, "social").get("/registry").text)
    assert "Last " in registry and "Next by" in registry


def test_the_registry_pdf_lists_administrators_with_role_since_and_review(app, api):
    number, _ = _active_account(api, ["social", "staff"])
    api.ok("social", number, "review", note="Checked.")
    pdf = api.get("/registry.pdf", "social")
    assert pdf.status_code == 200
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = " ".join(text.split())
    assert f"{number} since" in text
    assert "Yearly review" in text and "last " in text


def test_a_separation_date_is_set_on_the_person_page(app, cast):
    visitor = Visitor(app, "hr")
    person_id = cast.person_ids["staff"]
    page = visitor.get(f"/people/{person_id}")
    bad = visitor.post(f"/people/{person_id}/separation", {"separated_on": "soon"})
    assert bad.status_code == 302
    assert "Enter the date they left" in page_text(visitor.get(f"/people/{person_id}").text)
    visitor.post(f"/people/{person_id}/separation", {"separated_on": "2026-11-30"})
    with app.app_context():
        assert db.session.get(Person, person_id).separated_on.isoformat() == "2026-11-30"
    assert page.status_code == 200


def _statements_of_a_sweep(app):
    """How many SQL statements one sweep runs."""
    ran: list[str] = []

    def count(conn, cursor, statement, *args):
        ran.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            sweep_deadlines(datetime.now(UTC))
            db.session.commit()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(ran)


def test_unchanged_accounts_cost_the_sweep_no_statement_each(app, api, cast):
    """The watch reads each administrator once a sweep and every account's last verdict in one
    read: three times the accounts, none of them changed, run the same statements."""
    for _ in range(2):
        _active_account(api, ["social", "staff"])
    with app.app_context():
        find_user("staff").active = False  # each account flagged, then unchanged
        db.session.commit()
    assert sum("needs new administrators" in line for line in _sweep(app)) == 2
    few = _statements_of_a_sweep(app)
    for _ in range(4):
        _active_account(api, ["social", "staff"])
    assert sum("needs new administrators" in line for line in _sweep(app)) == 4
    assert _statements_of_a_sweep(app) == few
