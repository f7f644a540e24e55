"""One log over the whole database: RFC 9162 hashing, signed checkpoints, witnesses, and every
kind of tampering caught against a checkpoint kept outside the database."""

from __future__ import annotations

import base64
import io
import threading

import pytest
import sqlalchemy as sa
from tampering import rebuild_log, tamper
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from casework import logcheck
from casework.cli import main
from casework.extensions import db
from casework.logcheck import (
    SignerKey,
    Tree,
    VerifierKey,
    leaf_hash,
    open_note,
    verify_consistency,
    verify_inclusion,
)
from casework.models import AdministrationEvent, Case, Event, LogCheckpoint, LogLeaf, OutboxMessage
from casework.services import log
from casework.services.audit import event_hash
from casework.services.log import tree as log_tree
from casework.services.log.keys import ensure_signing_key, public_key
from casework.services.log.proofs import proof_for_case
from casework.services.log.verify import verify_log
from casework.services.log.witnesses import extract_note
from casework.services.verification import reading, verify_chains

# --- RFC 9162 / Certificate Transparency test vectors --------------------------------------
# The leaf inputs and roots every CT implementation is tested with (the same values
# transparency-dev/merkle and certificate-transparency-go check against).
VECTOR_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
VECTOR_LEAVES.append("606162636465666768696a6b6c6d6e6f")
VECTOR_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
#: Inclusion of leaf 5 in the tree of 8 (base64, as the vectors give them).
INCLUSION_5_OF_8 = [
    "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
    "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
    "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
]
INCLUSION_0_OF_8 = [
    "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
    "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
    "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
]
CONSISTENCY_2_TO_5 = [
    "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
    "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
]
#: 6 -> 8 with its last hash missing: must be refused.
CONSISTENCY_6_TO_8_TRUNCATED = [
    "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
    "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
]


def b64(values):
    return [base64.b64decode(v) for v in values]


def vector_tree(size=8):
    return Tree([leaf_hash(bytes.fromhex(x)) for x in VECTOR_LEAVES[:size]])


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_rfc_9162_vectors(size):
    assert vector_tree(size).root().hex() == VECTOR_ROOTS[size]
    assert vector_tree().root(size).hex() == VECTOR_ROOTS[size]


def test_inclusion_proofs_match_the_vectors_and_verify():
    tree = vector_tree()
    root = bytes.fromhex(VECTOR_ROOTS[8])
    assert tree.inclusion(5) == b64(INCLUSION_5_OF_8)
    assert tree.inclusion(0) == b64(INCLUSION_0_OF_8)
    assert verify_inclusion(5, 8, tree.levels[0][5], b64(INCLUSION_5_OF_8), root)
    assert not verify_inclusion(5, 8, tree.levels[0][4], b64(INCLUSION_5_OF_8), root)
    assert not verify_inclusion(4, 8, tree.levels[0][5], b64(INCLUSION_5_OF_8), root)
    assert not verify_inclusion(5, 16, tree.levels[0][5], b64(INCLUSION_5_OF_8), root)
    assert not verify_inclusion(5, 8, tree.levels[0][5], b64(INCLUSION_5_OF_8)[:2], root)


def test_consistency_proofs_match_the_vectors_and_verify():
    tree = vector_tree()
    assert vector_tree(5).consistency(2) == b64(CONSISTENCY_2_TO_5)
    assert tree.consistency(1) == b64(INCLUSION_0_OF_8)
    root = {n: bytes.fromhex(VECTOR_ROOTS[n]) for n in range(9)}
    assert verify_consistency(2, 5, root[2], root[5], b64(CONSISTENCY_2_TO_5))
    assert verify_consistency(1, 8, root[1], root[8], b64(INCLUSION_0_OF_8))
    assert not verify_consistency(6, 8, root[6], root[8], b64(CONSISTENCY_6_TO_8_TRUNCATED))
    assert not verify_consistency(2, 5, root[5], root[2], b64(CONSISTENCY_2_TO_5))
    assert not verify_consistency(0, 5, root[0], root[5], [])
    assert verify_consistency(3, 3, root[3], root[3], [])


def test_every_proof_of_every_small_tree_verifies_and_no_other():
    leaves = [leaf_hash(n.to_bytes(2, "big")) for n in range(40)]
    for size in range(1, 40):
        tree = Tree(leaves[:size])
        for index in range(size):
            proof = tree.inclusion(index)
            assert len(proof) <= size.bit_length()
            assert verify_inclusion(index, size, leaves[index], proof, tree.root())
            assert not verify_inclusion(index, size, leaves[index - 1], proof, tree.root())
        for old in range(1, size):
            proof = tree.consistency(old)
            assert verify_consistency(old, size, tree.root(old), tree.root(), proof)
            assert not verify_consistency(old, size, tree.root(old - 1), tree.root(), proof)


