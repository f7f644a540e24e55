"""The deadline sweep: escalation of overdue complaints, reminders, idempotence, and the CLI."""

from __future__ import annotations

import re
import shutil
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from mailserver import MailServer
from timed import et, fire_at, open_at
from workflow_driver import REGISTRY, new_version

from casework.cli import main
from casework.errors import Refused
from casework.extensions import db
from casework.jobs import deadlines
from casework.models import Case, Event, OutboxMessage, User, utcnow
from casework.notifications.delivery import deliver_outbox
from casework.paths import resource_dir
from casework.services import activity, firing, loading
from casework.services.users import create_user, find_user, system_user
from casework.services.verification import verify_chains

BASE = "https://casework.library.example"
ESCALATION_REASON = (
    "Not engaged within 2 business days of receipt; escalated to the Library Director by the "
    "deadline sweep."
)


@pytest.fixture
def mail_server():
    with MailServer() as server:
        yield server


@pytest.fixture
def app(make_app, mail_server):
    return make_app(SMTP_URL=mail_server.url, BASE_URL=BASE)


@pytest.fixture
def staff(app, cast):
    """The cast, every one with an e-mail address."""
    with app.app_context():
        for user in db.session.execute(sa.select(User)).scalars():
            user.email = f"{user.username}@library.example"
        db.session.commit()
    return cast


def complaint(summary: str = "Hours wrong on the website") -> dict[str, Any]:
    return {"summary": summary, "channel": "facebook", "branch": "Main Library"}


ACCOUNT = {
    "platform": "instagram",
    "handle": "@ppl_teens",
    "branch": "Teen Services",
    "purpose": "Teen programs.",
}


def assign_at(app: Any, number: str, username: str, at: datetime) -> None:
    with app.app_context():
        director = find_user("director")
        loaded = loading.load_case(director, number, write=True)
        activity.assign(director, loaded, username, now=at)
        db.session.commit()


def sweep(app: Any, now: datetime, *, dry_run: bool = False) -> list[deadlines.SweepAction]:
    with app.app_context():
        actions = deadlines.sweep_deadlines(now, dry_run=dry_run)
        db.session.commit()
        return actions


def fired(actions: list[deadlines.SweepAction]) -> set[str]:
    return {a.number for a in actions if a.what == "fire"}


def states(app: Any) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(sa.select(Case.number, Case.state)).all()
        db.session.rollback()
        return {number: state for number, state in rows}


def events_of(app: Any, number: str) -> list[Event]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Event).join(Case).where(Case.number == number).order_by(Event.seq)
        ).scalars()
        found = list(rows)
        db.session.commit()
        return found


def snapshot(app: Any) -> tuple[Any, ...]:
    """Everything a sweep may change: cases, the audit trail and the outbox."""
    with app.app_context():
        case_rows = db.session.execute(
            sa.select(Case.number, Case.state, Case.version, Case.head_hash, Case.due_at)
        ).all()
        events = db.session.execute(sa.select(sa.func.count(Event.id))).scalar_one()
        outbox = db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.user_id)
        ).all()
        db.session.rollback()
        return sorted(case_rows), events, sorted(outbox)


def outbox_to(app: Any, username: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(OutboxMessage)
            .join(User, User.id == OutboxMessage.user_id)
            .where(User.username == username)
            .order_by(OutboxMessage.id)
        ).scalars()
        found = list(rows)
        db.session.commit()
        return found


