"""A trail verified in helper processes gets exactly the verdicts of one verified in one process.

Large trails are shared out among helpers by runs of event ids, so a case's chain is split
across runs and joined up again; every tampering must still be named at the same case and event.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tampering import tamper

from casework.extensions import db
from casework.models import Case
from casework.services.verification import verify_chains


@pytest.fixture
def interleaved(app, api):
    """Four cases whose events alternate in storage, so every chain crosses every run, with
    leaves of the administration trail among theirs in the log."""
    numbers = [
        api.open("librarian", "complaint", summary=f"Complaint {i}", channel="email")["number"]
        for i in range(4)
    ]
    for step in range(3):
        for number in numbers:
            api.post(f"/cases/{number}/notes", "librarian", json={"text": f"Note {step} «ok»"})
        end_sessions(app, "staff")
    api.ok("librarian", numbers[0], "engage", response="Answered")
    return numbers


def end_sessions(app, username):
    """An event of the administration trail: an administrator ends a user's sessions."""
    from casework.services.users import end_user_sessions, find_user

    with app.app_context():
        user = find_user(username)
        assert user is not None
        end_user_sessions("admin", user)
        db.session.commit()


def case_id(app, number):
    with app.app_context():
        return db.session.execute(sa.select(Case.id).where(Case.number == number)).scalar_one()


def verdicts(app, processes):
    with app.app_context():
        result = verify_chains(processes=processes)
        db.session.rollback()
        return result.events, [(b.case, b.seq, b.problem) for b in result.broken]