def test_a_signed_note_verifies_with_its_key_only_and_unchanged():
    key = SignerKey.generate("library.example/log")
    assert SignerKey.parse(str(key)) == key
    verifier = VerifierKey.parse(str(key.verifier))
    note = key.sign("library.example/log\n3\n" + base64.b64encode(b"r" * 32).decode() + "\n")
    assert note.split("\n\n")[1].startswith("\u2014 library.example/log ")
    # The signature line carries the key hash: SHA-256(name || 0x0A || 0x01 || key)[:4].
    raw = base64.b64decode(note.split(" ")[-1])
    assert raw[:4] == logcheck.key_hash("library.example/log", verifier.public) and len(raw) == 68
    assert open_note(note, verifier).startswith("library.example/log\n3\n")
    with pytest.raises(logcheck.NoteError, match="does not verify"):
        open_note(note.replace("\n3\n", "\n4\n"), verifier)
    other = SignerKey.generate("library.example/log").verifier
    with pytest.raises(logcheck.NoteError, match="not signed"):
        open_note(note, other)


# --- the log in the database ------------------------------------------------------------------


@pytest.fixture
def signed(app, signing_key_file, tmp_path, monkeypatch, database_url):
    """A signing key, a witness folder, and the CLI pointed at this test's database."""
    witness = tmp_path / "witness"
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    monkeypatch.setenv("CASEWORK_WITNESS_DIR", str(witness))
    app.config["WITNESS_DIR"] = str(witness)
    with app.app_context():
        ensure_signing_key()
    return witness


def run(app, *args):
    return app.test_cli_runner().invoke(main, list(args))


def checkpoint(app):
    result = run(app, "audit", "checkpoint")
    assert result.exit_code == 0, result.output
    return result.output


def verify(app, *args):
    return run(app, "audit", "verify", *args)


def case_id(number):
    return db.session.execute(sa.select(Case.id).where(Case.number == number)).scalar_one()


@pytest.fixture
def history(api):
    """Three complaints with a few events each, one with evidence, two linked."""
    numbers = []
    for summary in ("Wi-Fi drops", "Noise", "Parking"):
        number = api.open("librarian", "complaint", summary=summary, channel="email")["number"]
        api.ok("librarian", number, "engage", response="Looking into it")
        api.post(f"/cases/{number}/notes", "librarian", json={"text": f"Note on {summary}"})
        numbers.append(number)
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(b"Screenshot transcript\n"), filename="shot.txt")}
    )
    uploaded = api.post(
        f"/cases/{numbers[1]}/attachments",
        "librarian",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    linked = api.post(f"/cases/{numbers[1]}/links", "librarian", json={"number": numbers[2]})
    assert linked.status_code in (200, 201), linked.get_json()
    return numbers


def leaves(app):
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                sa.select(LogLeaf.position, LogLeaf.kind, LogLeaf.ref).order_by(LogLeaf.position)
            )
        ]


def test_every_event_is_a_leaf_in_order_without_gaps(app, history):
    found = leaves(app)
    with app.app_context():
        events = db.session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one()
        refs = {
            f"{n}/{s}" for n, s in db.session.execute(sa.select(Case.number, Event.seq).join(Event))
        }
        admin = {
            f"admin/{s}" for s in db.session.execute(sa.select(AdministrationEvent.seq)).scalars()
        }
        with reading(db.engine) as conn:
            report = verify_log(conn)
    # Every case event and every administration event (the cast's accounts) is a leaf, once.
    assert [p for p, _, _ in found] == list(range(events + len(admin)))
    assert {ref for _, kind, ref in found if kind == "case"} == refs
    assert {ref for _, kind, ref in found if kind == "admin"} == admin and admin
    assert {kind for _, kind, _ in found} == {"case", "admin"}
    assert report.ok, report.problems
    assert report.size == events + len(admin) and report.blobs == 1