def test_sweep_escalates_exactly_the_overdue_complaints_and_skips_the_weekend(
    app, staff, mail_server
):
    wednesday = open_at(app, "librarian", "complaint", complaint("A"), et(2026, 4, 8, 9, 0))
    assign_at(app, wednesday, "librarian", et(2026, 4, 8, 9, 5))
    friday = open_at(app, "librarian", "complaint", complaint("B"), et(2026, 4, 10, 16, 0))
    monday = open_at(app, "social", "complaint", complaint("C"), et(2026, 4, 13, 9, 0))
    engaged = open_at(app, "librarian", "complaint", complaint("D"), et(2026, 4, 7, 9, 0))
    fire_at(app, "librarian", engaged, "engage", et(2026, 4, 8, 9, 0), response="Answered.")
    by_hand = open_at(app, "librarian", "complaint", complaint("E"), et(2026, 4, 7, 9, 0))
    fire_at(app, "librarian", by_hand, "escalate", et(2026, 4, 8, 9, 0), reason="Asked.")
    with app.app_context():
        db.session.execute(sa.delete(OutboxMessage))  # the hand escalation's e-mail
        db.session.commit()

    # Tuesday evening: Wednesday's complaint was due Friday; Friday's is due tonight, because
    # Saturday and Sunday are not business days.
    first = sweep(app, et(2026, 4, 14, 23, 0))
    assert fired(first) == {wednesday} and len(first) == 1
    assert [a.trigger for a in first] == ["escalate"]

    # Just after midnight, Friday's complaint is overdue too; Monday's is due tonight.
    second = sweep(app, et(2026, 4, 15, 0, 30))
    assert fired(second) == {friday} and len(second) == 1

    now = states(app)
    assert now[wednesday] == now[friday] == "escalated"
    assert (now[monday], now[engaged], now[by_hand]) == ("received", "engaged", "escalated")

    # The director is told once per escalated complaint; the assignee hears it is overdue.
    report = deliver_outbox_at(app, et(2026, 4, 15, 0, 31))
    assert report.sent == 3
    to_director = [m for m in mail_server.messages if m.rcpt_tos == ["director@library.example"]]
    assert sorted(m.subject for m in to_director) == sorted(
        f"{n}: complaint escalated to the Library Director" for n in (wednesday, friday)
    )
    assert "automatically, because it was not engaged by its deadline" in to_director[0].text
    [to_assignee] = [m for m in mail_server.messages if m.rcpt_tos == ["librarian@library.example"]]
    assert to_assignee.subject == f"{wednesday} is overdue"
    assert "the next step, engage, was due within 2 business days" in to_assignee.text
    assert "moved on automatically and is now escalated" in to_assignee.text


def deliver_outbox_at(app: Any, now: datetime) -> Any:
    with app.app_context():
        return deliver_outbox(now)


def test_the_escalation_is_audited_as_the_system_naming_the_rule(app, staff):
    number = open_at(app, "librarian", "complaint", complaint(), et(2026, 4, 10, 16, 0))
    sweep(app, et(2026, 4, 15, 9, 0))

    created, overdue, transition = events_of(app, number)
    assert created.action == "created"
    assert (overdue.actor, overdue.action) == ("system", "overdue")
    assert overdue.data == {
        "rule": "states.received.deadline",
        "workflow": "complaint",
        "workflow_version": REGISTRY.get("complaint").version,
        "business_days": 2,
        "expects": "engage",
        "due_at": "2026-04-15T03:59:59.000000Z",
        "then": "escalate",
    }
    assert (transition.actor, transition.action) == ("system", "transition")
    assert (transition.from_state, transition.to_state) == ("received", "escalated")
    assert transition.data == {"trigger": "escalate", "fields": {"reason": ESCALATION_REASON}}
    assert overdue.at == transition.at == et(2026, 4, 15, 9, 0)
    with app.app_context():
        assert verify_chains().ok
        db.session.rollback()


def test_a_listed_public_holiday_is_not_a_business_day(app, staff):
    # Thanksgiving, Thursday 26 November 2026, is an Ohio (and US) holiday.
    number = open_at(app, "librarian", "complaint", complaint(), et(2026, 11, 25, 10, 0))
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        assert case.due_at == et(2026, 11, 30, 23, 59, 59)
        db.session.rollback()
    assert sweep(app, et(2026, 11, 28, 12, 0)) == []  # due Friday, were Thursday counted
    assert fired(sweep(app, et(2026, 12, 1, 0, 30))) == {number}


