"""A large Casework database for the benchmarks, built quickly with bulk Core inserts.

    python bench/seed.py [--scale 1 | --cases 100000 --events 1000000] [--fresh]

`--scale N` is N times the standard size (100,000 cases and 1,000,000 events a scale);
`--cases` and `--events` set either number on their own.

Users of every role (the demo's, plus more librarians and 150 members of staff), people, and
`--cases` cases of the four workflows over the last six years, with `--events` audit events in
all: each case walks its workflow's transitions (with field values of the right types, approvals
by two people, administrators who keep continuity), and gets notes, assignments and, for
confidential cases, recorded views. Every event is hash-chained exactly as the engine does it,
and each case row carries its chain head, version, state, deadline and search text, so
`casework audit verify` passes and the app works on the result as on a real database.

The database is a SQLite file in the benchmarks' folder, or a schema when CASEWORK_DATABASE_URL
names PostgreSQL; it is built under a temporary name and renamed when complete, and the other
benchmarks reuse it. Rows are made and inserted a thousand cases at a time, with only a few
such parts in memory at once, so ten million events take no more memory than one million.
Prints one JSON line: what was made, how long it took, its size and its bytes per case.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as `python bench/seed.py`: the repository first on the import path, and this folder off
# it (bench/transitions.py would otherwise hide the `transitions` package).
if str(Path(__file__).resolve().parent) in sys.path:
    sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

#: Share of the cases per workflow.
MIX = {"complaint": 0.60, "moderation": 0.22, "violation": 0.10, "account": 0.08}
YEARS = 6
BRANCHES = [
    "Main Library",
    "Wheelersburg Branch",
    "New Boston Branch",
    "Lucasville Branch",
    "South Webster Branch",
]
WORDS = (
    "hours website catalogue hold queue parking lights printer charged twice story time "
    "cancelled teen room closes early noise quiet study area wifi drops second floor video "
    "captions overdue fine display lobby bookmobile stop event page author talk summer reading "
    "program card renewal fees branch closed holiday meeting room booking computer lab session "
    "login password ebook audiobook download app crashes volunteer schedule donation drop "
    "newspaper archive microfilm genealogy tax forms notary passport photocopy scanner fax "
    "elevator ramp accessibility restroom cleanliness staff desk rude helpful slow reply post "
    "comment photo tagged without permission political statement advertisement spam link"
).split()
NAMES = (
    "Avery Blake Cameron Dakota Emerson Finley Harper Jamie Kendall Logan Morgan Parker Quinn "
    "Reese Rowan Sawyer Skyler Taylor Jordan Casey Riley Peyton Alexis Drew Elliot Frankie"
).split()
SURNAMES = (
    "Adams Baker Carter Dixon Evans Foster Garcia Hughes Irwin Jensen Keller Lopez Murphy "
    "Nolan Ortiz Perry Quinlan Reed Sanchez Turner Underwood Vasquez Walsh Young Zimmerman"
).split()

#: username, display name, roles (the demo's cast).
CAST = [
    ("director", "Dana Whitfield", ["director"]),
    ("librarian", "Luis Ortega", ["librarian_in_charge"]),
    ("librarian2", "Lena Park", ["librarian_in_charge"]),
    ("librarian3", "Omar Haddad", ["librarian_in_charge"]),
    ("hr", "Harriet Nguyen", ["hr"]),
    ("social", "Sam Patel", ["social_media_team"]),
    ("social2", "Mei Chen", ["social_media_team"]),
    ("staff", "Terry Brooks", ["staff"]),
    ("trustee", "Tom Alvarez", ["trustee"]),
    ("admin", "IT Administrator", ["admin"]),
]
STAFF_USERS = 150
OTHER_PEOPLE = 60


#: The standard size, `--scale 1`: the other benchmarks' targets are set at it.
CASES_PER_SCALE = 100_000
EVENTS_PER_SCALE = 1_000_000


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """`--scale`, `--cases` and `--events`, as every script on the seeded database takes them."""
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help=f"{CASES_PER_SCALE:,} cases and {EVENTS_PER_SCALE:,} events a scale (default 1)",
    )
    parser.add_argument("--cases", type=int, help="cases (default: by --scale)")
    parser.add_argument("--events", type=int, help="events (default: by --scale)")


def size(args: argparse.Namespace) -> tuple[int, int]:
    """The cases and events the parsed size arguments ask for."""
    cases = args.cases if args.cases is not None else args.scale * CASES_PER_SCALE
    events = args.events if args.events is not None else args.scale * EVENTS_PER_SCALE
    return cases, events


def database(cases: int, events: int) -> harness.Database:
    return harness.database(f"seed-{cases}-{events}")


def ensure(cases: int = 100_000, events: int = 1_000_000) -> harness.Database:
    """The seeded database of this size, built first if it does not exist yet."""
    db = database(cases, events)
    if db.exists():
        harness.upgrade(db)
    else:
        build(db, cases, events)
    return db


@dataclass
class People:
    """Who acts in the seeded cases."""

    user_ids: dict[str, int]
    by_role: dict[str, list[str]]
    staff: list[str]
    person_ids: list[int]
    director_person: int


@dataclass
class Trail:
    """One case being written: its row and its events."""

    number: str
    workflow: Any
    fields: dict[str, Any]
    created_at: datetime
    reporter: str
    subject: int | None
    state: str
    version: int = 1
    assignee: str | None = None
    updated_at: datetime | None = None
    state_entered_at: datetime | None = None
    closed_at: datetime | None = None
    events: list[tuple[Any, ...]] = field(default_factory=list)


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, k=words)).capitalize() + "."


def _value(rng: random.Random, f: Any, people: People, at: datetime) -> Any:
    """A valid value for a field definition, as the engine would store it once cleaned."""
    kind = f.type
    if kind == "text":
        text = _sentence(rng, rng.randint(3, 9))
        return text[: f.max_length] if f.max_length else text
    if kind == "textarea":
        text = " ".join(_sentence(rng, rng.randint(6, 16)) for _ in range(rng.randint(1, 3)))
        return text[: f.max_length] if f.max_length else text
    if kind == "choice":
        return rng.choice(f.choices).value
    if kind == "multichoice":
        picked = rng.sample(f.choices, k=min(len(f.choices), rng.randint(1, 2)))
        return list(dict.fromkeys(c.value for c in picked))
    if kind == "yesno":
        return rng.choice(("yes", "no"))
    if kind == "date":
        return (at - timedelta(days=rng.randint(0, 20))).date().isoformat()
    if kind == "datetime":
        moment = at - timedelta(minutes=rng.randint(10, 20_000))
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "url":
        return f"https://www.facebook.com/portsmouthlibrary/posts/{rng.randint(10**8, 10**9)}"
    if kind == "person":
        return rng.choice(people.person_ids)
    if kind == "usernames":
        return ["social", rng.choice(people.staff)]
    if kind == "branch":
        return rng.choice(BRANCHES)
    return None


def _fields(
    rng: random.Random, defs: Any, people: People, at: datetime, context: dict[str, Any]
) -> dict[str, Any]:
    """Values for every required field and most optional ones (never `case` references)."""
    values: dict[str, Any] = {}
    for f in defs:
        if f.type == "case":
            continue
        if not f.required and rng.random() < 0.35:
            continue
        seen = {**context, **values}
        rules = {**f.only_when, **f.shown_when}
        if any(seen.get(other) not in allowed for other, allowed in rules.items()):
            continue
        values[f.name] = _value(rng, f, people, at)
    return values


class Writer:
    """Appends events to a trail with the engine's canonical JSON and hash chain."""

    def __init__(self) -> None:
        from casework.models import GENESIS_HASH
        from casework.services.audit import canonical_json, event_hash

        self.genesis = GENESIS_HASH
        self.canonical_json = canonical_json
        self.event_hash = event_hash

    def append(
        self,
        trail: Trail,
        actor: str,
        action: str,
        data: dict[str, Any],
        at: datetime,
        from_state: str | None = None,
        to_state: str | None = None,
    ) -> None:
        seq = len(trail.events) + 1
        prev = trail.events[-1][8] if trail.events else self.genesis
        data_json = self.canonical_json(data)
        digest = self.event_hash(
            trail.number, seq, at, actor, action, from_state, to_state, data_json, prev
        )
        trail.events.append((seq, at, actor, action, from_state, to_state, data_json, prev, digest))