def test_a_rolled_back_savepoint_takes_its_leaf_with_it(app, history):
    from casework.services.audit import append_event
    from casework.services.db import begin_write

    before = leaves(app)
    with app.app_context():
        begin_write()
        case = db.session.execute(sa.select(Case).where(Case.number == history[0])).scalar_one()
        with db.session.begin_nested() as savepoint:
            append_event(case, "librarian", "note", {"text": "undone"})
            savepoint.rollback()
        append_event(case, "librarian", "note", {"text": "kept"})
        db.session.commit()
        with reading(db.engine) as conn:
            assert verify_log(conn).ok
    after = leaves(app)
    assert after[:-1] == before and after[-1][0] == len(before)


def test_a_leaf_the_database_refuses_is_answered_as_a_conflict_and_saves_nothing(app, api):
    """The leaf is written on the driver at commit: what the database refuses there (here its
    position, already taken behind the head's back) still answers as any refused commit does,
    never as a server error, and nothing of the request is kept."""
    number = api.open("librarian", "complaint", summary="Taken", channel="email")["number"]
    with app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO log_leaves (position, kind, row_id, ref, hash) "
                "SELECT size, 'case', 0, 'taken', :hash FROM log_head"
            ),
            {"hash": bytes(32)},
        )
        db.session.commit()
    refused = api.post(f"/cases/{number}/notes", "librarian", json={"text": "Not kept"})
    assert refused.status_code == 409, refused.get_json()
    assert "nothing was saved" in refused.get_json()["error"]["message"]
    events = api.get(f"/cases/{number}/events", "librarian").get_json()["items"]
    assert [e["action"] for e in events] == ["created"]


def test_a_checkpoint_is_signed_stored_filed_mailed_and_proven_consistent(
    app, api, history, signed
):
    with app.app_context():
        db.session.execute(sa.text("UPDATE users SET email = username || '@library.example'"))
        db.session.commit()
    first = checkpoint(app)
    with app.app_context():
        key = public_key()
        assert key is not None
    found = logcheck.read_checkpoint(first, key)
    assert found.size == len(leaves(app)) and found.time.endswith("Z")
    key_out = run(app, "audit", "key")
    assert key_out.exit_code == 0 and key_out.output.strip() == str(key)
    api.post(f"/cases/{history[0]}/notes", "librarian", json={"text": "Later"})
    second = checkpoint(app)
    with app.app_context():
        rows = db.session.execute(sa.select(LogCheckpoint).order_by(LogCheckpoint.id)).scalars()
        stored = list(rows)
        mails = db.session.execute(
            sa.select(OutboxMessage.recipient, OutboxMessage.body_text).where(
                OutboxMessage.kind == "checkpoint"
            )
        ).all()
    assert [r.note for r in stored] == [first, second]
    newer = logcheck.read_checkpoint(second, key)
    proof = [bytes.fromhex(h) for h in stored[1].proof.split()]
    assert verify_consistency(found.size, newer.size, found.root, newer.root, proof)
    assert sorted(p.name for p in signed.iterdir()) == [
        f"checkpoint-{found.size:012d}-{stored[0].id}.txt",
        f"checkpoint-{newer.size:012d}-{stored[1].id}.txt",
    ]
    # The trustees by default, once a day at most.
    assert [recipient for recipient, _ in mails] == ["trustee@library.example"]
    assert first in mails[0][1]
    clean = verify(app)
    assert clean.exit_code == 0, clean.output
    assert "against 2 stored and 2 witnessed checkpoint(s); 1 evidence file(s)" in clean.output


def test_the_sweep_signs_the_log_only_when_it_grew(app, history, signed):
    first = run(app, "sweep")
    assert first.exit_code == 0, first.output
    assert f"checkpoint: {len(leaves(app))} records signed" in first.output
    again = run(app, "sweep", "--quiet")
    assert (again.exit_code, again.output) == (0, "")
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(LogCheckpoint.id))).scalar_one() == 1


# --- tampering, each caught against a witnessed checkpoint --------------------------------------


def witnessed(app, signed):
    """A checkpoint handed to a witness; returns the file the witness keeps."""
    note = checkpoint(app)
    kept = signed.parent / "kept-by-a-trustee.txt"
    kept.write_text(
        f"Subject: checkpoint\n\n-----BEGIN CHECKPOINT-----\n{note}-----END CHECKPOINT-----\n"
    )
    return kept


def forget_stored_checkpoints(app, signed):
    """What an intruder who knows the scheme does too: no stored checkpoint, no folder copy."""
    tamper(app, ("DELETE FROM log_checkpoints", {}))
    for path in signed.iterdir():
        path.unlink()


