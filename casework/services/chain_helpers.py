"""The chain check shared among helper processes: one range of event ids each, followed in a
fresh interpreter (`helper`), started when the check starts (`in_helpers`) or ahead of it, while
the command line builds its application (`start_helpers`). Like `services.chains`, this module
imports only SQLAlchemy, and that only where it is used, so a helper starts quickly.
"""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404 # it runs this same interpreter only (see `in_helpers`)
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import IO, TYPE_CHECKING, Any

from casework.services.chains import (
    NODE_LEVEL,
    LeafRun,
    Run,
    add_parts,
    event_ids,
    first_position,
    follow_range,
    read_heads,
)

if TYPE_CHECKING:  # imported where it is used, so that `start_helpers` starts them at once
    import sqlalchemy as sa


#: What a helper process runs: `helper`, then it leaves at once, as multiprocessing's children
#: do (`os._exit`), its run written and flushed: the interpreter's teardown would only collect
#: and free its objects one by one while the caller waits for it to end.
HELPER_CODE = (
    "import os, sys; from casework.services.chain_helpers import helper; helper(); "
    "sys.stdout.flush(); os._exit(0)"
)


def _spawn() -> subprocess.Popen[bytes]:
    """A helper process: this interpreter on `HELPER_CODE`, with this one's import path; its
    task goes in on stdin, its findings come out on stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen(  # nosec B603 # this interpreter, a fixed command, no shell
        [sys.executable, "-c", HELPER_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )


def in_helpers(
    address: str,
    ranges: list[tuple[int, int]],
    batch: int,
    here: Callable[[tuple[int, int]], Run],
    log: list[dict[str, Any]] | None = None,
) -> list[Run]:
    """Follow the ranges of event ids at once: the first in this process with `here`, each of
    the others in a helper process of its own; the runs come back in the order of the ranges.

    Fresh interpreters rather than forks: a SQLite connection must never cross a fork, and the
    caller may hold threads. The task (with the database address) goes in on stdin, the run
    comes back as JSON on stdout. With `log`, each range also reads the log's leaves at the
    positions given there (see `LeafReader`).
    """
    helpers: list[subprocess.Popen[bytes]] = []
    try:
        for n, ids in enumerate(ranges[1:], start=1):
            process = _spawn()
            helpers.append(process)
            task = {"address": address, "ids": ids, "batch": batch}
            if log is not None:
                task["log"] = log[n]
            assert process.stdin is not None
            with process.stdin:
                process.stdin.write(json.dumps(task).encode())
        first = here(ranges[0])
        return [first, *(_collect(process) for process in helpers)]
    finally:
        for process in helpers:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _collect(process: subprocess.Popen[bytes]) -> Run:
    """A helper's run, once it has finished."""
    assert process.stdout is not None
    output = process.stdout.read()
    if process.wait() != 0:
        raise RuntimeError(f"an audit verification helper failed (exit {process.returncode})")
    found = json.loads(output)
    leaves = found.get("leaves")
    return Run(
        events=found["events"],
        sound=found["sound"],
        pieces={int(k): v for k, v in found["pieces"].items()},
        suspects=found["suspects"],
        leaves=None
        if leaves is None
        else LeafRun(
            low=leaves["low"],
            high=leaves["high"],
            sound=leaves["sound"],
            matched=leaves["matched"],
            blocks=leaves["blocks"],
            parts={int(k): v for k, v in leaves["parts"].items()},
            leaves={int(k): v for k, v in leaves["leaves"].items()},
            events={int(k): v for k, v in leaves["events"].items()},
            others=leaves["others"],
        ),
    )


def helper() -> None:
    """A helper process: follow one range of event ids (task on stdin, run to stdout); or,
    started ahead (`start_helpers`), choose its own share first (see `ahead`)."""
    import sqlalchemy as sa

    task = json.loads(sys.stdin.readline())
    engine = sa.create_engine(task["address"])
    try:
        options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name != "sqlite" else {}
        with engine.connect().execution_options(**options) as connection, connection.begin():
            if "ahead" in task:
                run = ahead(connection, task)
            else:
                heads = read_heads(connection)
                run = follow_range(
                    connection, tuple(task["ids"]), task["batch"], heads, task.get("log")
                )
    finally:
        engine.dispose()
    if run is None:
        return
    json.dump(
        {
            "events": run.events,
            "sound": run.sound,
            "pieces": run.pieces,
            "suspects": run.suspects,
            "leaves": None if run.leaves is None else asdict(run.leaves),
        },
        sys.stdout,
    )


