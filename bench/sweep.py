"""The deadline sweep over every open case of the seeded database, in one run: seconds.

    python bench/sweep.py [--scale 1 | --cases 100000 --events 1000000] [--runs 1]

On the seeded database (bench/seed.py builds it first if needed), `casework sweep`'s work on
the cases, as the command does it in one transaction: the sweep lock, the workflows' watches
over the cases in their states, every open case past its deadline acted on as its workflow says
(an `on_overdue` transition fired, or a reminder recorded and queued), and the planner's
statistics. The seeded cases were never swept, so this first sweep acts on every overdue open
case at once, the most a sweep ever has to do. Then, in the same transaction, the sweep again
(what a sweep every few minutes does: nothing left to act on, every open case still looked at).
Both are rolled back, so the database stays as seeded; `--runs` repeats the pair.

Not timed here: the checkpoint the command signs afterwards (`bench/audit.py` times the first
over the whole log) and the mail it sends. Prints one JSON line: open and overdue cases, what
the sweep did, each run's seconds, and the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

# Run as `python bench/sweep.py`: the repository first on the import path, and this folder off
# it (bench/transitions.py would otherwise hide the `transitions` package).
if str(Path(__file__).resolve().parent) in sys.path:
    sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    seed.add_size_arguments(parser)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    cases, events = seed.size(args)

    import sqlalchemy as sa

    from casework.deadlines import sweep_deadlines
    from casework.extensions import db as sql
    from casework.models import Case, utcnow
    from casework.services.db import begin_write, refresh_statistics

    db = seed.ensure(cases, events)
    app = harness.make_app(db)
    first, again = [], []
    figures: dict[str, object] = {"runs": args.runs}
    with harness.app_context(app):
        now = utcnow()
        figures["open_cases"] = sql.session.execute(
            sa.select(sa.func.count()).select_from(Case).where(Case.closed_at.is_(None))
        ).scalar_one()
        figures["overdue_open_cases"] = sql.session.execute(
            sa.select(sa.func.count())
            .select_from(Case)
            .where(Case.closed_at.is_(None), Case.due_at < now)
        ).scalar_one()
        sql.session.rollback()
        for _ in range(args.runs):
            begin_write()
            started = time.perf_counter()
            actions = sweep_deadlines(now)
            refresh_statistics()
            sql.session.flush()  # what the command's commit writes
            first.append(time.perf_counter() - started)
            started = time.perf_counter()
            repeated = sweep_deadlines(now)
            refresh_statistics()
            sql.session.flush()
            again.append(time.perf_counter() - started)
            sql.session.rollback()
            sql.session.expunge_all()
            problems = [a.line() for a in actions if a.what == "problem"]
            assert not problems, problems[:3]
            figures["actions"] = dict(Counter(a.what for a in actions))
            figures["actions_when_run_again"] = dict(Counter(a.what for a in repeated))
    figures.update(
        cases=cases,
        events=events,
        first_sweep_seconds=[round(s, 2) for s in first],
        first_sweep_median_s=round(statistics.median(first), 2),
        sweep_again_seconds=[round(s, 2) for s in again],
        sweep_again_median_s=round(statistics.median(again), 2),
        target={"sweep_seconds": "< 10 at 1M cases"},
    )
    harness.report("sweep", figures, db)


if __name__ == "__main__":
    main()