def delete_case(app, number):
    with app.app_context():
        target = case_id(number)
        db.session.rollback()
    params = {"c": target}
    tamper(
        app,
        ("DELETE FROM case_links WHERE case_a_id = :c OR case_b_id = :c", params),
        ("DELETE FROM attachments WHERE case_id = :c", params),
        ("DELETE FROM outbox WHERE case_id = :c", params),
        ("DELETE FROM rendered_documents WHERE case_id = :c", params),
        ("DELETE FROM events WHERE case_id = :c", params),
        ("DELETE FROM cases WHERE id = :c", params),
    )


def rewrite_case(app, number):
    """A new chain for the case, each hash recomputed, and its head on the case row."""
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        events = db.session.execute(
            sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq)
        ).scalars()
        statements = []
        prev = "0" * 64
        for event in events:
            data = '{"text":"nothing happened"}' if event.action == "note" else event.data_json
            digest = event_hash(
                number, event.seq, event.at, event.actor, event.action,
                event.from_state, event.to_state, data, prev,
            )  # fmt: skip
            params = {"id": event.id, "d": data, "p": prev, "h": digest}
            statements.append(
                (
                    "UPDATE events SET data_json = :d, prev_hash = :p, hash = :h WHERE id = :id",
                    params,
                )
            )
            prev = digest
        statements.append(
            ("UPDATE cases SET head_hash = :h WHERE id = :c", {"h": prev, "c": case.id})
        )
        db.session.rollback()
    tamper(app, *statements)


def problems(app, *args):
    result = verify(app, *args)
    assert result.exit_code == 1, result.output
    return result.output


def test_no_false_alarm_on_clean_data(app, history, signed):
    kept = witnessed(app, signed)
    result = verify(app, "--checkpoint", str(kept))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 3 cases")


def test_a_whole_deleted_case_is_named(app, history, signed):
    kept = witnessed(app, signed)
    delete_case(app, history[1])
    output = problems(app)
    assert f"case {history[1]}: the log holds its events, the database no case (deleted)" in output
    assert f"event {history[1]}/1 is in the log but not in the database (deleted)" in output
    # A thorough intruder rebuilds the log without it and removes what the database kept:
    rebuild_log(app)
    forget_stored_checkpoints(app, signed)
    assert verify(app).exit_code == 0, "without a witness, a clean rebuild looks sound"
    output = problems(app, "--checkpoint", str(kept))
    assert f"{kept}, signed " in output and "its log cut short" in output


def test_a_rewritten_case_with_a_consistent_chain_and_head_is_caught(app, history, signed):
    kept = witnessed(app, signed)
    rewrite_case(app, history[0])
    assert verify_chains_ok(app), "the chain itself is sound: only the log shows it"
    output = problems(app)
    assert f"event {history[0]}/3 no longer has the hash the log holds for it (rewritten)" in output
    rebuild_log(app)
    forget_stored_checkpoints(app, signed)
    output = problems(app, "--checkpoint", str(kept))
    assert "the log was changed, reordered or forked after it was signed" in output


def verify_chains_ok(app):
    with app.app_context():
        result = verify_chains()
        db.session.rollback()
    return result.ok


def test_evidence_bytes_replaced_under_the_same_key_are_named(app, history, signed):
    witnessed(app, signed)
    with app.app_context():
        key = db.session.execute(sa.text("SELECT sha256 FROM blobs")).scalar_one()
        db.session.rollback()
    tamper(app, ("UPDATE blobs SET content = :c WHERE sha256 = :k", {"c": b"forged\n", "k": key}))
    output = problems(app)
    assert f"evidence {key} (on {history[1]}): its bytes no longer hash to its key" in output


def test_a_database_rolled_back_to_an_older_copy_is_caught(app, api, history, signed):
    with app.app_context():
        older = db.session.execute(sa.select(sa.func.max(Event.id))).scalar_one()
        db.session.rollback()
    size = len(leaves(app))
    for n in range(3):
        api.post(f"/cases/{history[2]}/notes", "librarian", json={"text": f"Later {n}"})
    kept = witnessed(app, signed)
    # The older copy: the events, leaves and checkpoints it did not have yet are gone.
    with app.app_context():
        target = case_id(history[2])
        db.session.rollback()
    tamper(
        app,
        ("DELETE FROM events WHERE id > :e", {"e": older}),
        (
            "UPDATE cases SET head_seq = (SELECT max(seq) FROM events WHERE case_id = :c), "
            "head_hash = (SELECT hash FROM events WHERE case_id = :c ORDER BY seq DESC LIMIT 1) "
            "WHERE id = :c",
            {"c": target},
        ),
        ("DELETE FROM log_leaves WHERE position >= :n", {"n": size}),
        ("UPDATE log_head SET size = :n", {"n": size}),
        ("DELETE FROM log_checkpoints", {}),
    )
    for path in signed.iterdir():
        path.unlink()
    older_check = verify(app)
    assert older_check.exit_code == 0, older_check.output
    output = problems(app, "--checkpoint", str(kept))
    assert (
        f"it covers {size + 3} records, the log holds only {size}: the database was rolled back"
        in output
    )