#: From about this many events on, the check is shared among processes, one per core.
SHARED_FROM = 300_000
#: About how many events a helper started ahead checks before the caller, which builds its
#: application meanwhile (about 0.5 s longer than a helper takes to start, as it starts first),
#: is ready: each helper takes that many more than it.
AHEAD_EVENTS = 40_000


def shares(low: int, high: int, processes: int, head_start: int) -> list[tuple[int, int]]:
    """The event ids from `low` to `high` in one range per process, the caller's first; it
    takes `head_start` more than each helper (fewer when negative)."""
    span = high - low + 1
    each = max(1, (span - head_start) // processes)
    first = max(1, span - each * (processes - 1))
    starts = [low, *(low + first + k * each for k in range(processes - 1))]
    return list(zip(starts, [s - 1 for s in starts[1:]] + [high], strict=True))


def start_helpers(
    address: str,
    processes: int,
    batch: int = 5000,
    level: int = NODE_LEVEL,
    *,
    shared_from: int = SHARED_FROM,
    lead: int = AHEAD_EVENTS,
) -> Ahead:
    """Start `processes - 1` helpers now, before the caller is ready to check anything: each
    chooses its share of the events and of the log in its own snapshot and starts on it
    (`ahead`). The caller takes what is left (`Ahead.plan`) and gives them the checkpoint sizes
    (`Ahead.collect`); what they find is settled in the caller's snapshot as any helper's is."""
    found = Ahead()
    for index in range(1, processes):
        process = _spawn()
        found.processes.append(process)
        task = {
            "address": address,
            "batch": batch,
            "ahead": {
                "index": index,
                "processes": processes,
                "level": level,
                "shared_from": shared_from,
                "lead": lead,
            },
        }
        assert process.stdin is not None
        process.stdin.write(json.dumps(task).encode() + b"\n")
        process.stdin.flush()
    return found


def ahead(connection: sa.Connection, task: Mapping[str, Any]) -> Run | None:
    """A helper started ahead: its share of the events and of the log, announced on stdout as
    one line, then followed; at the end, the checkpoint sizes come on stdin (the parts of the
    blocks they end in are read again), and the run goes out."""
    plan = task["ahead"]
    low, high = event_ids(connection)
    if low is None or high - low < plan["shared_from"]:
        _announce(None)
        return None
    ranges = shares(low, high, plan["processes"], -plan["lead"])
    index = plan["index"]
    ids = ranges[index]
    size = connection.exec_driver_sql("SELECT size FROM log_head WHERE id = 1").scalar() or 0
    block = 1 << plan["level"]
    first = first_position(connection, ids[0], size, block)
    after = size
    if index + 1 < len(ranges):
        after = first_position(connection, ranges[index + 1][0], size, block)
    _announce({"ids": ids, "positions": [first, max(first, after)]})
    heads = read_heads(connection)
    log = {"positions": [first, max(first, after)], "sizes": [], "level": plan["level"]}
    run = follow_range(connection, ids, task["batch"], heads, log)
    sizes = json.loads(sys.stdin.readline())["sizes"]
    assert run.leaves is not None
    add_parts(connection, run.leaves, sizes, block)
    return run


def _announce(plan: dict[str, Any] | None) -> None:
    sys.stdout.write(json.dumps(plan) + "\n")
    sys.stdout.flush()


@dataclass
class Ahead:
    """Helpers started ahead (`start_helpers`)."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def plan(self) -> list[dict[str, Any]] | None:
        """Each helper's share ({ids, positions}), in order; None when they took none (too few
        events to share)."""
        plans = []
        for process in self.processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"an audit verification helper failed (exit {process.wait()})")
            plans.append(json.loads(line))
        if not plans or any(p is None for p in plans):
            return None
        return plans

    def collect(self, sizes: list[int]) -> list[Run]:
        """The helpers' runs, once they are given the checkpoint sizes and have finished."""
        message = json.dumps({"sizes": sizes}).encode() + b"\n"
        for process in self.processes:
            stdin: IO[bytes] | None = process.stdin
            assert stdin is not None
            with stdin:
                stdin.write(message)
        return [_collect(process) for process in self.processes]

    def close(self) -> None:
        """End any helper still running (a check given up, or an error)."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