def test_a_closure_day_from_the_configuration_is_not_a_business_day(make_app, mail_server):
    app = make_app(SMTP_URL=mail_server.url, CLOSURES="2026-04-15, 2026-12-24")
    with app.app_context():
        create_user("librarian", ["librarian_in_charge"])
        db.session.commit()
    number = open_at(app, "librarian", "complaint", complaint(), et(2026, 4, 13, 9, 0))
    assert sweep(app, et(2026, 4, 16, 12, 0)) == []  # Tuesday, (closed Wednesday), Thursday
    assert fired(sweep(app, et(2026, 4, 17, 0, 30))) == {number}


def test_an_overdue_case_without_on_overdue_is_reminded_once(app, staff, mail_server):
    unassigned = open_at(app, "staff", "account", ACCOUNT, et(2026, 3, 2, 9, 0))
    assigned = open_at(app, "staff", "account", ACCOUNT, et(2026, 3, 2, 9, 30))
    assign_at(app, assigned, "social", et(2026, 3, 2, 10, 0))

    # Ten business days from Monday 2 March: due Monday 16 March.
    assert sweep(app, et(2026, 3, 16, 22, 0)) == []
    actions = sweep(app, et(2026, 3, 17, 1, 0))
    assert [(a.number, a.what) for a in actions] == [(unassigned, "remind"), (assigned, "remind")]
    # Nobody assigned: whoever may approve is reminded. Assigned: the assignee only.
    assert actions[0].told == ("director", "social", "social2")
    assert actions[1].told == ("social",)
    assert states(app)[unassigned] == "requested"  # a reminder moves nothing
    assert [e.action for e in events_of(app, unassigned)][-1] == "overdue"

    assign_at(app, unassigned, "social2", et(2026, 3, 17, 9, 0))
    before = snapshot(app)
    assert sweep(app, et(2026, 3, 18, 9, 0)) == []  # once per deadline
    assert snapshot(app) == before

    [reminder] = outbox_to(app, "social")[-1:]
    assert reminder.kind == "overdue" and reminder.subject == f"{assigned} is overdue"
    assert "the next step, approve, was due within 10 business days" in reminder.body_text


def test_a_second_sweep_changes_nothing(app, staff):
    for day in (6, 7, 8):
        open_at(app, "librarian", "complaint", complaint(), et(2026, 4, day, 9, 0))
    open_at(app, "staff", "account", ACCOUNT, et(2026, 3, 2, 9, 0))
    open_at(app, "librarian", "complaint", complaint(), et(2026, 4, 14, 9, 0))  # not yet due

    now = et(2026, 4, 15, 9, 0)
    first = sweep(app, now)
    assert len(first) == 4
    after_first = snapshot(app)
    assert sweep(app, now) == []
    assert sweep(app, now + timedelta(minutes=5)) == []
    assert snapshot(app) == after_first


def test_a_refused_escalation_is_reported_and_the_assignee_reminded_instead(
    app, staff, monkeypatch
):
    stuck = open_at(app, "librarian", "complaint", complaint("stuck"), et(2026, 4, 6, 9, 0))
    assign_at(app, stuck, "librarian", et(2026, 4, 6, 9, 5))
    other = open_at(app, "librarian", "complaint", complaint("other"), et(2026, 4, 6, 9, 0))
    real_fire = firing.fire

    def fire(actor, loaded, *args: Any, **kwargs: Any):
        if loaded.case.number == stuck:
            raise Refused("Not now.")
        return real_fire(actor, loaded, *args, **kwargs)

    monkeypatch.setattr(deadlines, "fire", fire)
    actions = sweep(app, et(2026, 4, 15, 9, 0))

    by_number = {a.number: a for a in actions}
    assert by_number[other].what == "fire"
    assert by_number[stuck].what == "problem"
    assert "could not fire 'escalate': Not now.; reminded instead" in by_number[stuck].line()
    assert by_number[stuck].told == ("librarian",)
    assert states(app)[stuck] == "received"
    # Only the reminder's record is left of the failed escalation.
    assert [e.action for e in events_of(app, stuck)] == ["created", "assign", "overdue"]

    again = sweep(app, et(2026, 4, 15, 9, 5))
    assert [(a.number, a.what) for a in again] == [(stuck, "problem")]  # no second reminder
    assert len(outbox_to(app, "librarian")) == 1