def test_a_fork_of_the_same_size_signed_with_a_stolen_key_is_caught(app, history, signed):
    kept = witnessed(app, signed)
    rewrite_case(app, history[0])
    rebuild_log(app)
    forget_stored_checkpoints(app, signed)
    forged = checkpoint(app)  # the intruder holds the key: a fresh checkpoint of the same size
    with app.app_context():
        key = public_key()
    assert (
        logcheck.read_checkpoint(forged, key).size
        == logcheck.read_checkpoint(logcheck_note(kept), key).size
    )
    assert verify(app).exit_code == 0
    output = problems(app, "--checkpoint", str(kept))
    assert "the log was changed, reordered or forked after it was signed" in output


def logcheck_note(path):
    return extract_note(path.read_text())


def test_events_reordered_across_cases_are_caught(app, history, signed):
    checkpoint(app)
    found = leaves(app)
    first = next(p for p, _, ref in found if ref.startswith(history[0]))
    second = next(p for p, _, ref in found if ref.startswith(history[2]))
    tamper(
        app,
        ("UPDATE log_leaves SET position = -1 WHERE position = :a", {"a": first}),
        ("UPDATE log_leaves SET position = :a WHERE position = :b", {"a": first, "b": second}),
        ("UPDATE log_leaves SET position = :b WHERE position = -1", {"b": second}),
    )
    output = problems(app)
    assert "reordered" in output and "checkpoint 1 (size" in output


def test_a_gap_in_case_numbering_with_no_event_in_the_log_is_no_alarm(app, api, history, signed):
    witnessed(app, signed)
    tamper(app, ("UPDATE case_counters SET last = last + 2", {}))  # two numbers never used
    api.open("librarian", "complaint", summary="After the gap", channel="email")
    result = verify(app)
    assert result.exit_code == 0, result.output


def test_no_false_alarm_while_writers_run(app, api, cast, history, signed):
    checkpoint(app)
    headers = cast.headers("librarian")
    stop = threading.Event()
    written = []

    def write():
        client = app.test_client()
        while not stop.is_set():
            response = client.post(
                f"/api/v1/cases/{history[0]}/notes", json={"text": "busy"}, headers=headers
            )
            written.append(response.status_code)

    writers = [threading.Thread(target=write) for _ in range(2)]
    for thread in writers:
        thread.start()
    try:
        for _ in range(3):
            with app.app_context():
                with reading(db.engine) as conn:
                    report = verify_log(conn)
            assert report.ok, report.problems
    finally:
        stop.set()
        for thread in writers:
            thread.join(timeout=60)
    assert written and set(written) <= {201, 503}
    assert verify(app).exit_code == 0


# --- export and the standalone verifier -------------------------------------------------------


def test_an_export_checks_out_with_the_standalone_verifier_and_tampering_does_not(
    app, history, signed, tmp_path
):
    kept = witnessed(app, signed)
    export = tmp_path / "log.jsonl"
    result = run(app, "audit", "export", str(export))
    assert result.exit_code == 0, result.output
    assert f"{len(leaves(app))} leaves" in result.output
    key = run(app, "audit", "key").output.strip()
    note = tmp_path / "checkpoint.txt"
    note.write_text(logcheck_note(kept))
    assert logcheck.main([str(export), str(note), key]) == 0
    lines = export.read_text().splitlines()
    assert any(history[1] in line for line in lines)
    # One leaf dropped: the root no longer matches.
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    assert logcheck.main([str(cut), str(note), key]) == 1


def test_the_standalone_verifier_imports_nothing_of_casework():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(logcheck))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name.startswith("casework")}
    assert {name.split(".")[0] for name in imported} <= {
        "__future__", "base64", "binascii", "hashlib", "json", "sys", "collections", "dataclasses",
        "pathlib", "cryptography",
    }  # fmt: skip