def _actor(rng: random.Random, roles: tuple[str, ...], people: People, trail: Trail) -> str | None:
    """Someone who may fire a transition with these roles (a trustee for a director-subject)."""
    for role in rng.sample(list(roles), k=len(roles)):
        if role == "director" and trail.subject == people.director_person:
            return "trustee"
        if role in people.by_role:
            return rng.choice(people.by_role[role])
    return None


def walk(
    rng: random.Random,
    writer: Writer,
    trail: Trail,
    people: People,
    total: int,
    now: datetime,
) -> None:
    """The case's life after its creation: transitions, notes, assignments and views."""
    workflow = trail.workflow
    old = (now - trail.created_at).days > 60
    room = total - 1
    while room > 0:
        # After the last event (an approval writes two), minutes to days later, never past now.
        at = trail.events[-1][1]
        span = max((now - at).total_seconds() / (room + 1), 1.0)
        at = at + timedelta(seconds=rng.uniform(0.05, 1.0) * min(span, 4 * 86_400))
        options = [
            t
            for t in workflow.transitions_from(trail.state)
            if not t.effects
            and not (t.trigger == "remove" and trail.fields.get("is_complaint") == "yes")
        ]
        terminal = workflow.states[trail.state].terminal
        move = bool(options) and (old or rng.random() < 0.6)
        move = move and not (terminal and rng.random() < 0.8)
        if move and rng.random() < 0.55:
            room -= _transition(rng, writer, trail, people, rng.choice(options), at, room)
            continue
        room -= _extra(rng, writer, trail, people, at)