TAMPERINGS = {
    "changed data": 'UPDATE events SET data_json = \'{"text":"x"}\' WHERE case_id = :a AND seq = 3',
    "deleted event": "DELETE FROM events WHERE case_id = :a AND seq = 2",
    "cut tail": "DELETE FROM events WHERE case_id = :b AND seq >= 3",
    "moved event": "UPDATE events SET case_id = :b, seq = 9 WHERE case_id = :a AND seq = 4",
    "renumbered event": "UPDATE events SET seq = 7 WHERE case_id = :b AND seq = 2",
    "no events left": "DELETE FROM events WHERE case_id = :b",
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_helpers_name_every_tampering_as_one_process_does(app, interleaved, name):
    clean = verdicts(app, 2)
    assert clean == (17, [])
    ids = {"a": case_id(app, interleaved[0]), "b": case_id(app, interleaved[1])}
    tamper(app, (TAMPERINGS[name], ids))
    alone = verdicts(app, 1)
    assert alone[1], "the tampering went unnoticed"
    assert {case for case, _, _ in alone[1]} <= {interleaved[0], interleaved[1]}
    assert verdicts(app, 2) == alone
    assert verdicts(app, 3) == alone


# --- the whole log, read alongside the events -------------------------------------------------


def log_verdicts(app, processes, outside=(), ahead=False, batch=5000):
    from casework.services import chain_helpers, log

    with app.app_context():
        started = None
        if ahead:  # helpers started before the check, each choosing its share
            address = db.engine.url.render_as_string(hide_password=False)
            started = chain_helpers.start_helpers(
                address, processes, 2, log.NODE_LEVEL, shared_from=0, lead=0
            )
        try:
            result = verify_chains(batch, processes=processes, log_outside=outside, ahead=started)
        finally:
            if started is not None:
                started.close()
        db.session.rollback()
    assert result.log_report is not None
    return result.log_report.size, result.log_report.problems


LOG_TAMPERINGS = {
    "leaf changed": "UPDATE log_leaves SET hash = :x WHERE position = 5",
    "leaf deleted": "DELETE FROM log_leaves WHERE position = 7",
    "event rewritten": "UPDATE events SET hash = :h WHERE case_id = :a AND seq = 5",
    "leaf of no event": "UPDATE log_leaves SET row_id = 999 WHERE position = 9",
    "kept node changed": "UPDATE log_nodes SET hash = :x WHERE level = 2",
}


@pytest.fixture
def checkpointed(app, interleaved, tmp_path, monkeypatch):
    """The interleaved cases, a checkpoint over them, and two more events after it."""
    from casework.services import log
    from casework.services.log.checkpoints import make_checkpoint
    from casework.services.log.keys import ensure_signing_key

    monkeypatch.setattr(log, "NODE_LEVEL", 2)  # blocks of 4 leaves: runs split inside them
    app.config["SIGNING_KEY_FILE"] = str(tmp_path / "key")
    with app.app_context():
        ensure_signing_key()
        make_checkpoint()
        note = db.session.execute(sa.text("SELECT note FROM log_checkpoints")).scalar_one()
        db.session.commit()
    return [("kept", note)]


@pytest.mark.parametrize("name", sorted(LOG_TAMPERINGS))
def test_the_log_read_alongside_the_events_names_what_the_reference_walk_names(
    app, api, interleaved, checkpointed, name, monkeypatch
):
    from casework.services.log import verify

    api.post(f"/cases/{interleaved[1]}/notes", "librarian", json={"text": "After it"})
    walks = []
    original = verify._walk_leaves
    monkeypatch.setattr(verify, "_walk_leaves", lambda *a: walks.append(1) or original(*a))
    clean = [log_verdicts(app, n, checkpointed) for n in (1, 2, 3)]
    clean.append(log_verdicts(app, 3, checkpointed, ahead=True))
    # Two leaves a read: most reads hold leaves of events only, matched in bulk.
    clean.append(log_verdicts(app, 1, checkpointed, batch=2))
    assert clean[0][1] == [] and clean[1:] == clean[:1] * 4
    assert walks == [], "clean data is checked alongside the events, not walked again"
    ids = {"a": case_id(app, interleaved[0]), "x": b"x" * 32, "h": "ab" * 32}
    tamper(app, (LOG_TAMPERINGS[name], ids))
    alone = log_verdicts(app, 1, checkpointed)
    assert alone[1], "the tampering went unnoticed"
    assert log_verdicts(app, 2, checkpointed) == alone
    assert log_verdicts(app, 3, checkpointed) == alone
    assert log_verdicts(app, 2, checkpointed, ahead=True) == alone
    assert log_verdicts(app, 1, checkpointed, batch=2) == alone


def test_a_share_a_helper_started_ahead_did_not_see_whole_is_followed_again(
    app, interleaved, checkpointed, monkeypatch
):
    """A helper's snapshot is older than the command's: events it missed are checked anyway."""
    from casework.services import chain_helpers, chains, log
    from casework.services.log import verify

    walks = []
    original = verify._walk_leaves
    monkeypatch.setattr(verify, "_walk_leaves", lambda *a: walks.append(1) or original(*a))
    collect = chain_helpers.Ahead.collect
    # As if each helper had read its share before its events were committed.
    monkeypatch.setattr(
        chain_helpers.Ahead,
        "collect",
        lambda self, sizes: [chains.Run() for _ in collect(self, sizes)],
    )
    with app.app_context():
        address = db.engine.url.render_as_string(hide_password=False)
        started = chain_helpers.start_helpers(address, 2, 2, log.NODE_LEVEL, shared_from=0, lead=0)
        try:
            result = verify_chains(log_outside=checkpointed, ahead=started)
        finally:
            started.close()
        db.session.rollback()
    assert result.ok and result.events == 17
    assert walks == [], "the share was followed again with its leaves, not walked"


def test_times_written_shorter_are_followed_at_once_and_a_changed_one_is_named(app, api, cast):
    """PostgreSQL writes a time on a whole second, or on a round fraction of one, without its
    trailing zeros: the fast path completes it rather than handing every such case to the
    reference walk; a time moved to another round value is still named."""
    from datetime import UTC, datetime

    from casework.services import chains
    from casework.services.audit import append_event
    from casework.services.loading import load_case

    number = api.open("librarian", "complaint", summary="Round times", channel="email")["number"]
    with app.app_context():
        loaded = load_case(cast.user("librarian"), number, write=True)
        for at in (datetime(2026, 3, 1, 9, 30), datetime(2026, 3, 1, 9, 31, 5, 500000)):
            at = at.replace(tzinfo=UTC)
            append_event(loaded.case, "librarian", "note", {"text": "On time"}, at=at)
        db.session.commit()
    ids = {"a": case_id(app, number)}

    def followed():
        with app.app_context(), db.engine.connect() as connection, connection.begin():
            heads = chains.read_heads(connection)
            return chains.follow_range(connection, (1, 10**9), 5000, heads)

    run = followed()
    assert run.suspects == [] and ids["a"] in run.sound
    assert verdicts(app, 1) == (3, [])
    # The same moment written shorter (as SQLite would keep it) is the same event to both walks.
    same = "UPDATE events SET at = '2026-03-01 09:31:05.5' WHERE case_id = :a AND seq = 3"
    tamper(app, (same, ids))
    assert followed().suspects == []
    assert verdicts(app, 1) == (3, [])
    tamper(
        app, ("UPDATE events SET at = '2026-03-01 09:31:05.5' WHERE case_id = :a AND seq = 2", ids)
    )
    assert followed().suspects == [ids["a"]]
    assert verdicts(app, 1)[1] == [
        (number, 2, "content does not match its hash (the event was changed)")
    ]
