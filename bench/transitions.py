"""Transitions per second through the engine, next to raw SQLAlchemy Core, and memory over them.

    python bench/transitions.py [--transitions 20000] [--cases 2000] [--rounds 10]

On a fresh database (a SQLite file, or a schema when CASEWORK_DATABASE_URL names PostgreSQL)
holding two sets of complaints, it fires the same transitions (engage, then resolve and reopen in
turn) on each set, alternating rounds so that both meet the same machine load:

- engine: what an API request does around a transition, without HTTP: `load_case(write=True)`
  (write lock, visibility, row lock), `fire` (role, fields, guards, the `transitions` machine,
  the versioned update and the hash-chained audit event), commit, and the session's end;
- raw: SQLAlchemy Core doing the same statements, each transaction in `engine.begin()`: select
  the case row for update, hash and insert the event, update the case where its version and
  head are unchanged, make the event a leaf of the whole-database log (its head row updated,
  the leaf inserted, as the engine does at commit), commit;
- raw without the log: the same, without the leaf's two statements (the statements of the
  engine before it had the log, to compare with earlier figures).

The engine also runs a set with the log's leaves not written (a switch of this script,
`EngineWithoutLog`), in the same rounds: the log's cost is the ratio of the two rates.

RSS is read before and after the engine's transitions (after a short warm-up). Prints one JSON
line: rates by the clock and by CPU time (on a shared machine, the rate with a core to itself),
their ratios (also the median of the rounds' ratios), RSS growth, and the machine.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# Run as `python bench/transitions.py`: the repository first on the import path, and this folder
# off it (this file would otherwise hide the `transitions` package).
if str(Path(__file__).resolve().parent) in sys.path:
    sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

FIELDS: dict[str, dict[str, str]] = {
    "engage": {"response": "Replied on the post with the corrected opening hours."},
    "resolve": {"resolution": "The patron thanked us; nothing further to do."},
    "reopen": {"reason": "The patron wrote again with a follow-up question."},
}
#: The complaint workflow's cycle: the trigger fired from each state, and where it leads.
NEXT = {"received": ("engage", "engaged"), "engaged": ("resolve", "resolved")}
NEXT["resolved"] = ("reopen", "engaged")


def build(db: harness.Database, cases: int) -> list[str]:
    """`cases` new complaints, all received; return their numbers."""
    from casework.extensions import db as sql
    from casework.services.opening import open_case
    from casework.services.users import create_user

    harness.migrate(db)
    app = harness.make_app(db)
    numbers: list[str] = []
    progress = harness.Progress("opening complaints", cases)
    with harness.app_context(app):
        actor = create_user("librarian", ["librarian_in_charge"], display_name="Luis Ortega")
        sql.session.commit()
        for i in range(cases):
            case = open_case(
                actor,
                "complaint",
                {
                    "summary": f"Complaint {i}: opening hours wrong on the website",
                    "channel": "facebook",
                    "branch": "Main Library",
                },
            )
            numbers.append(case.number)
            if i % 500 == 499:
                sql.session.commit()
                progress.update(i + 1)
        sql.session.commit()
    progress.close()
    return numbers


class Engine:
    """Transitions through the services, one session per transition as a request has."""

    def __init__(self) -> None:
        from casework.extensions import db as sql
        from casework.services.users import find_user

        actor = find_user("librarian")
        assert actor is not None
        # Everything `roles` reads (the roles, and any acting term) is loaded before the user
        # leaves this session: each transition's session uses the user as a request's would.
        assert "librarian_in_charge" in actor.roles
        self.actor = actor
        sql.session.remove()

    def run(self, numbers: list[str]) -> None:
        from casework.extensions import db as sql
        from casework.services.firing import fire
        from casework.services.loading import load_case

        actor = self.actor
        session = sql.session
        for number in numbers:
            loaded = load_case(actor, number, write=True)
            case = loaded.case
            trigger = NEXT[case.state][0]
            fire(actor, loaded, trigger, case.version, FIELDS[trigger])
            session.commit()
            session.remove()


class EngineWithoutLog(Engine):
    """The engine with the whole-database log's leaves not written: what the log costs.

    A switch of this script only (the product always writes them): `leaves.append_leaf` does
    nothing while these transitions run."""

    def run(self, numbers: list[str]) -> None:
        from casework.services.log import leaves

        append = leaves.append_leaf
        leaves.append_leaf = lambda *args, **kwargs: None
        try:
            super().run(numbers)
        finally:
            leaves.append_leaf = append


class RawCore:
    """The same statements as SQLAlchemy Core, with the same hash chain.

    Each transaction is `engine.begin()` (a pooled connection, taken and given back), as a
    request would do it in an application written with Core alone. `engine` is the app's unless
    given. With `log`, each transaction also makes its event a leaf of the whole-database log
    as the engine does at commit (the log's head row updated, the leaf inserted); with a list
    as `unlogged`, the leaves are put there instead, to be written later.
    """

    def __init__(
        self,
        engine: Any = None,
        *,
        log: bool = False,
        unlogged: list[tuple[str, int, str, bytes]] | None = None,
    ) -> None:
        import sqlalchemy as sa

        from casework.extensions import db as sql
        from casework.services.audit import CASES, EVENTS
        from casework.services.db import WRITE_OPTION

        engine = sql.engine if engine is None else engine
        self.engine = engine.execution_options(**{WRITE_OPTION: True})
        self.log = log
        self.unlogged = unlogged
        select = sa.select(CASES).where(CASES.c.number == sa.bindparam("number"))
        if engine.dialect.name != "sqlite":
            select = select.with_for_update()
        self.select = select
        self.insert = EVENTS.insert()
        if log or unlogged is not None:
            self.insert = self.insert.returning(EVENTS.c.id)
        self.update = (
            CASES.update()
            .where(CASES.c.id == sa.bindparam("_id"), CASES.c.version == sa.bindparam("_version"))
            .values(
                {
                    name: sa.bindparam(name)
                    for name in (
                        "state",
                        "version",
                        "updated_at",
                        "state_entered_at",
                        "due_at",
                        "closed_at",
                        "head_seq",
                        "head_hash",
                    )
                }
            )
        )

    def run(self, numbers: list[str]) -> None:
        for number in numbers:
            self.transact(number)

    def transact(self, number: str) -> None:
        """One transition of case `number`, in a transaction of its own."""
        from casework.models import utcnow
        from casework.services.audit import canonical_json, event_hash
        from casework.services.log.leaves import case_leaf, write_leaves

        with self.engine.begin() as conn:
            case = conn.execute(self.select, {"number": number}).one()
            trigger, dest = NEXT[case.state]
            now = utcnow()
            seq = case.head_seq + 1
            data_json = canonical_json({"fields": FIELDS[trigger], "trigger": trigger})
            digest = event_hash(
                case.number,
                seq,
                now,
                "librarian",
                "transition",
                case.state,
                dest,
                data_json,
                case.head_hash,
            )
            inserted = conn.execute(
                self.insert,
                {
                    "case_id": case.id,
                    "seq": seq,
                    "at": now,
                    "actor": "librarian",
                    "action": "transition",
                    "from_state": case.state,
                    "to_state": dest,
                    "data_json": data_json,
                    "prev_hash": case.head_hash,
                    "hash": digest,
                },
            )
            event_id = inserted.scalar_one() if self.log or self.unlogged is not None else 0
            moved = conn.execute(
                self.update,
                {
                    "_id": case.id,
                    "_version": case.version,
                    "state": dest,
                    "version": case.version + 1,
                    "updated_at": now,
                    "state_entered_at": now,
                    "due_at": None,
                    "closed_at": now if dest == "resolved" else None,
                    "head_seq": seq,
                    "head_hash": digest,
                },
            )
            assert moved.rowcount == 1
            if self.log or self.unlogged is not None:
                leaf = ("case", event_id, *case_leaf(case.number, seq, digest))
                if self.log:
                    write_leaves(conn, [leaf])
                else:
                    assert self.unlogged is not None
                    self.unlogged.append(leaf)


def check(numbers: list[str]) -> dict[str, Any]:
    """Every case moved as often as asked, and every chain verifies."""
    import sqlalchemy as sa

    from casework.extensions import db as sql
    from casework.models import Case
    from casework.services.verification import verify_chains

    versions = set(
        sql.session.execute(sa.select(Case.version).where(Case.number.in_(numbers))).scalars()
    )
    verdict = verify_chains()
    sql.session.rollback()
    return {"versions": sorted(versions), "chains_ok": verdict.ok, "events": verdict.events}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transitions", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    if args.transitions % args.cases:
        parser.error("--transitions must be a multiple of --cases")

    db = harness.database("transitions")
    numbers = build(db, 4 * args.cases + 4 * args.warmup)
    engine_cases, raw_cases = numbers[: args.cases], numbers[args.cases : 2 * args.cases]
    unlogged_cases = numbers[2 * args.cases : 3 * args.cases]
    bare_cases = numbers[3 * args.cases : 4 * args.cases]
    warmup = numbers[4 * args.cases :]
    app = harness.make_app(db)
    per_case = args.transitions // args.cases
    order_engine = engine_cases * per_case
    order_raw = raw_cases * per_case
    order_unlogged = unlogged_cases * per_case
    order_bare = bare_cases * per_case
    chunk = args.transitions // args.rounds

    with harness.app_context(app):
        engine, raw, unlogged = Engine(), RawCore(log=True), EngineWithoutLog()
        bare = RawCore()
        # Warm-up: statement caches, the first connection, the machine's first firing.
        engine.run(warmup[: args.warmup])
        raw.run(warmup[args.warmup : 2 * args.warmup])
        unlogged.run(warmup[2 * args.warmup : 3 * args.warmup])
        bare.run(warmup[3 * args.warmup :])
        gc.collect()
        rss_before = harness.rss_bytes()
        objects_before = len(gc.get_objects())
        engine_seconds, raw_seconds, ratios = 0.0, 0.0, []
        engine_cpu, raw_cpu = 0.0, 0.0
        unlogged_seconds, log_ratios = 0.0, []
        bare_seconds, bare_ratios = 0.0, []
        progress = harness.Progress("transitions", 4 * args.transitions)
        for r in range(args.rounds):
            part_engine = order_engine[r * chunk : (r + 1) * chunk]
            part_raw = order_raw[r * chunk : (r + 1) * chunk]
            started, cpu = time.perf_counter(), time.process_time()
            engine.run(part_engine)
            took_engine = time.perf_counter() - started
            engine_cpu += time.process_time() - cpu
            started, cpu = time.perf_counter(), time.process_time()
            raw.run(part_raw)
            took_raw = time.perf_counter() - started
            raw_cpu += time.process_time() - cpu
            started = time.perf_counter()
            unlogged.run(order_unlogged[r * chunk : (r + 1) * chunk])
            took_unlogged = time.perf_counter() - started
            started = time.perf_counter()
            bare.run(order_bare[r * chunk : (r + 1) * chunk])
            took_bare = time.perf_counter() - started
            bare_seconds += took_bare
            bare_ratios.append(took_bare / took_engine)
            engine_seconds += took_engine
            raw_seconds += took_raw
            unlogged_seconds += took_unlogged
            ratios.append(took_raw / took_engine)
            log_ratios.append(took_unlogged / took_engine)
            progress.update(4 * (r + 1) * chunk)
        progress.close()
        gc.collect()
        rss_after = harness.rss_bytes()
        objects_after = len(gc.get_objects())
        checked_engine = check(engine_cases)
        checked_raw = check(raw_cases)

    engine_rate = args.transitions / engine_seconds
    raw_rate = args.transitions / raw_seconds
    harness.report(
        "transitions",
        {
            "transitions": args.transitions,
            "cases": args.cases,
            "rounds": args.rounds,
            "engine_per_s": round(engine_rate),
            "raw_core_per_s": round(raw_rate),
            "ratio": round(engine_rate / raw_rate, 3),
            "ratio_median_of_rounds": round(statistics.median(ratios), 3),
            # Raw Core without the log's two statements (the engine's statements before the log).
            "raw_core_without_log_per_s": round(args.transitions / bare_seconds),
            "ratio_to_raw_without_log": round(bare_seconds / engine_seconds, 3),
            "ratio_to_raw_without_log_median_of_rounds": round(statistics.median(bare_ratios), 3),
            # The whole-database log's cost: the engine's rate with it over the rate without.
            "engine_without_log_per_s": round(args.transitions / unlogged_seconds),
            "with_log_ratio": round(unlogged_seconds / engine_seconds, 3),
            "with_log_ratio_median_of_rounds": round(statistics.median(log_ratios), 3),
            # On a shared machine: the rates this process would reach with a core to itself.
            "engine_cpu_per_s": round(args.transitions / engine_cpu),
            "raw_core_cpu_per_s": round(args.transitions / raw_cpu),
            "ratio_cpu": round(raw_cpu / engine_cpu, 3),
            "engine_us_per_transition": round(1e6 / engine_rate, 1),
            "raw_us_per_transition": round(1e6 / raw_rate, 1),
            "rss_growth_mb": round((rss_after - rss_before) / 2**20, 2),
            "rss_mb": round(rss_after / 2**20, 1),
            "python_objects_growth": objects_after - objects_before,
            "case_versions_after": {
                "engine": checked_engine["versions"],
                "raw": checked_raw["versions"],
            },
            "chains_ok": checked_engine["chains_ok"],
            "targets": {
                "engine_per_s": ">= 1500",
                "ratio": ">= 0.6",
                "rss_growth_mb": "< 10",
                "with_log_ratio": ">= 0.9",
            },
        },
        db,
    )
    db.drop()


if __name__ == "__main__":
    main()
