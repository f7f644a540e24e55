"""`casework audit verify` on 1M events: events checked per second; checkpoints and proofs.

    python bench/audit.py [--scale 1 | --cases 100000 --events 1000000] [--runs 3] [--skip PART]

On the seeded database (bench/seed.py builds it first if needed), `--runs` times each:
- verify: the chain check alone (`services.verification.verify_chains`, what
  `GET /api/v1/audit/verify` runs), in this process;
- checkpoint: a checkpoint over the whole log (the first one, which hashes every leaf and keeps
  the tree's upper levels), the next one 1,000 records later, and a printed record's inclusion
  proof under it; all rolled back;
- command: `casework audit verify` as a child process (start-up, the chains, the whole log
  against a checkpoint made for it first, the administration trail and the evidence); the
  checkpoint is removed afterwards, so the database stays as seeded.
Every run must find everything intact. `--skip verify|checkpoint|command` leaves a part out.
Prints one JSON line: each run's seconds, the median rates, and the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Run as `python bench/audit.py`: the repository first on the import path, and this folder off
# it (bench/transitions.py would otherwise hide the `transitions` package).
if str(Path(__file__).resolve().parent) in sys.path:
    sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    seed.add_size_arguments(parser)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--skip", action="append", default=[], choices=["verify", "checkpoint", "command"]
    )
    args = parser.parse_args()
    cases, events = seed.size(args)

    from casework.extensions import db as sql
    from casework.services.verification import verify_chains

    db = seed.ensure(cases, events)
    app = harness.make_app(db)
    figures: dict[str, object] = {"runs": args.runs}
    with harness.app_context(app):
        cases = sql.session.execute(sql.text("SELECT count(*) FROM cases")).scalar_one()
        events = sql.session.execute(sql.text("SELECT count(*) FROM events")).scalar_one()
        sql.session.rollback()
        figures.update(cases=cases, events=events)
        if "verify" not in args.skip:
            seconds = []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = verify_chains()
                seconds.append(time.perf_counter() - started)
                sql.session.rollback()
                assert result.ok, result.broken[:3]
                assert result.events == events, result.events
            figures["verify_seconds"] = [round(s, 2) for s in seconds]
            figures["events_per_s"] = round(events / statistics.median(seconds))

    if "checkpoint" not in args.skip:
        figures.update(checkpoints(app, args.runs, events, cases))

    if "command" not in args.skip:
        figures.update(command(db, args.runs, events))
    figures["target"] = {"command_events_per_s": ">= 300000", "checkpoint_seconds": "< 2"}
    harness.report("audit", figures, db)


def command(db: harness.Database, runs: int, events: int) -> dict[str, object]:
    """`casework audit verify` as a child process, `runs` times, against a checkpoint made for
    it (with CASEWORK_SIGNING_KEY_FILE, else a key of its own); each run's seconds and CPU
    seconds. Checkpoints are never removed
    by the application, so SQLite runs on a copy, and PostgreSQL's is removed with the
    database's triggers off."""
    import resource
    import tempfile

    import sqlalchemy as sa

    from casework.logcheck import SignerKey

    casework = Path(sys.executable).parent / "casework"
    seconds, cpu = [], []
    target = db
    if db.path is not None:
        target = harness.database(f"{db.name}-verify")
        db.copy_to(target)
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "CASEWORK_DATABASE_URL": target.url,
            **harness.BENCH_ENV,
            # The key of any checkpoint the database already holds, else one made for the run.
            "CASEWORK_SIGNING_KEY_FILE": os.environ.get("CASEWORK_SIGNING_KEY_FILE")
            or str(Path(folder) / "key"),
        }
        if not Path(env["CASEWORK_SIGNING_KEY_FILE"]).exists():
            key = SignerKey.generate("casework.bench/0")
            Path(env["CASEWORK_SIGNING_KEY_FILE"]).write_text(f"{key}\n")
        made = subprocess.run(
            [str(casework), "audit", "checkpoint"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        try:
            for _ in range(runs):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run(
                    [str(casework), "audit", "verify"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                seconds.append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                assert done.returncode == 0, done.stdout + done.stderr
        finally:
            if target is not db:
                target.drop()
            else:
                engine = sa.create_engine(db.url)
                with engine.begin() as connection:
                    connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                    connection.exec_driver_sql("DELETE FROM log_checkpoints")
                    connection.exec_driver_sql("DELETE FROM log_nodes")
                engine.dispose()
    return {
        "command_seconds": [round(s, 2) for s in seconds],
        "command_cpu_seconds": [round(s, 2) for s in cpu],
        "command_events_per_s": round(events / statistics.median(seconds)),
        "command_output": done.stdout.strip(),
    }


def checkpoints(app: object, runs: int, least: int, cases: int) -> dict[str, object]:
    """A checkpoint over the whole log `runs` times: the first (every leaf hashed, the upper
    levels kept), the next 1,000 records later (made-up leaves), and a printed record's proof
    under it; each run rolled back."""
    import tempfile

    from casework.extensions import db as sql
    from casework.services.log.checkpoints import make_checkpoint
    from casework.services.log.keys import ensure_signing_key
    from casework.services.log.leaves import write_leaves
    from casework.services.log.proofs import proof_for_case

    first, after, proofs = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        app.config["SIGNING_KEY_FILE"] = str(Path(folder) / "key")  # type: ignore[attr-defined]
        with harness.app_context(app):  # type: ignore[arg-type]
            ensure_signing_key()
            for _ in range(runs):
                started = time.perf_counter()
                made = make_checkpoint()
                first.append(time.perf_counter() - started)
                assert made is not None and made.size >= least, made
                start = made.size
                write_leaves(
                    sql.session.connection(),
                    [("bench", start + n, f"bench/{n}", bytes(32)) for n in range(1000)],
                )
                started = time.perf_counter()
                again = make_checkpoint()
                after.append(time.perf_counter() - started)
                assert again is not None and again.size == start + 1000, again
                started = time.perf_counter()
                proof = proof_for_case(cases // 2)
                proofs.append(time.perf_counter() - started)
                assert proof is not None
                sql.session.rollback()
    return {
        "checkpoint_seconds": [round(s, 2) for s in first],
        "next_checkpoint_seconds": [round(s, 3) for s in after],
        "proof_ms": [round(s * 1000, 1) for s in proofs],
    }


if __name__ == "__main__":
    main()