def _transition(
    rng: random.Random,
    writer: Writer,
    trail: Trail,
    people: People,
    transition: Any,
    at: datetime,
    room: int,
) -> int:
    """Fire one transition (an approval takes two people); return the events written."""
    actor = _actor(rng, transition.roles_from(trail.state), people, trail)
    if actor is None:
        return _extra(rng, writer, trail, people, at)
    values = _fields(rng, transition.fields, people, at, trail.fields)
    if transition.conditions:  # the account approval: the Director, then the social media team
        if room < 2:
            return _extra(rng, writer, trail, people, at)
        first = {"approved_as": "director", "fields": {}, "trigger": transition.trigger}
        first["waiting_for"] = ["social_media_team"]
        writer.append(trail, "director", "transition", first, at, trail.state, trail.state)
        trail.version += 1
        at = at + timedelta(seconds=rng.uniform(60, 1800))
        second = {"approved_as": "social_media_team", "fields": {}, "trigger": transition.trigger}
        writer.append(trail, "social", "transition", second, at, trail.state, transition.dest)
        written = 2
    else:
        data = {"fields": values, "trigger": transition.trigger}
        writer.append(trail, actor, "transition", data, at, trail.state, transition.dest)
        written = 1
    for f in transition.fields:
        if f.updates_case and f.name in values:
            trail.fields[f.name] = values[f.name]
    trail.version += 1
    trail.updated_at = at
    if transition.dest != trail.state:
        trail.state = transition.dest
        trail.state_entered_at = at
        trail.closed_at = at if trail.workflow.states[trail.state].terminal else None
    return written


def _extra(rng: random.Random, writer: Writer, trail: Trail, people: People, at: datetime) -> int:
    """A note, an assignment, or (confidential cases) a recorded view."""
    confidential = trail.workflow.access.confidential
    roll = rng.random()
    if confidential and roll < 0.5:
        viewer = (
            "trustee" if trail.subject == people.director_person else rng.choice(["director", "hr"])
        )
        writer.append(trail, viewer, "view", {}, at)
        return 1
    if roll < 0.8:
        readers = (
            ["trustee", "hr"] if trail.subject == people.director_person else ["director", "hr"]
        )
        author = rng.choice(readers) if confidential else rng.choice(people.staff[:20])
        writer.append(trail, author, "note", {"text": _sentence(rng, rng.randint(5, 25))}, at)
        trail.updated_at = at
        return 1
    if confidential:
        stand_in = trail.subject == people.director_person
        pool = ["trustee", "hr"] if stand_in else ["director", "hr"]
        manager = "trustee" if stand_in else "director"
    else:
        pool = people.by_role["librarian_in_charge"] + people.staff[:30]
        manager = rng.choice(people.by_role["librarian_in_charge"])
    after = rng.choice(pool)
    if after == trail.assignee:
        after = None
    writer.append(trail, manager, "assign", {"from": trail.assignee, "to": after}, at)
    trail.assignee = after
    trail.version += 1
    trail.updated_at = at
    return 1


