"""No false alarm: ten thousand clean events of every kind verify, and a verification that runs
while others write reads heads and events from one moment."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from casework.cli import main as cli
from casework.extensions import db
from casework.models import Event
from casework.services import activity, evidence, firing, loading, opening
from casework.services.users import find_user
from casework.services.verification import verify_chains

#: Moments that have tripped up time handling elsewhere: DST changes, a leap day, whole seconds.
AWKWARD_TIMES = [
    datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 30, 0, 1, tzinfo=UTC),
    datetime(2028, 2, 29, 23, 59, 59, 500000, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
]
TEXTS = ["plain", "«quoted» ✓", "\u202eright-to-left", 'quote " and \\ backslash', "😀" * 20, ""]


def write_events(app, total: int, seed: int = 7) -> int:
    """Build at least `total` events of every kind through the services, a case at a time."""
    rng = random.Random(seed)
    written = 0
    with app.app_context():
        users = {n: find_user(n) for n in ("librarian", "director", "social", "staff")}
        olive = db.session.execute(sa.text("SELECT id FROM people WHERE employee_id = 'E-olive'"))
        olive_id = olive.scalar_one()
        while written < total:
            at = rng.choice(AWKWARD_TIMES) + timedelta(days=rng.randrange(400))
            if rng.random() < 0.2:
                case = opening.open_case(
                    users["staff"],
                    "violation",
                    {"subject": olive_id, "category": "harassment", "description": "Report"},
                    now=at,
                )
            else:
                case = opening.open_case(
                    users["librarian"],
                    "complaint",
                    {"summary": rng.choice(TEXTS) or "x", "channel": "email"},
                    now=at,
                )
            number = case.number
            db.session.commit()
            for step in range(rng.randrange(60, 140)):
                at += timedelta(microseconds=rng.choice([1, 999_999, 86_400_000_000]))
                actor = users[rng.choice(["librarian", "director", "social"])]
                loaded = loading.load_case(users["director"], number, write=True)
                case, workflow, _ = loaded
                kind = rng.random()
                offered = firing.offers(users["director"], loaded)
                if kind < 0.3 and offered:
                    transition = rng.choice(offered).transition
                    fields = {
                        f.name: (f.choices[0].value if f.choices else rng.choice(TEXTS) or "x")
                        for f in transition.fields
                        if f.required
                    }
                    firing.fire(
                        users["director"],
                        loaded,
                        transition.trigger,
                        case.version,
                        fields,
                        now=at,
                    )
                elif kind < 0.75:
                    who = actor if workflow.key == "complaint" else users["director"]
                    activity.add_note(who, loaded, rng.choice(TEXTS) or "x", now=at)
                elif kind < 0.85:
                    activity.assign(
                        users["director"],
                        loaded,
                        rng.choice(["director", ""]),
                        now=at,
                    )
                elif kind < 0.9:
                    data = f"evidence {step} {rng.random()}".encode()
                    evidence.attach(users["director"], loaded, "e.txt", io.BytesIO(data), now=at)
                else:
                    activity.record_access(
                        users["director"], case, workflow, "view", {"what": "events"}
                    )
                if step % 20 == 19:
                    db.session.commit()
            db.session.commit()
            written = db.session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one()
    return written


def test_ten_thousand_clean_events_of_every_kind_verify(app, cast, monkeypatch, database_url):
    written = write_events(app, 10_000)
    with app.app_context():
        result = verify_chains()
        kinds = set(db.session.execute(sa.select(Event.action).distinct()).scalars())
    assert {"created", "transition", "note", "assign", "attachment", "view"} <= kinds
    assert result.ok, result.broken[:5]
    assert result.events == written >= 10_000
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    outcome = app.test_cli_runner().invoke(cli, ["audit", "verify"])
    assert outcome.exit_code == 0 and outcome.output.startswith("ok: "), outcome.output


@pytest.mark.stress
@pytest.mark.timeout(3600)
def test_a_hundred_thousand_clean_events_verify(app, cast):
    written = write_events(app, 100_000, seed=11)
    with app.app_context():
        result = verify_chains()
    assert result.ok and result.events == written


def test_verify_reads_heads_and_events_from_one_moment(app, make_app, cast, api):
    """A note committed by another host between verify's first read and the rest is not seen."""
    number = api.open("librarian", "complaint", summary="Busy", channel="email")["number"]
    other = make_app()
    written = []

    def write_between(conn, cursor, statement, parameters, context, executemany):
        if written or not statement.lstrip().upper().startswith("SELECT"):
            return
        written.append(statement)
        with other.app_context():
            user = find_user("librarian")
            loaded = loading.load_case(user, number, write=True)
            activity.add_note(user, loaded, "written while verifying")
            db.session.commit()

    with app.app_context():
        engine = db.engine
        sa.event.listen(engine, "after_cursor_execute", write_between)
        try:
            result = verify_chains()
        finally:
            sa.event.remove(engine, "after_cursor_execute", write_between)
        db.session.rollback()
        assert written, "the note was never written"
        assert result.ok, result.broken
        assert result.events == 1, "the note committed after the first read is not counted"
        again = verify_chains()
    assert again.ok and again.events == 2
