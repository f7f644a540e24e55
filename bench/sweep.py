"""The deadline sweep over every open case of the seeded database, in one run: seconds.

    python bench/sweep.py [--scale 1 | --cases 100000 --events 1000000] [--runs 1] [--backlog]

On the seeded database (bench/seed.py builds it first if needed), `casework sweep`'s work on
the cases, as the command does it in one transaction: the sweep lock, the workflows' watches
over the cases in their states, every open case past its deadline looked at and acted on as its
workflow says (an `on_overdue` transition fired, or a reminder recorded and queued), and the
planner's statistics; rolled back, so the database stays as seeded.

The seeded cases were never swept: every overdue one is waiting for its first reminder or
escalation, which a sweep every few minutes would have given long ago. So first, in the same
transaction and untimed, the cases are brought to where such sweeps leave them: an `overdue`
event on each overdue case whose rule reminds, no deadline left on each whose rule fires a
transition (it has moved on), and each watch's flag recorded where it flags a case. The timed
sweep is then the routine one, over every open case.
With `--backlog`, instead, the first sweep over the never-swept cases (every reminder and
escalation at once: minutes at 1M cases) is timed, then the sweep again.

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
from datetime import datetime
from pathlib import Path

# Run as `python bench/sweep.py`: the repository first on the import path, and this folder off
# it (bench/transitions.py would otherwise hide the `transitions` package).
if str(Path(__file__).resolve().parent) in sys.path:
    sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, seed


def settle(now: datetime) -> dict[str, int]:
    """Within the transaction: every overdue open case as routine sweeps would have left it
    (see the module's docstring). Returns how many cases of each kind were changed."""
    import sqlalchemy as sa

    from casework.extensions import db as sql
    from casework.jobs.deadlines import sweep_watches
    from casework.library import library
    from casework.services.audit import CASES, EVENTS
    from casework.services.users import system_user

    overdue = sa.and_(CASES.c.closed_at.is_(None), CASES.c.due_at < now)
    firing = [
        sa.and_(CASES.c.workflow_key == w.key, CASES.c.state == name)
        for w in library().workflows
        for name, state in w.states.items()
        if state.deadline is not None and state.deadline.on_overdue
    ]
    moved = sql.session.execute(
        CASES.update().where(overdue, sa.or_(*firing)).values(due_at=None)
    ).rowcount
    reminded = sql.session.execute(
        sa.select(sa.func.count()).select_from(CASES).where(overdue)
    ).scalar_one()
    marker = sa.select(
        CASES.c.id,
        CASES.c.head_seq + 1,
        sa.literal(now, EVENTS.c.at.type),
        sa.literal("system"),
        sa.literal("overdue"),
        sa.literal("{}"),
        CASES.c.head_hash,
        CASES.c.head_hash,
    ).where(overdue)
    columns = ["case_id", "seq", "at", "actor", "action", "data_json", "prev_hash", "hash"]
    sql.session.execute(EVENTS.insert().from_select(columns, marker))
    # The trail's next event (a watch's flag) follows the marker.
    sql.session.execute(CASES.update().where(overdue).values(head_seq=CASES.c.head_seq + 1))
    # And every watch's verdict as the last sweep recorded it (the flags raised so far).
    sql.session.expire_all()
    flagged = len(sweep_watches(system_user(), now))
    return {"moved_on": moved, "reminded": reminded, "flagged": flagged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    seed.add_size_arguments(parser)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--backlog", action="store_true", help="time the first sweep over the never-swept cases"
    )
    args = parser.parse_args()
    cases, events = seed.size(args)

    import sqlalchemy as sa

    from casework.extensions import db as sql
    from casework.jobs.deadlines import sweep_deadlines
    from casework.models import Case, utcnow
    from casework.services.db import begin_write, refresh_statistics

    db = seed.ensure(cases, events)
    app = harness.make_app(db)
    first, again, settling = [], [], []
    figures: dict[str, object] = {"runs": args.runs, "backlog": args.backlog}
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
            if not args.backlog:
                started = time.perf_counter()
                figures["settled"] = settle(now)
                settling.append(time.perf_counter() - started)
            started = time.perf_counter()
            actions = sweep_deadlines(now)
            refresh_statistics()
            sql.session.flush()  # what the command's commit writes
            first.append(time.perf_counter() - started)
            if args.backlog:
                started = time.perf_counter()
                repeated = sweep_deadlines(now)
                refresh_statistics()
                sql.session.flush()
                again.append(time.perf_counter() - started)
                figures["actions_when_run_again"] = dict(Counter(a.what for a in repeated))
            sql.session.rollback()
            sql.session.expunge_all()
            problems = [a.line() for a in actions if a.what == "problem"]
            assert not problems, problems[:3]
            figures["actions"] = dict(Counter(a.what for a in actions))
    label = "backlog_sweep" if args.backlog else "sweep"
    figures.update(
        {
            "cases": cases,
            "events": events,
            f"{label}_seconds": [round(s, 2) for s in first],
            f"{label}_median_s": round(statistics.median(first), 2),
        }
    )
    if settling:
        figures["settling_seconds"] = [round(s, 2) for s in settling]
    if again:
        figures["sweep_again_seconds"] = [round(s, 2) for s in again]
        figures["sweep_again_median_s"] = round(statistics.median(again), 2)
    figures["target"] = {"sweep_seconds": "< 10 at 1M cases"}
    harness.report("sweep", figures, db)


if __name__ == "__main__":
    main()