def test_a_dry_run_lists_what_would_be_done_and_changes_nothing(app, staff):
    number = open_at(app, "librarian", "complaint", complaint(), et(2026, 4, 6, 9, 0))
    account = open_at(app, "staff", "account", ACCOUNT, et(2026, 3, 2, 9, 0))
    before = snapshot(app)

    actions = sweep(app, et(2026, 4, 15, 9, 0), dry_run=True)

    assert snapshot(app) == before
    lines = [a.line() for a in actions]
    assert lines[0].startswith(f"{account}: would remind: requested, due 16 March 2026, 23:59")
    assert lines[0].endswith("would tell: director, social, social2")
    assert lines[1].startswith(f"{number}: would fire 'escalate': received, due 8 April 2026")
    assert re.search(
        r"\(complaint v\d+, states.received.deadline: engage within 2 business days\)", lines[1]
    )
    assert lines[1].endswith("would tell: director")


@pytest.mark.parametrize("system_exists", [True, False], ids=["initialised", "first-sweep"])
def test_two_sweeps_at_once_act_once(make_app, app, staff, system_exists):
    if system_exists:
        with app.app_context():
            system_user()
            db.session.commit()
    complaints = [
        open_at(app, "librarian", "complaint", complaint(), et(2026, 4, 6, 9, m)) for m in range(5)
    ]
    account = open_at(app, "staff", "account", ACCOUNT, et(2026, 3, 2, 9, 0))
    hosts = [make_app(), make_app()]
    start = threading.Barrier(2)
    results: list[Any] = []

    def run(host: Any) -> None:
        start.wait()
        try:
            results.append(sweep(host, et(2026, 4, 15, 9, 0)))
        except Exception as exc:  # reported below, with the thread's failure
            results.append(exc)

    threads = [threading.Thread(target=run, args=(h,)) for h in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert not [r for r in results if isinstance(r, Exception)], results
    acted = sorted(a.number for r in results for a in r)
    assert acted == sorted([*complaints, account])
    for number in complaints:
        assert [e.action for e in events_of(app, number)] == ["created", "overdue", "transition"]
    assert [e.action for e in events_of(app, account)] == ["created", "overdue"]
    assert len(outbox_to(app, "director")) == len(complaints) + 1


# --- the command --------------------------------------------------------------------------------


def cli_env(database_url: str, mail_server: MailServer) -> dict[str, str]:
    return {
        "CASEWORK_DATABASE_URL": database_url,
        "CASEWORK_SECRET_KEY": "test-secret-key",
        "CASEWORK_SMTP_URL": mail_server.url,
        "CASEWORK_BASE_URL": BASE,
        "CASEWORK_MAIL_FROM": "Casework <casework@library.example>",
    }


def test_casework_sweep_escalates_a_neglected_complaint_and_mails_the_director_once(
    app, staff, mail_server, database_url
):
    opened = utcnow() - timedelta(days=10)
    number = open_at(app, "librarian", "complaint", complaint(), opened)
    env = cli_env(database_url, mail_server)
    runner = CliRunner()

    result = runner.invoke(main, ["sweep"], env=env)

    assert result.exit_code == 0, result.output
    assert f"{number}: fired 'escalate': received, due" in result.output
    assert "; told: director\n" in result.output
    assert "mail: 1 sent, 0 to retry, 0 failed, 0 waiting" in result.output
    assert states(app)[number] == "escalated"
    [message] = mail_server.messages
    assert message.rcpt_tos == ["director@library.example"]
    assert f"{BASE}/cases/{number}" in message.text

    again = runner.invoke(main, ["sweep"], env=env)
    assert again.exit_code == 0, again.output
    assert "deadlines: nothing to do" in again.output
    assert "mail: 0 sent, 0 to retry, 0 failed, 0 waiting" in again.output
    quiet = runner.invoke(main, ["sweep", "--quiet"], env=env)
    assert (quiet.exit_code, quiet.output) == (0, "")
    assert len(mail_server.messages) == 1


def test_casework_sweep_moves_cases_while_the_mail_server_is_down(
    app, staff, mail_server, database_url
):
    number = open_at(app, "librarian", "complaint", complaint(), utcnow() - timedelta(days=10))
    mail_server.stop()

    result = CliRunner().invoke(main, ["sweep"], env=cli_env(database_url, mail_server))

    assert result.exit_code == 0, result.output
    assert f"{number}: fired 'escalate'" in result.output
    assert "mail: 0 sent, 1 to retry, 0 failed, 1 waiting (could not reach" in result.output
    assert states(app)[number] == "escalated"
    [row] = outbox_to(app, "director")
    assert (row.status, row.attempts) == ("pending", 1)


def test_casework_sweep_dry_run(app, staff, mail_server, database_url):
    number = open_at(app, "librarian", "complaint", complaint(), utcnow() - timedelta(days=10))
    api_account = open_at(app, "staff", "account", ACCOUNT, utcnow())  # queues two e-mails
    before = snapshot(app)

    result = CliRunner().invoke(
        main, ["sweep", "--dry-run"], env=cli_env(database_url, mail_server)
    )

    assert result.exit_code == 0, result.output
    assert f"{number}: would fire 'escalate'" in result.output
    assert f"would send to social@library.example: {api_account}: new social media account" in (
        result.output
    )
    assert "mail: 2 message(s) would be sent now" in result.output
    assert snapshot(app) == before
    assert mail_server.messages == []


def test_a_confidential_case_is_reminded_without_a_word_of_it(make_app, staff, tmp_path):
    # A violation workflow whose reports must be inspected within one business day.
    folder = tmp_path / "workflows"
    shutil.copytree(resource_dir("workflows"), folder)
    path = folder / "violation.toml"
    text = new_version(path.read_text())
    deadline = '[states.reported.deadline]\nbusiness_days = 1\nexpects = "inspect"\n\n'
    text = text.replace("[states.inspected]\n", deadline + "[states.inspected]\n")
    path.write_text(text)
    app = make_app(WORKFLOWS_DIR=str(folder))
    fields = {"category": "workplace_impact", "description": "Posts all day long"}
    about_staff2 = open_at(
        app,
        "staff",
        "violation",
        {**fields, "subject": staff.person_ids["staff2"]},
        et(2026, 4, 6, 9, 0),
    )
    about_director = open_at(
        app,
        "staff",
        "violation",
        {**fields, "subject": staff.person_ids["director"]},
        et(2026, 4, 6, 9, 0),
    )
    with app.app_context():
        db.session.execute(sa.delete(OutboxMessage))  # the reports' own e-mails
        db.session.commit()

    actions = sweep(app, et(2026, 4, 8, 9, 0))

    assert {a.number: a.told for a in actions} == {
        about_staff2: ("director",),
        about_director: ("trustee",),  # the Director is its subject; the trustees stand in
    }
    for action in actions:
        line = action.line()
        assert line == "a confidential case was acted on"
    for username in ("director", "trustee"):
        [message] = outbox_to(app, username)
        assert message.subject == "A case needs your attention"
        assert "Posts all day" not in message.body_text and "inspect" not in message.body_text
        assert "overdue" not in message.body_text.lower()
    assert outbox_to(app, "staff2") == outbox_to(app, "hr") == []
