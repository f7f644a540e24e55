"""The audit trail: append-only in the database, hash-chained, and every tampering named."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import CAST
from sqlalchemy.exc import DBAPIError
from tampering import rebuild_log, tamper

from casework.cli import main
from casework.extensions import db
from casework.models import Case, Event
from casework.services import chains
from casework.services.audit import event_hash
from casework.services.verification import verify_chains


@pytest.fixture
def trail(api):
    """Three cases: one with six events, one with a single event, one with three."""
    long = api.open("librarian", "complaint", summary="Wi-Fi drops", channel="email")["number"]
    api.ok("librarian", long, "engage", response="We restarted the router")
    api.post(f"/cases/{long}/notes", "librarian", json={"text": "Patron satisfied"})
    api.ok("librarian", long, "resolve", resolution="Fixed")
    api.ok("director", long, "reopen", reason="It broke again")
    api.post(f"/cases/{long}/notes", "director", json={"text": "Calling IT"})
    single = api.open("librarian", "complaint", summary="Noise", channel="phone")["number"]
    third = api.open("librarian", "complaint", summary="Parking", channel="in_person")["number"]
    api.ok("librarian", third, "engage", response="Lights fixed")
    api.ok("librarian", third, "resolve", resolution="Done")
    return {"long": long, "single": single, "third": third}


def case_id(number):
    return db.session.execute(sa.select(Case.id).where(Case.number == number)).scalar_one()


def broken(app, processes=None):
    with app.app_context():
        result = verify_chains(processes=processes)
        db.session.rollback()
        return [(b.case, b.seq, b.problem) for b in result.broken]


def test_a_clean_trail_verifies(app, trail):
    with app.app_context():
        result = verify_chains()
    assert result.ok and result.cases == 3 and result.events == 10


COLUMN_CHANGES = {
    "at": "UPDATE events SET at = :at WHERE case_id = :case AND seq = 3",
    "actor": "UPDATE events SET actor = 'director' WHERE case_id = :case AND seq = 3",
    "action": "UPDATE events SET action = 'view' WHERE case_id = :case AND seq = 3",
    "from_state": "UPDATE events SET from_state = 'received' WHERE case_id = :case AND seq = 3",
    "to_state": "UPDATE events SET to_state = 'engaged' WHERE case_id = :case AND seq = 3",
    "data_json": "UPDATE events SET data_json = :forged WHERE case_id = :case AND seq = 3",
    "prev_hash": "UPDATE events SET prev_hash = :fake WHERE case_id = :case AND seq = 3",
    "hash": "UPDATE events SET hash = :fake WHERE case_id = :case AND seq = 3",
    "seq": "UPDATE events SET seq = 60 WHERE case_id = :case AND seq = 3",
    # The event moves to the case with a single event, where it becomes its second.
    "case_id": "UPDATE events SET case_id = :other, seq = 2 WHERE case_id = :case AND seq = 3",
    # Marked erased with its data still there, and erased with no disposal recorded after it.
    "erased_at": "UPDATE events SET erased_at = :at WHERE case_id = :case AND seq = 3",
    "erased_at and data_json": (
        "UPDATE events SET erased_at = :at, data_json = '{}' WHERE case_id = :case AND seq = 3"
    ),
}


@pytest.mark.parametrize("column", sorted(COLUMN_CHANGES))
def test_a_change_to_any_column_of_an_event_is_named(app, trail, column):
    # `id` is the storage row number, not part of the record; every other column is covered.
    changed = {name.split(" and ")[0] for name in COLUMN_CHANGES}
    assert changed == {c.name for c in Event.__table__.columns} - {"id"}
    with app.app_context():
        at = db.session.execute(
            sa.select(Event.at).where(Event.case_id == case_id(trail["long"]), Event.seq == 3)
        ).scalar_one()
        params = {
            "case": case_id(trail["long"]),
            "other": case_id(trail["single"]),
            "fake": "f" * 64,
            "forged": '{"text":"Patron furious"}',
            "at": (at + timedelta(microseconds=1)).replace(tzinfo=None),
        }
    tamper(app, (COLUMN_CHANGES[column], params))
    found = broken(app)
    assert (trail["long"], 3) in [(case, seq) for case, seq, _ in found], found
    if column == "case_id":
        assert (trail["single"], 2) in [(case, seq) for case, seq, _ in found]
    assert all(case != trail["third"] for case, _, _ in found)


#: Values of kinds the engine never writes, and the event given each. SQLite stores them as
#: given; PostgreSQL's column types refuse some.
FOREIGN_VALUES = {
    "a number as the actor": ("actor = 5", 3),
    "bytes as the actor": ("actor = x'00ff'", 3),
    "text no time could be": ("at = 'never'", 3),
    "a number as the time": ("at = 12", 3),
    "bytes as the data": ("data_json = x'7b7d'", 3),
    "bytes as the link": ("prev_hash = x'00'", 3),
    "bytes as the first link": ("prev_hash = x'00'", 1),
    "bytes as the number": ("seq = x'03'", 3),
}


@pytest.mark.parametrize("name", sorted(FOREIGN_VALUES))
def test_a_value_of_a_kind_never_written_is_named_not_a_crash(app, trail, name):
    change, seq = FOREIGN_VALUES[name]
    with app.app_context():
        params = {"case": case_id(trail["long"]), "seq": seq}
    try:
        tamper(app, (f"UPDATE events SET {change} WHERE case_id = :case AND seq = :seq", params))
    except DBAPIError:  # the column's type refuses it: the trail is as it was
        assert broken(app) == []
        return
    found = broken(app)
    assert [(c, s) for c, s, _ in found] == [(trail["long"], seq)], found
    assert broken(app, processes=2) == found  # the same when helper processes share the check


def test_every_clean_chain_checks_out_as_its_events_stream_by(app, trail):
    """Each event's hashed text is rebuilt as the engine builds it, so no clean chain is left
    to the slower walk in sequence order."""
    with app.app_context():
        connection = db.session.connection()
        heads = chains.read_heads(connection)
        run = chains.follow(chains.stored_events(connection, (0, 2**31 - 1), 3), heads)
        db.session.rollback()
    assert sorted(run.sound) == sorted(heads) and run.events == 10
    assert not run.suspects and not run.pieces


def test_a_deleted_event_is_named(app, trail):
    with app.app_context():
        params = {"case": case_id(trail["long"])}
    tamper(app, ("DELETE FROM events WHERE case_id = :case AND seq = 4", params))
    [(case, seq, problem)] = broken(app)
    assert (case, seq) == (trail["long"], 4) and "missing" in problem


def test_a_cut_tail_is_caught_by_the_head_kept_on_the_case(app, trail):
    with app.app_context():
        params = {"case": case_id(trail["long"])}
    tamper(app, ("DELETE FROM events WHERE case_id = :case AND seq >= 5", params))
    [(case, seq, problem)] = broken(app)
    assert (case, seq) == (trail["long"], 5) and "cut short" in problem


def test_swapped_events_are_named(app, trail):
    with app.app_context():
        params = {"case": case_id(trail["long"])}
    tamper(
        app,
        ("UPDATE events SET seq = 100 WHERE case_id = :case AND seq = 2", params),
        ("UPDATE events SET seq = 2 WHERE case_id = :case AND seq = 3", params),
        ("UPDATE events SET seq = 3 WHERE case_id = :case AND seq = 100", params),
    )
    [(case, seq, _)] = broken(app)
    assert (case, seq) == (trail["long"], 2)


def test_an_inserted_event_with_a_valid_looking_hash_is_named(app, trail):
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == trail["third"])).scalar_one()
        last = db.session.execute(
            sa.select(Event).where(Event.case_id == case.id, Event.seq == case.head_seq)
        ).scalar_one()
        at = last.at + timedelta(seconds=1)
        forged = event_hash(
            case.number, last.seq + 1, at, "director", "note", None, None, '{"text":"x"}', last.hash
        )
        params = {
            "case": case.id,
            "seq": last.seq + 1,
            "at": at.replace(tzinfo=None),
            "prev": last.hash,
            "hash": forged,
            "data": '{"text":"x"}',
        }
    tamper(
        app,
        (
            "INSERT INTO events (case_id, seq, at, actor, action, from_state, to_state, data_json,"
            " prev_hash, hash) VALUES (:case, :seq, :at, 'director', 'note', NULL, NULL, :data,"
            " :prev, :hash)",
            params,
        ),
    )
    [(case_number, seq, problem)] = broken(app)
    assert (case_number, seq) == (trail["third"], 4) and "chain head" in problem


def test_no_false_alarm_on_many_clean_events(make_app, api_for, cast):
    # 300 notes in a few seconds are past the changes-a-minute limit, which is not tested here.
    app = make_app(WRITES_PER_MINUTE=0)
    api = api_for(app)
    number = api.open("librarian", "complaint", summary="Busy", channel="email")["number"]
    for index in range(300):
        api.post(
            f"/cases/{number}/notes", "librarian", json={"text": f"Note {index} ✓ «quoted» \u202e"}
        )
    with app.app_context():
        result = verify_chains()
    assert result.ok and result.events == 301


def test_the_database_refuses_to_change_or_delete_events_and_cases(app, trail):
    with app.app_context():
        for statement in (
            "UPDATE events SET actor = 'x'",
            "DELETE FROM events",
            "DELETE FROM cases",
        ):
            with pytest.raises(DBAPIError):
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(statement)
        assert verify_chains().ok


def test_cli_verify_names_the_broken_link_and_fails(app, trail, monkeypatch, database_url):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    runner = app.test_cli_runner()
    clean = runner.invoke(main, ["audit", "verify"])
    assert clean.exit_code == 0 and clean.output.startswith("ok: 3 cases, 10 events")
    with app.app_context():
        params = {"case": case_id(trail["single"])}
    tamper(app, ("UPDATE events SET data_json = '{}' WHERE case_id = :case AND seq = 1", params))
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN {trail['single']} event 1" in result.output


def test_the_api_reports_verification_to_the_director_and_it_only(api, app, trail):
    ok = api.get("/audit/verify", "director").get_json()
    # The cast's users and their tokens are the administration trail's events, two each.
    assert ok == {
        "ok": True,
        "cases": 3,
        "events": 10,
        "broken": [],
        "administration": {"events": 2 * len(CAST), "ok": True, "broken": []},
        "erased": [],
    }
    assert api.get("/audit/verify", "admin").status_code == 200
    assert api.get("/audit/verify", "librarian").status_code == 403
    with app.app_context():
        params = {"case": case_id(trail["third"])}
    tamper(app, ("UPDATE events SET actor = 'hr' WHERE case_id = :case AND seq = 2", params))
    report = api.get("/audit/verify", "director").get_json()
    assert report["ok"] is False
    assert [(b["case"], b["seq"]) for b in report["broken"]] == [(trail["third"], 2)]


def test_the_chain_head_moves_with_every_event(api):
    number = api.open("librarian", "complaint", summary="Busy", channel="email")["number"]
    before = api.get(f"/cases/{number}", "librarian").get_json()["chain_head"]
    api.post(f"/cases/{number}/notes", "librarian", json={"text": "hello"})
    after = api.get(f"/cases/{number}", "librarian").get_json()["chain_head"]
    events = api.get(f"/cases/{number}/events", "librarian").get_json()["items"]
    assert before["seq"] == 1 and after["seq"] == 2
    assert after["hash"] == events[-1]["hash"] and events[-1]["prev_hash"] == before["hash"]


def test_a_rolled_back_savepoint_leaves_no_stale_chain_head(app, api, cast):
    from casework.services.activity import add_note
    from casework.services.loading import load_case

    number = api.open("librarian", "complaint", summary="Drafts", channel="email")["number"]
    with app.app_context():
        user = cast.user("librarian")
        loaded = load_case(user, number, write=True)
        savepoint = db.session.begin_nested()
        add_note(user, loaded, "A draft that is thrown away")
        savepoint.rollback()
        add_note(user, loaded, "The note that stays")
        db.session.commit()
        assert loaded.case.head_seq == 2
        assert verify_chains().ok


def test_an_event_the_database_refuses_raises_its_error_and_keeps_nothing(app, api, cast):
    """The event's statements run on the driver: what the database refuses still comes back as
    SQLAlchemy's error, and the transaction keeps nothing of the event."""
    from sqlalchemy.exc import IntegrityError

    from casework.services.activity import add_note
    from casework.services.audit import append_event
    from casework.services.loading import load_case

    number = api.open("librarian", "complaint", summary="Twice", channel="email")["number"]
    with app.app_context():
        user = cast.user("librarian")
        loaded = load_case(user, number, write=True)
        case = loaded.case
        # Event 2 already taken, behind the head's back: the next event's number is refused.
        db.session.execute(
            sa.insert(Event).values(
                case_id=case.id,
                seq=2,
                at=case.updated_at,
                actor="librarian",
                action="note",
                data_json="{}",
                prev_hash=case.head_hash,
                hash="0" * 64,
            )
        )
        with pytest.raises(IntegrityError):
            append_event(case, "librarian", "note", {"text": "Refused"})
        db.session.rollback()
        loaded = load_case(user, number, write=True)
        add_note(user, loaded, "The note that stays")
        db.session.commit()
        events = db.session.execute(
            sa.select(Event.seq, Event.data_json).where(Event.case_id == loaded.case.id)
        ).all()
        assert [seq for seq, _ in events] == [1, 2]
        assert events[-1][1] == '{"text":"The note that stays"}'
        assert verify_chains().ok