def test_the_about_page_shows_the_public_key_to_anyone_signed_in(app, cast, signed):
    from casework.logcheck import VerifierKey

    with app.app_context():
        key = str(public_key())
    from webpages import Visitor

    assert app.test_client().get("/about").status_code == 302
    page = Visitor(app, "staff").get("/about")
    assert page.status_code == 200 and key in page.text
    assert VerifierKey.parse(key).name in page.text


def test_a_printed_record_carries_its_checkpoint_and_an_inclusion_proof(
    app, api, history, signed, tmp_path
):
    checkpoint(app)
    with app.app_context():
        proof = proof_for_case(case_id(history[0]))
        key = str(public_key())
        db.session.rollback()
    assert proof is not None and proof.ref.startswith(f"{history[0]}/")
    printed = tmp_path / "printed.txt"
    printed.write_text(proof.note + "\n".join(proof.lines()) + "\n")
    assert logcheck.main(["--proof", str(printed), key]) == 0
    forged = proof.lines()
    forged[0] = forged[0][:-1] + ("0" if forged[0][-1] != "0" else "1")
    printed.write_text(proof.note + "\n".join(forged) + "\n")
    assert logcheck.main(["--proof", str(printed), key]) == 1
    pdf = api.get(f"/cases/{history[0]}/record.pdf", "librarian")
    assert pdf.status_code == 200
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert proof.lines()[0] in text.replace("\n", " ") or proof.ref in text


# --- the kept upper levels: checkpoints and proofs without reading the whole log ----------------


def all_leaf_hashes(app):
    with app.app_context():
        found = db.session.execute(sa.select(LogLeaf.hash).order_by(LogLeaf.position)).scalars()
        return [bytes(h) for h in found]


def note_of(app, text):
    with app.app_context():
        return logcheck.read_checkpoint(text, public_key())


def test_checkpoints_over_kept_levels_match_the_whole_tree(app, api, history, signed, monkeypatch):
    monkeypatch.setattr(log, "NODE_LEVEL", 1)  # a node kept for every two leaves and up
    reads = []
    original = log_tree.read_leaves
    monkeypatch.setattr(
        log_tree,
        "read_leaves",
        lambda c, low, high: reads.append((low, high)) or original(c, low, high),
    )
    notes = [checkpoint(app)]
    for n in range(5):
        reads.clear()
        api.post(f"/cases/{history[n % 3]}/notes", "librarian", json={"text": f"Later {n}"})
        notes.append(checkpoint(app))
        size = note_of(app, notes[-1]).size
        # Only the leaves since the last kept node are read, not the log from its start.
        assert reads and min(low for low, _ in reads) >= note_of(app, notes[-2]).size - 2
    hashes = all_leaf_hashes(app)
    tree = Tree(hashes)
    with app.app_context():
        rows = db.session.execute(
            sa.select(LogCheckpoint.size, LogCheckpoint.proof).order_by(LogCheckpoint.id)
        ).all()
        kept = {
            (level, index): bytes(digest)
            for level, index, digest in db.session.execute(sa.text("SELECT * FROM log_nodes"))
        }
        db.session.rollback()
    for text, row in zip(notes, rows, strict=True):
        found = note_of(app, text)
        assert found.root == tree.root(found.size) and found.size == row.size
    for older, newer in zip(rows, rows[1:], strict=False):
        proof = [bytes.fromhex(h) for h in newer.proof.split()]
        assert proof == tree.consistency(older.size, newer.size)
    size = note_of(app, notes[-1]).size
    assert kept and all(
        digest == tree.subtree(index << level, (index + 1) << level)
        for (level, index), digest in kept.items()
    )
    assert {(1, i) for i in range(size // 2)} <= set(kept)
    # A printed record's proof reads a few kept nodes and a block, and is the whole tree's.
    with app.app_context():
        reads.clear()
        proof = proof_for_case(case_id(history[0]))
        db.session.rollback()
    assert proof is not None and all(high - low <= 2 for low, high in reads)
    assert [bytes.fromhex(h) for h in proof.hashes] == tree.inclusion(proof.position, size)
    assert verify(app).exit_code == 0


def test_kept_nodes_that_disagree_with_the_last_checkpoint_stop_the_next(
    app, api, history, signed, monkeypatch
):
    monkeypatch.setattr(log, "NODE_LEVEL", 1)
    checkpoint(app)
    tamper(app, ("UPDATE log_nodes SET hash = :h", {"h": b"x" * 32}))
    api.post(f"/cases/{history[0]}/notes", "librarian", json={"text": "Later"})
    result = run(app, "audit", "checkpoint")
    assert result.exit_code != 0
    assert "no longer extends checkpoint 1" in result.output