def _make_people() -> People:
    """The users and people the cases name (created through the services)."""
    import sqlalchemy as sa

    from casework.extensions import db as sql
    from casework.models import Person, User
    from casework.services.people import create_person
    from casework.services.users import create_user

    cast = list(CAST) + [
        (f"staff{i:03d}", f"{NAMES[i % len(NAMES)]} {SURNAMES[i // len(NAMES)]}", ["staff"])
        for i in range(1, STAFF_USERS + 1)
    ]
    director_person = 0
    for i, (username, name, roles) in enumerate(cast):
        user = create_user(username, roles, display_name=name, email=f"{username}@library.example")
        if roles[0] not in ("trustee", "admin"):
            person = create_person(name, f"E{1000 + i}", BRANCHES[i % len(BRANCHES)], user.username)
            if username == "director":
                director_person = person.id
    for i in range(OTHER_PEOPLE):
        name = f"{NAMES[i % len(NAMES)]} {SURNAMES[(i * 7) % len(SURNAMES)]}"
        create_person(name, f"E{5000 + i}", BRANCHES[i % len(BRANCHES)])
    sql.session.flush()
    users = {u.username: u for u in sql.session.execute(sa.select(User)).scalars()}
    by_role: dict[str, list[str]] = {}
    for username, user in users.items():
        for role in user.assigned_roles:
            by_role.setdefault(role, []).append(username)
    people = list(sql.session.execute(sa.select(Person.id).order_by(Person.id)).scalars())
    return People(
        user_ids={name: u.id for name, u in users.items()},
        by_role=by_role,
        staff=sorted(by_role["staff"]),
        person_ids=people,
        director_person=director_person,
    )