def test_an_appended_event_comes_back_as_written(app, api, cast):
    from casework.services.audit import append_event
    from casework.services.loading import load_case

    number = api.open("librarian", "complaint", summary="Echo", channel="email")["number"]
    with app.app_context():
        user = cast.user("librarian")
        loaded = load_case(user, number, write=True)
        written = append_event(loaded.case, "librarian", "note", {"text": "Héllo"})
        db.session.commit()
        stored = db.session.get(Event, written.id)
        assert stored is not None
        for name in ("case_id", "seq", "at", "actor", "action", "data_json", "prev_hash", "hash"):
            assert getattr(stored, name) == getattr(written, name), name
        assert written.data == {"text": "Héllo"} == stored.data
        assert loaded.case.head_seq == written.seq and loaded.case.head_hash == written.hash


def printed_head(api, number):
    """The chain head a printed record shows: (event number, hash)."""
    from test_pdf_records import get_pdf, pdf_text, squeezed

    text = squeezed(pdf_text(get_pdf(api, f"/cases/{number}/record.pdf", "librarian")))
    found = re.search(r"event(\d+),([0-9a-f]{64})", text)
    assert found, "the record shows its audit chain head"
    return int(found.group(1)), found.group(2)


def cut_back(app, case, keep):
    """Drop the events after `keep` and move the case's head back to match: a sound chain."""
    last = db.session.execute(
        sa.select(Event.hash).where(Event.case_id == case.id, Event.seq == keep)
    ).scalar_one()
    params = {"case": case.id, "keep": keep, "hash": last}
    tamper(
        app,
        ("DELETE FROM events WHERE case_id = :case AND seq > :keep", params),
        ("UPDATE cases SET head_seq = :keep, head_hash = :hash WHERE id = :case", params),
    )


