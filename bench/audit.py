"""`casework audit verify` on 1M events: events checked per second.

    python bench/audit.py [--cases 100000] [--events 1000000] [--runs 3]

On the seeded database (bench/seed.py builds it first if needed), runs the verification
(`services.audit.verify_chains`, what the command and `GET /api/v1/audit/verify` run) `--runs`
times in this process, a checkpoint over the whole log `--runs` times (rolled back), then the
command itself (chains, the whole log, evidence) once as a child process (start-up included).
Every run must find every chain intact. Prints one JSON line: the median rate, each run's
seconds, the command's wall time, and the machine.
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
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from casework.extensions import db as sql
    from casework.services.audit import verify_chains

    db = seed.ensure(args.cases, args.events)
    app = harness.make_app(db)
    seconds = []
    with harness.app_context(app):
        for _ in range(args.runs):
            started = time.perf_counter()
            result = verify_chains()
            seconds.append(time.perf_counter() - started)
            sql.session.rollback()
            assert result.ok, result.broken[:3]
            assert result.events >= args.events, result.events
    events = result.events

    # A checkpoint over the whole log (read, tree, root, signature), rolled back afterwards.
    import tempfile

    from casework.services.log import ensure_signing_key, make_checkpoint

    with tempfile.TemporaryDirectory() as folder:
        app.config["SIGNING_KEY_FILE"] = str(Path(folder) / "key")
        checkpoint_seconds = []
        with harness.app_context(app):
            ensure_signing_key()
            for _ in range(args.runs):
                started = time.perf_counter()
                made = make_checkpoint()
                checkpoint_seconds.append(time.perf_counter() - started)
                assert made is not None and made.size >= args.events, made
                sql.session.rollback()

    command = Path(sys.executable).parent / "casework"
    env = {**os.environ, "CASEWORK_DATABASE_URL": db.url, **harness.BENCH_ENV}
    env.pop("CASEWORK_SIGNING_KEY_FILE", None)
    started = time.perf_counter()
    done = subprocess.run(
        [str(command), "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    command_seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr

    median = statistics.median(seconds)
    harness.report(
        "audit",
        {
            "cases": result.cases,
            "events": events,
            "runs": args.runs,
            "verify_seconds": [round(s, 2) for s in seconds],
            "events_per_s": round(events / median),
            "command_seconds": round(command_seconds, 2),
            "command_events_per_s": round(events / command_seconds),
            "command_output": done.stdout.strip(),
            "checkpoint_seconds": [round(s, 2) for s in checkpoint_seconds],
            "target": {"events_per_s": ">= 300000", "checkpoint_seconds": "< 2"},
        },
        db,
    )


if __name__ == "__main__":
    main()
