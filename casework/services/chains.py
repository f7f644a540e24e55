"""Following the audit trail's hash chains through the stored events, quickly.

`services.audit.verify_chains` reads events in the order they are stored, in one run or in
several runs of event ids shared among helper processes, and follows each case's chain as its
events come. What a run cannot settle (a chain that starts or ends outside it, or events that do
not follow one another) it hands back, and `verify_chains` settles it, walking the doubtful
cases again in sequence order. This module imports only SQLAlchemy, so a helper starts quickly.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess  # nosec B404 # it runs this same interpreter only (see `in_helpers`)
import sys
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

#: The `prev_hash` of a case's first event.
GENESIS = "0" * 64


@dataclass
class Run:
    """What one run of stored events showed."""

    events: int = 0
    #: Cases whose whole chain was in the run, from the first event to the head: sound.
    sound: list[int] = field(default_factory=list)
    #: Cases whose chain only partly lies in the run, as it looked there:
    #: case id -> [first seq, its prev_hash, the seq after the last, the last hash].
    pieces: dict[int, list[Any]] = field(default_factory=dict)
    #: Cases whose events here do not follow one another or do not match their hashes.
    suspects: list[int] = field(default_factory=list)


def json_string(value: Any) -> str:
    """`value` as JSON, exactly as `json.dumps(value, ensure_ascii=False)` writes it."""
    if type(value) is str and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def follow(
    batches: Iterator[list[tuple[Any, ...]]], heads: Mapping[int, tuple[str, int, str]]
) -> Run:
    """Follow each case's chain through events in storage order.

    `heads` gives each case's number, head sequence and head hash. The hash text is built as
    `audit.event_hash` builds it; the time must come as stored by SQLite (`YYYY-MM-DD
    HH:MM:SS.ffffff`). Whatever does not check out here is reported as a suspect, never judged:
    a hash that matches the text built here also matches the engine's, so a chain accepted here
    is one the reference walk accepts.
    """
    run = Run()
    #: case id -> [first seq, its prev_hash, next seq, last hash, the number as JSON]
    chains: dict[int, list[Any]] = {}
    suspects: set[int] = set()
    literals: dict[Any, str] = {None: "null"}
    sha256 = hashlib.sha256
    for rows in batches:
        run.events += len(rows)
        for case_id, seq, at, actor, action, from_state, to_state, data_json, prev, digest in rows:
            chain = chains.get(case_id)
            if chain is None:
                head = heads.get(case_id)
                if head is None or case_id in suspects:
                    suspects.add(case_id)
                    continue
                chain = chains[case_id] = [seq, prev, seq, prev, json_string(head[0])]
            if seq != chain[2] or prev != chain[3] or type(at) is not str or at[10:11] != " ":
                suspects.add(case_id)
                del chains[case_id]
                continue
            try:
                text = (
                    f'{{"action":{literals.get(action) or _literal(literals, action)},'
                    f'"actor":{literals.get(actor) or _literal(literals, actor)},'
                    f'"at":"{at[:10]}T{at[11:]}Z","case":{chain[4]},"data":{data_json},'
                    f'"from":{literals.get(from_state) or _literal(literals, from_state)},'
                    f'"prev":"{prev}","seq":{seq},'
                    f'"to":{literals.get(to_state) or _literal(literals, to_state)}}}'
                )
            except TypeError:  # a value of a kind the engine never writes (SQLite keeps any)
                text = ""
            if not text or sha256(text.encode("utf-8")).hexdigest() != digest:
                suspects.add(case_id)
                del chains[case_id]
                continue
            chain[2] = seq + 1
            chain[3] = digest
    for case_id, (first, first_prev, after, last, _) in chains.items():
        _, head_seq, head_hash = heads[case_id]
        if first == 1 and first_prev == GENESIS and after - 1 == head_seq and last == head_hash:
            run.sound.append(case_id)
        else:
            run.pieces[case_id] = [first, first_prev, after, last]
    run.suspects = sorted(suspects)
    return run


def _literal(cache: dict[Any, str], value: Any) -> str:
    """`value` as JSON, remembered (actors, actions and states repeat; a few thousand at most)."""
    text = json_string(value)
    if len(cache) < 10_000:
        cache[value] = text
    return text


#: The columns `follow` reads, in its order, for a range of event ids (the driver's own SQL).
_SQLITE_EVENTS = (
    "SELECT case_id, seq, at, actor, action, from_state, to_state, data_json, prev_hash, hash "
    "FROM events WHERE id BETWEEN ? AND ?"
)
_POSTGRESQL_EVENTS = (
    "SELECT case_id, seq, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), actor, action, from_state, "
    "to_state, data_json, prev_hash, hash FROM events WHERE id BETWEEN %s AND %s"
)


def stored_events(
    connection: sa.Connection, ids: tuple[int, int], batch: int
) -> Generator[list[tuple[Any, ...]]]:
    """The events with ids in `ids` (both included), in storage order, `batch` rows at a time.

    Read with the driver's own cursor, in the connection's transaction; the time comes as text
    in SQLite's storage format on either database.
    """
    postgresql = connection.dialect.name == "postgresql"
    driver: Any = connection.connection.driver_connection
    # PostgreSQL: a server-side cursor, so the rows are never all held in memory at once.
    cursor = driver.cursor(name="casework_chains") if postgresql else driver.cursor()
    try:
        cursor.execute(_POSTGRESQL_EVENTS if postgresql else _SQLITE_EVENTS, ids)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


def read_heads(connection: sa.Connection) -> dict[int, tuple[str, int, str]]:
    """Every case's number, head sequence and head hash, by case id."""
    rows = connection.exec_driver_sql("SELECT id, number, head_seq, head_hash FROM cases")
    return {case_id: (number, seq, digest) for case_id, number, seq, digest in rows}


def in_helpers(
    address: str,
    ranges: list[tuple[int, int]],
    batch: int,
    here: Callable[[tuple[int, int]], Run],
) -> list[Run]:
    """Follow the ranges of event ids at once: the first in this process with `here`, each of
    the others in a helper process of its own; the runs come back in the order of the ranges.

    Fresh interpreters rather than forks: a SQLite connection must never cross a fork, and the
    caller may hold threads. The task (with the database address) goes in on stdin, the run
    comes back as JSON on stdout.
    """
    code = "from casework.services.chains import helper; helper()"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    helpers: list[subprocess.Popen[bytes]] = []
    try:
        for ids in ranges[1:]:
            process = subprocess.Popen(  # nosec B603 # this interpreter, a fixed command, no shell
                [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
            )
            helpers.append(process)
            task = {"address": address, "ids": ids, "batch": batch}
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
    return Run(
        events=found["events"],
        sound=found["sound"],
        pieces={int(k): v for k, v in found["pieces"].items()},
        suspects=found["suspects"],
    )


def helper() -> None:
    """A helper process: follow one range of event ids (task on stdin, run to stdout)."""
    task = json.load(sys.stdin)
    engine = sa.create_engine(task["address"])
    try:
        with engine.connect() as connection:
            heads = read_heads(connection)
            low, high = task["ids"]
            run = follow(stored_events(connection, (low, high), task["batch"]), heads)
    finally:
        engine.dispose()
    json.dump(
        {
            "events": run.events,
            "sound": run.sound,
            "pieces": run.pieces,
            "suspects": run.suspects,
        },
        sys.stdout,
    )
