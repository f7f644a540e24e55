"""Writers killed with SIGKILL at random moments: nothing acknowledged is lost, and every case
still agrees with its audit trail (state, version, files, referrals, hash chain)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from casework.cli import main as cli
from casework.extensions import db
from casework.models import (
    Attachment,
    Blob,
    Case,
    CaseDisposal,
    CaseLink,
    Event,
    User,
    utcnow,
)
from casework.printing.certificate import certificate_pdf
from casework.services import disposal
from casework.services.verification import verify_chains

WRITER = Path(__file__).with_name("crashwriter.py")
YEAR = timedelta(days=366)
ROOT = Path(__file__).resolve().parent.parent


class Launcher:
    """The process that forks writers; it has imported Casework once, so a writer starts fast."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.log = tmp_path / "writers.log"
        self.count = 0
        self.writers: list[Writer] = []
        with self.log.open("w") as errors:
            self.proc = subprocess.Popen(
                [sys.executable, str(WRITER), database_url],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                cwd=ROOT,
            )

    def start(self, seed: int) -> Writer:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        output = self.tmp_path / f"writer{self.count}.out"
        self.count += 1
        self.proc.stdin.write(f"{seed} {output}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line.strip().isdigit(), f"the launcher failed: {self.log.read_text()[-3000:]}"
        writer = Writer(int(line), output, self.log)
        self.writers.append(writer)
        return writer

    def close(self) -> None:
        """Stop the launcher, and any writer a failed test left running."""
        for writer in self.writers:
            if not writer.killed and alive(writer.pid):
                os.kill(writer.pid, signal.SIGKILL)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Writer:
    """One writer process and the file it acknowledges its commits in."""

    def __init__(self, pid: int, output: Path, log: Path) -> None:
        self.pid = pid
        self.output = output
        self.log = log
        self.killed = False

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.output.exists() and self.output.read_text().startswith("ready\n"):
                return
            assert alive(self.pid), f"the writer died: {self.log.read_text()[-3000:]}"
            time.sleep(0.01)
        self.kill()
        pytest.fail(f"the writer did not start: {self.log.read_text()[-3000:]}")

    def acks(self) -> list[tuple[str, int, int]]:
        found = []
        for line in self.output.read_text().splitlines():
            # A line cut by the kill was never complete, so never acknowledged.
            parts = line.split()
            if parts[:1] == ["ack"] and len(parts) == 4 and parts[3].isdigit():
                found.append((parts[1], int(parts[2]), int(parts[3])))
        return found

    def kill(self) -> list[tuple[str, int, int]]:
        """SIGKILL now (it must still be running: a writer that stopped by itself failed)."""
        running = alive(self.pid)
        if running and not self.killed:
            os.kill(self.pid, signal.SIGKILL)
            self.killed = True
        deadline = time.monotonic() + 30
        while alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert running, f"the writer stopped by itself: {self.log.read_text()[-3000:]}"
        return self.acks()


@pytest.fixture
def launcher(app, cast, database_url, tmp_path):
    found = Launcher(database_url, tmp_path)
    yield found
    found.close()


def snapshot_session() -> None:
    """Read the rest of this session's transaction from one snapshot, while writers go on."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def check_consistency(acked: dict[str, tuple[int, int]]) -> dict[str, int]:
    """Every invariant a crash could break; returns a few counts to show work was done."""
    snapshot_session()
    cases = {c.id: c for c in db.session.execute(sa.select(Case)).scalars()}
    trail: dict[int, list[tuple[int, str, str | None, str]]] = defaultdict(list)
    for case_id, seq, action, to_state, data_json in db.session.execute(
        sa.select(Event.case_id, Event.seq, Event.action, Event.to_state, Event.data_json).order_by(
            Event.case_id, Event.seq
        )
    ):
        trail[case_id].append((seq, action, to_state, data_json))
    attached = {
        (a, b) for a, b in db.session.execute(sa.select(Attachment.case_id, Attachment.sha256))
    }
    links = {
        frozenset(pair)
        for pair in db.session.execute(sa.select(CaseLink.case_a_id, CaseLink.case_b_id)).all()
    }
    linked: dict[int, set[int]] = defaultdict(set)
    for a, b in links:
        linked[a].add(b)
        linked[b].add(a)
    by_number = {c.number: c for c in cases.values()}
    transitions = 0
    for case in cases.values():
        events = trail[case.id]
        where = f"{case.number}: {[(s, a, t) for s, a, t, _ in events]}"
        assert [s for s, *_ in events] == list(range(1, len(events) + 1)), where
        assert case.head_seq == len(events), where
        assert events[0][1] == "created", where
        moves = [to for _, action, to, _ in events if action in ("created", "transition")]
        assert case.state == moves[-1], where
        changes = sum(1 for _, action, _, _ in events if action in ("transition", "assign"))
        assert case.version == 1 + changes, where
        transitions += changes
        files = {
            (case.id, json.loads(data)["sha256"]) for _, a, _, data in events if a == "attachment"
        }
        assert files == {pair for pair in attached if pair[0] == case.id}, where
        created = json.loads(events[0][3])
        if case.workflow_key == "moderation" and case.state == "referred":
            complaints = [i for i in linked[case.id] if cases[i].workflow_key == "complaint"]
            assert len(complaints) == 1, where
        if "referred_from" in created:
            origin = by_number[created["referred_from"]]
            assert origin.state == "referred" and frozenset((origin.id, case.id)) in links, where
    for number, (version, head_seq) in acked.items():
        case = by_number.get(number)
        assert case is not None, f"{number} was acknowledged, then lost"
        assert case.version >= version and case.head_seq >= head_seq, (
            f"{number} was acknowledged at version {version}, event {head_seq}; "
            f"now {case.version}, {case.head_seq}"
        )
    for sha256, content in db.session.execute(sa.select(Blob.sha256, Blob.content)):
        assert hashlib.sha256(content).hexdigest() == sha256
    result = verify_chains()
    assert result.ok, result.broken
    db.session.rollback()
    return {"cases": len(cases), "events": result.events, "changes": transitions}


def record(acked: dict[str, tuple[int, int]], acks: list[tuple[str, int, int]]) -> None:
    for number, version, head_seq in acks:
        old = acked.get(number, (0, 0))
        acked[number] = (max(old[0], version), max(old[1], head_seq))


def kill_writers_at_random(
    app, launcher: Launcher, kills: int, check_every: int = 1
) -> dict[str, int]:
    """Two writers run at once; the older is killed at a random moment, then a new one starts.

    Everything is checked after every `check_every` kills, and after the last: a check reads
    the whole database, so checking after each of hundreds of kills would let the writers pile
    up far more data than the kills need.
    """
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    acked: dict[str, tuple[int, int]] = {}
    writers = [launcher.start(seed + n) for n in range(2)]
    for writer in writers:
        writer.wait_ready()
    counts: dict[str, int] = {}
    with app.app_context():
        for n in range(2, kills + 2):
            time.sleep(rng.uniform(0.02, 0.4))
            record(acked, writers.pop(0).kill())
            if (n - 1) % check_every == 0:
                try:
                    counts = check_consistency(acked)
                except AssertionError as exc:
                    raise AssertionError(f"after kill {n - 1} (seed {seed}): {exc}") from exc
            fresh = launcher.start(seed + n)
            fresh.wait_ready()
            writers.append(fresh)
        for writer in writers:
            record(acked, writer.kill())
        counts = check_consistency(acked)
    counts["acknowledged"] = len(acked)
    return counts


def test_twenty_kills_lose_nothing_and_break_nothing(app, launcher):
    counts = kill_writers_at_random(app, launcher, 20)
    # The writers did real work between the kills, or the test would prove nothing.
    assert counts["cases"] >= 10 and counts["changes"] >= 20, counts
    assert counts["acknowledged"] >= 10, counts


@pytest.mark.stress
@pytest.mark.timeout(3600)
def test_two_hundred_kills_lose_nothing_and_break_nothing(app, launcher):
    counts = kill_writers_at_random(app, launcher, 200, check_every=10)
    assert counts["cases"] >= 100 and counts["changes"] >= 200, counts


def test_audit_verify_gives_no_false_alarm_while_writers_run(
    app, launcher, database_url, monkeypatch
):
    """Verifying a live system reads one snapshot: heads and events from the same moment."""
    writers = [launcher.start(n) for n in range(2)]
    try:
        for writer in writers:
            writer.wait_ready()
        monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
        runner = app.test_cli_runner()
        deadline = time.monotonic() + 6
        runs = 0
        while time.monotonic() < deadline:
            with app.app_context():
                result = verify_chains()
                db.session.rollback()
            assert result.ok, result.broken
            outcome = runner.invoke(cli, ["audit", "verify"])
            assert outcome.exit_code == 0, outcome.output
            runs += 1
    finally:
        for writer in writers:
            writer.kill()
    assert runs >= 3 and sum(len(w.acks()) for w in writers) >= 20


DISPOSER = (
    "import sys; from casework.cli import main; "
    "sys.argv = ['casework', 'retention', 'confirm', sys.argv[1], '--as', 'records']; main()"
)


def disposal_state(numbers: list[str]) -> tuple[int, int]:
    """(cases disposed of, events still holding data) among `numbers`; the chains checked."""
    snapshot_session()
    ids = list(db.session.execute(sa.select(Case.id).where(Case.number.in_(numbers))).scalars())
    disposed = db.session.execute(
        sa.select(sa.func.count()).select_from(CaseDisposal).where(CaseDisposal.case_id.in_(ids))
    ).scalar_one()
    whole = db.session.execute(
        sa.select(sa.func.count())
        .select_from(Event)
        .where(Event.case_id.in_(ids), Event.erased_at.is_(None), Event.action != "disposed")
    ).scalar_one()
    result = verify_chains(log_outside=[])
    assert result.ok, (result.broken, result.log_report)
    db.session.rollback()
    return disposed, whole


def test_a_disposal_killed_at_any_moment_is_all_or_nothing_and_finishes_when_run_again(
    app, api, database_url
):
    """`casework retention confirm` killed with SIGKILL at random moments: each time either no
    case of the batch is disposed of or all are, the trail verifies, and a run to the end
    disposes of everything (a further run changes nothing)."""
    numbers = []
    for n in range(30):
        number = api.open("librarian", "complaint", summary=f"Old {n}", channel="email")["number"]
        api.post(f"/cases/{number}/notes", "librarian", json={"text": f"Note {n} " * 50})
        api.ok("librarian", number, "engage", response=f"Answer {n}")
        api.ok("librarian", number, "resolve", resolution=f"Done {n}")
        numbers.append(number)
    with app.app_context():
        db.session.execute(
            sa.update(Case).where(Case.number.in_(numbers)).values(closed_at=utcnow() - 6 * YEAR)
        )
        db.session.commit()
        records = db.session.execute(sa.select(User).where(User.username == "records")).scalar()
        batch = disposal.prepare_batch(records, "ADM-12", certificate_pdf)
        batch.wait_until = batch.prepared_at.date() - YEAR
        db.session.commit()
        batch_id = str(batch.id)
    env = {**os.environ, "CASEWORK_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    outcomes = []
    with app.app_context():
        # A run is a start-up, then one transaction: each kill lands a little later than the
        # one before, so the first ones fall before the commit and later ones sweep through
        # the transaction, however fast this machine is.
        for attempt in range(8):
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-c", DISPOSER, batch_id],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.0, 0.4) + 0.3 * attempt)
            process.send_signal(signal.SIGKILL)
            process.wait()
            disposed, whole = disposal_state(numbers)
            assert disposed in (0, len(numbers)), (seed, disposed)
            assert (disposed == 0) == (whole > 0), (seed, disposed, whole)
            outcomes.append(disposed)
        # Kills must have landed before the commit, or nothing was tested.
        assert 0 in outcomes, (seed, outcomes)
        finished = subprocess.run(  # noqa: S603
            [sys.executable, "-c", DISPOSER, batch_id], env=env, capture_output=True, text=True
        )
        assert finished.returncode == 0, finished.stderr
        assert disposal_state(numbers) == (len(numbers), 0)
        again = subprocess.run(  # noqa: S603
            [sys.executable, "-c", DISPOSER, batch_id], env=env, capture_output=True, text=True
        )
        assert f"{len(numbers)} case(s) disposed of" in again.stdout
        events = db.session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one()
        assert disposal_state(numbers) == (len(numbers), 0)
        assert db.session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one() == (
            events
        )
