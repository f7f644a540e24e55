"""Writer processes for the crash tests: they work cases through the services until killed.

Usage: python tests/crashwriter.py DATABASE_URL, then one line per writer on standard input:
`SEED OUTPUT_FILE`. The launcher has imported everything once; it forks a writer per line and
answers with the writer's process id. Each writer's step is one transaction (open a case, fire
a transition, add a note, attach a file, assign), committed the way a request commits; it writes
`ready` to its output file, then `ack NUMBER VERSION HEAD_SEQ` after each commit for every case
the commit changed, so the test knows what was acknowledged before the kill.
"""

from __future__ import annotations

import io
import os
import random
import signal
import sys
import time
import traceback
from typing import Any

import sqlalchemy as sa

from casework import create_app
from casework.errors import CaseworkError
from casework.extensions import db
from casework.models import Case
from casework.services import activity, evidence, firing, loading, opening
from casework.services.db import begin_write
from casework.services.users import find_user

ACTORS = ("librarian", "director", "social")
#: The longest pause between two steps of a writer.
PAUSE_S = 0.004


def field_value(rng: random.Random, field: Any) -> Any:
    """A valid value for a transition field (the crash workflows need text and choices only)."""
    if field.choices:
        return rng.choice(field.choices).value
    return f"{field.label} {rng.randrange(10**6)} «ünïcode» \u202e"


def pick_case(rng: random.Random) -> str | None:
    number: str | None = db.session.execute(
        sa.select(Case.number)
        .where(Case.workflow_key.in_(("complaint", "moderation")))
        .order_by(sa.func.random())
        .limit(1)
    ).scalar_one_or_none()
    return number


def step(rng: random.Random, users: dict[str, Any]) -> list[Case]:
    """One unit of work in one transaction; returns the cases it changed."""
    actor = users[rng.choice(ACTORS)]
    roll = rng.random()
    if roll < 0.12:
        complaint = opening.open_case(
            actor, "complaint", {"summary": f"Crash test {rng.random()}", "channel": "email"}
        )
        return [complaint]
    if roll < 0.18:
        post = opening.open_case(
            actor,
            "moderation",
            {
                "post_url": "https://social.example/p/1",
                "content": "A post",
                "is_complaint": rng.choice(["yes", "no"]),
            },
        )
        return [post]
    number = pick_case(rng)
    if number is None:
        return []
    loaded = loading.load_case(actor, number, write=True)
    case = loaded.case
    if roll < 0.70:
        offers = [o.transition for o in firing.offers(actor, loaded) if not o.blocked]
        if not offers:
            return []
        transition = rng.choice(offers)
        fields = {f.name: field_value(rng, f) for f in transition.fields if f.required}
        before = db.session.execute(sa.select(sa.func.max(Case.id))).scalar_one()
        firing.fire(actor, loaded, transition.trigger, case.version, fields)
        spawned = db.session.execute(sa.select(Case).where(Case.id > before)).scalars().all()
        return [case, *spawned]
    if roll < 0.85:
        activity.add_note(actor, loaded, f"Note {rng.randrange(10**9)} ✓")
        return [case]
    if roll < 0.95:
        data = f"evidence {rng.randrange(10**9)}\n".encode() * rng.randrange(1, 2000)
        evidence.attach(actor, loaded, "evidence.txt", io.BytesIO(data))
        return [case]
    assignee = rng.choice(["librarian", "director", "social", ""])
    activity.assign(actor, loaded, assignee)
    return [case]


def write(url: str, seed: int, output: str) -> None:
    """Work until killed, acknowledging each commit in `output`."""
    rng = random.Random(seed)
    app = create_app({"TESTING": True, "SECRET_KEY": "crash-writer", "DATABASE_URL": url})
    with open(output, "w", buffering=1) as out, app.app_context():
        users = {name: find_user(name) for name in ACTORS}
        db.session.rollback()
        out.write("ready\n")
        while True:
            begin_write()
            try:
                changed = step(rng, users)
            except CaseworkError:
                db.session.rollback()
                continue
            acks = [(c.number, c.version, c.head_seq) for c in changed]
            db.session.commit()
            # Line-buffered: each line reaches the file before the next step begins.
            out.write("".join(f"ack {n} {v} {h}\n" for n, v, h in acks))
            # A short pause, as between requests: a kill still lands inside a transaction about
            # half the time, and over hundreds of kills the trail grows at a bounded pace
            # instead of as fast as the disk allows (gigabytes in half an hour).
            time.sleep(rng.uniform(0, PAUSE_S))


def main() -> None:
    url = sys.argv[1]
    # Writers are never waited for here: the kernel reaps them once killed.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        seed, output = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                write(url, int(seed), output)
            except BaseException:
                traceback.print_exc()  # into the launcher's log, which the test shows
            finally:
                os._exit(1)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