def _creation_times(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """Opening moments over the last YEARS years, more of them recently, in order."""
    start = now - timedelta(days=365 * YEARS)
    span = (now - start).total_seconds() - 3600
    moments = sorted(start + timedelta(seconds=span * rng.random() ** 0.8) for _ in range(count))
    return [m.replace(microsecond=rng.randint(0, 999_999)) for m in moments]


def _per_case_events(rng: random.Random, cases: int, events: int) -> list[int]:
    """Event counts per case, 2 or more each, summing to `events` exactly."""
    mean = events / cases
    counts = [max(2, round(rng.uniform(2, 2 * mean - 2))) for _ in range(cases)]
    diff = events - sum(counts)
    i = 0
    while diff:
        step = 1 if diff > 0 else -1
        if step > 0 or counts[i % cases] > 2:
            counts[i % cases] += step
            diff -= step
        i += 1
    rng.shuffle(counts)
    return counts


@dataclass(frozen=True)
class Part:
    """A run of consecutive cases that one worker writes: ids, numbers, times, event counts."""

    index: int
    first_case_id: int
    first_event_id: int
    #: (opened at, workflow key, number, events) per case.
    cases: list[tuple[datetime, str, str, int]]


def plan(
    cases: int,
    events: int,
    now: datetime,
    tz: Any,
    chunk: int,
    counters: dict[tuple[str, int], int],
) -> Iterator[Part]:
    """The work in parts, numbering the cases in opening order as the engine would.

    Parts are made as they are asked for; `counters` holds the last number of each prefix and
    year given so far (complete once every part has been made).
    """
    rng = random.Random(SEED)
    keys, weights = list(MIX), list(MIX.values())
    prefixes = {"complaint": "CMP", "moderation": "MOD", "violation": "VIO", "account": "ACC"}
    counts = _per_case_events(rng, cases, events)
    rows: list[tuple[datetime, str, str, int]] = []
    index = 0
    first_case = first_event = 1
    for i, created in enumerate(_creation_times(rng, cases, now)):
        key = rng.choices(keys, weights)[0]
        year = created.astimezone(tz).year
        counters[(prefixes[key], year)] = counters.get((prefixes[key], year), 0) + 1
        rows.append(
            (
                created,
                key,
                f"{prefixes[key]}-{year}-{counters[(prefixes[key], year)]:04d}",
                counts[i],
            )
        )
        if len(rows) == chunk or i == cases - 1:
            yield Part(index, first_case, first_event, rows)
            index += 1
            first_case += len(rows)
            first_event += sum(r[3] for r in rows)
            rows = []


SEED = 20_261_123
#: What a worker process holds: the app (workflows, calendar), the people, and "now".
_WORKER: dict[str, Any] = {}


def _start_worker(db: harness.Database, people: People, now: datetime) -> None:
    app = harness.make_app(db)
    app.app_context().push()
    _WORKER.update(people=people, now=now, writer=Writer())


def write_part(
    part: Part,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The case rows, event rows and log leaves of one part (in a worker process)."""
    from casework.library import library
    from casework.services.audit import canonical_json
    from casework.services.case_fields import derived_columns
    from casework.services.log.leaves import case_leaf

    people: People = _WORKER["people"]
    now: datetime = _WORKER["now"]
    writer: Writer = _WORKER["writer"]
    lib = library()
    rng = random.Random(SEED + part.index)
    case_rows: list[dict[str, Any]] = []
    events: list[tuple[Any, ...]] = []
    for offset, (created, key, number, count) in enumerate(part.cases):
        workflow = lib.workflow(key)
        fields = _fields(rng, workflow.fields, people, created, {})
        if workflow.field("branch") is not None:
            fields["branch"] = rng.choice(BRANCHES)
        subject = None
        if workflow.access.subject_field:
            subject = rng.choice(people.person_ids)
            if rng.random() < 0.02:
                subject = people.director_person
            fields[workflow.access.subject_field] = subject
        intake = workflow.access.intake
        reporter = rng.choice(
            people.staff
            if intake == ("staff",)
            else [u for r in intake for u in people.by_role.get(r, [])]
        )
        trail = Trail(number, workflow, fields, created, reporter, subject, workflow.initial)
        trail.updated_at = trail.state_entered_at = created
        data = {"fields": dict(fields), "version": workflow.version, "workflow": workflow.key}
        writer.append(trail, reporter, "created", data, created, None, workflow.initial)
        walk(rng, writer, trail, people, count, now)
        case_id = part.first_case_id + offset
        rule = workflow.states[trail.state].deadline
        entered = trail.state_entered_at or created
        last = trail.events[-1]
        case_rows.append(
            {
                "id": case_id,
                "number": number,
                "workflow_key": workflow.key,
                "definition_digest": workflow.digest,
                "state": trail.state,
                "version": trail.version,
                "fields_json": canonical_json(trail.fields),
                "confidential": workflow.access.confidential,
                "subject_person_id": subject,
                "reporter_id": people.user_ids[reporter],
                "assignee_id": people.user_ids[trail.assignee] if trail.assignee else None,
                "created_at": created,
                "updated_at": trail.updated_at or created,
                "state_entered_at": entered,
                "due_at": lib.calendar.due(entered, rule.business_days) if rule else None,
                "closed_at": trail.closed_at,
                "head_seq": last[0],
                "head_hash": last[8],
                **derived_columns(number, workflow, trail.fields),
            }
        )
        events.extend((case_id, *event) for event in trail.events)
    # Events are stored in the order they happened, interleaved across cases.
    events.sort(key=lambda e: e[2])
    numbers = {part.first_case_id + offset: c[2] for offset, c in enumerate(part.cases)}
    event_rows = [
        {
            "id": part.first_event_id + n,
            "case_id": case_id,
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "from_state": src,
            "to_state": dst,
            "data_json": data_json,
            "prev_hash": prev,
            "hash": digest,
        }
        for n, (case_id, seq, at, actor, action, src, dst, data_json, prev, digest) in enumerate(
            events
        )
    ]
    # Each event a leaf of the log, at the position its storage order gives it (ids from 1).
    leaf_rows = []
    for row in event_rows:
        ref, leaf = case_leaf(numbers[row["case_id"]], row["seq"], row["hash"])
        leaf_rows.append(
            {
                "position": row["id"] - 1,
                "kind": "case",
                "row_id": row["id"],
                "ref": ref,
                "hash": leaf,
            }
        )
    return case_rows, event_rows, leaf_rows


def _insert(
    conn: Any,
    rows: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]],
    base: int,
) -> tuple[int, int]:
    """Insert one part's cases, events and leaves in a transaction; return how many."""
    from casework.services.audit import CASES, EVENTS
    from casework.services.log import LEAVES

    case_rows, event_rows, leaf_rows = rows
    with conn.begin():
        conn.execute(CASES.insert(), case_rows)
        conn.execute(EVENTS.insert(), event_rows)
        for leaf in leaf_rows:
            leaf["position"] += base
        conn.execute(LEAVES.insert(), leaf_rows)
    return len(case_rows), len(event_rows)


def build(db: harness.Database, cases: int, events: int, *, chunk: int = 1000) -> dict[str, Any]:
    """Build the database under a temporary name, then give it its final one.

    Worker processes write the rows (JSON, hashes); this one inserts them in order.
    """
    import multiprocessing
    import os

    import sqlalchemy as sa

    from casework.extensions import db as sql
    from casework.library import library
    from casework.models import CaseCounter
    from casework.services.db import WRITE_OPTION, refresh_statistics
    from casework.services.log import HEAD

    started = time.perf_counter()
    partial = harness.database(f"{db.name}-partial")
    harness.migrate(partial)
    app = harness.make_app(partial)
    now = datetime.now(UTC)
    with harness.app_context(app):
        people = _make_people()
        sql.session.commit()
        # Making the users wrote administration events: the case events' leaves follow theirs.
        base = sql.session.execute(sa.select(HEAD.c.size)).scalar_one()
        counters: dict[tuple[str, int], int] = {}
        parts = plan(cases, events, now, library().tz, chunk, counters)
        sql.session.remove()
        engine = sql.engine
        engine.dispose()
        progress = harness.Progress(f"seeding {db.name}", cases)
        made_cases = made_events = 0
        context = multiprocessing.get_context("fork")
        workers = max(1, (os.cpu_count() or 2))
        with (
            context.Pool(workers, _start_worker, (partial, people, now)) as pool,
            engine.connect() as conn,
        ):
            if engine.dialect.name == "sqlite":
                # Outside any transaction, on the driver's connection (the benchmark's own).
                driver = conn.connection.driver_connection
                assert driver is not None
                driver.execute("PRAGMA synchronous=OFF")
                driver.execute("PRAGMA cache_size=-200000")
            conn = conn.execution_options(**{WRITE_OPTION: True})
            # A few parts ahead of the inserts, no more: the rows of parts made faster than
            # they are inserted would otherwise pile up here.
            pending: deque[Any] = deque()
            for part in parts:
                pending.append(pool.apply_async(write_part, (part,)))
                if len(pending) < 2 * workers:
                    continue
                made = _insert(conn, pending.popleft().get(), base)
                made_cases += made[0]
                made_events += made[1]
                progress.update(made_cases, f"cases, {made_events:,} events")
            while pending:
                made = _insert(conn, pending.popleft().get(), base)
                made_cases += made[0]
                made_events += made[1]
                progress.update(made_cases, f"cases, {made_events:,} events")
            progress.close()
            with conn.begin():
                conn.execute(HEAD.update().values(size=base + made_events))
                conn.execute(
                    sa.insert(CaseCounter),
                    [{"prefix": p, "year": y, "last": n} for (p, y), n in counters.items()],
                )
        inserted = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in ("cases", "events", "users", "people"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                # What autovacuum would soon do after such a load: statistics, visibility map
                # (every table of the schema, for a server whose autovacuum is off).
                tables = conn.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                ).scalars()
                conn.exec_driver_sql("VACUUM ANALYZE " + ", ".join(f'"{t}"' for t in tables))
        else:
            # What the sweep does every few minutes: the planner's statistics.
            refresh_statistics()
            sql.session.commit()
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finished = time.perf_counter()
    partial.rename_to(db)
    return {
        "cases": made_cases,
        "events": made_events,
        "users": len(people.user_ids),
        "people": len(people.person_ids),
        "seconds": round(finished - started, 1),
        "insert_seconds": round(inserted - started, 1),
        "events_per_s": round(made_events / (inserted - started)),
        **_size(db, made_cases),
    }


def _size(db: harness.Database, cases: int) -> dict[str, int]:
    """The database's size on disk (SQLite: the file; PostgreSQL: the schema's tables with their
    indexes and TOAST), in all and per case."""
    size = db.size_bytes()
    return {"size_mb": round(size / 2**20), "bytes_per_case": round(size / max(cases, 1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_size_arguments(parser)
    parser.add_argument("--fresh", action="store_true", help="build again even if it exists")
    args = parser.parse_args()
    cases, events = size(args)
    if events < 2 * cases:
        parser.error("--events must be at least twice --cases")
    db = database(cases, events)
    if db.exists() and not args.fresh:
        harness.report("seed", {"reused": True, "database": db.name, **_size(db, cases)}, db)
        return
    figures = build(db, cases, events)
    harness.report("seed", {"database": db.name, **figures}, db)


if __name__ == "__main__":
    main()