def rewrite(app, case, seq):
    """Change event `seq` and hash it and every later event afresh, head included."""
    rows = db.session.execute(
        sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq)
    ).scalars()
    statements, prev = [], None
    for event in rows:
        data_json = '{"text":"Nothing happened."}' if event.seq == seq else event.data_json
        prev = prev or event.prev_hash
        digest = event_hash(
            case.number,
            event.seq,
            event.at,
            event.actor,
            event.action,
            event.from_state,
            event.to_state,
            data_json,
            prev,
        )
        params = {"id": event.id, "data": data_json, "prev": prev, "hash": digest}
        change = "UPDATE events SET data_json = :data, prev_hash = :prev, hash = :hash"
        statements.append((f"{change} WHERE id = :id", params))
        prev = digest
    head = {"case": case.id, "hash": prev}
    statements.append(("UPDATE cases SET head_hash = :hash WHERE id = :case", head))
    tamper(app, *statements)


@pytest.mark.parametrize("forge", [cut_back, rewrite], ids=["cut-back", "rewritten"])
def test_a_printed_record_catches_a_trail_forged_with_its_head(
    app, api, monkeypatch, database_url, forge
):
    """A forger who keeps the chains sound, head on the case row included, is still caught by
    the chain head a paper copy shows."""
    number = api.open("librarian", "complaint", summary="Wi-Fi drops", channel="email")["number"]
    api.ok("librarian", number, "engage", response="We restarted the router")
    api.post(f"/cases/{number}/notes", "librarian", json={"text": "Patron satisfied"})
    api.ok("librarian", number, "resolve", resolution="Fixed")
    seq, digest = printed_head(api, number)
    assert seq == 4
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    runner = app.test_cli_runner()
    checked = runner.invoke(main, ["audit", "verify", "--record", number, str(seq), digest])
    assert checked.exit_code == 0, checked.output
    assert f"record {number} event 4: the printed chain head is in the trail" in checked.output

    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        forge(app, case, 3)
    # The forger rebuilds the log over the forged trail too; no checkpoint was ever signed.
    rebuild_log(app)
    plain = runner.invoke(main, ["audit", "verify"])
    assert plain.exit_code == 0, "the forged trail is a sound chain: only the paper shows it"
    result = runner.invoke(main, ["audit", "verify", "--record", number, str(seq), digest])
    assert result.exit_code == 1
    assert f"BROKEN {number} event 4 (printed): " in result.output
    assert "1 problem(s)" in result.output


def test_a_printed_head_must_be_given_as_printed(app, monkeypatch, database_url):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    runner = app.test_cli_runner()
    for args, wrong in (
        (["CMP-2026-0001", "four", "0" * 64], "event number"),
        (["not-a-case", "4", "0" * 64], "case number"),
        (["CMP-2026-0001", "4", "abc"], "64 hexadecimal"),
    ):
        result = runner.invoke(main, ["audit", "verify", "--record", *args])
        assert result.exit_code == 2 and wrong in result.output, result.output
    unknown = runner.invoke(main, ["audit", "verify", "--record", "CMP-2026-0999", "1", "0" * 64])
    assert unknown.exit_code == 1 and "no such case" in unknown.output
