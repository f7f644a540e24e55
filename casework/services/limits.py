"""Limits and throttles, counted in the database so they hold across every worker and host.

Each counted attempt is a row of `throttle_hits` under a key naming what is counted (a user's
writes, a user's reports, failed sign-ins for a name from an address, failed sign-ins from an
address). A limit is reached when its key has `most` rows within its window. Rows older than a
day (longer than any window) are pruned as new ones are written, through an index on their time,
so the table stays small without a job of its own.

Counting and adding happen in the caller's write transaction: on SQLite the write lock orders
them; on PostgreSQL an advisory lock on the key does, so two workers cannot both take the last
place under a limit. A refused request rolls back and so counts nothing (failed sign-ins are
kept on purpose by their caller).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from casework.errors import CaseworkError
from casework.extensions import db
from casework.models import ThrottleHit, User, utcnow
from casework.services.db import begin_write, is_sqlite

log = logging.getLogger(__name__)

#: Rows older than this are pruned: longer than any window.
KEEP = timedelta(days=1)
KEY_MAX = 400


class TooMany(CaseworkError):
    """A limit is reached; the message says which and when to try again. Nothing was changed."""

    status = 429
    code = "too_many_requests"

    def __init__(
        self, message: str, *, retry_after: int = 60, fields: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message, fields)
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True)
class Window:
    """At most `most` counted attempts per `span`."""

    most: int
    span: timedelta


def setting(name: str) -> int:
    """A whole-number setting (`CASEWORK_<NAME>`)."""
    return int(current_app.config[name])


def _lock(key: str) -> None:
    """Serialize counting under one key across connections (PostgreSQL; SQLite's write lock
    already does)."""
    begin_write()
    if not is_sqlite():
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(number)))


def count(key: str, window: Window, now: datetime) -> tuple[int, datetime | None]:
    """How many attempts `key` has within the window, and when the oldest of them was."""
    found, oldest = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(ThrottleHit.at)).where(
            ThrottleHit.key == key[:KEY_MAX], ThrottleHit.at > now - window.span
        )
    ).one()
    return int(found), oldest


def retry_after(window: Window, oldest: datetime | None, now: datetime) -> int:
    """Seconds until the oldest counted attempt leaves the window."""
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + window.span - now).total_seconds()))


_HIT = sa.insert(ThrottleHit)
_PRUNE = sa.delete(ThrottleHit).where(ThrottleHit.at < sa.bindparam("before"))


def hit(key: str, now: datetime) -> None:
    """Count one attempt under `key`, and prune what has expired: two statements on the
    session's connection, as every write to a case comes here."""
    connection = db.session.connection()
    connection.execute(_HIT, {"key": key[:KEY_MAX], "at": now})
    connection.execute(_PRUNE, {"before": now - KEEP})


def reached(key: str, window: Window, now: datetime) -> int | None:
    """None while `key` is under its limit; else the seconds until it is not (locks the key).

    A limit of 0 or less is off (benchmarks that measure the engine alone).
    """
    if window.most <= 0:
        return None
    _lock(key)
    found, oldest = count(key, window, now)
    if found < window.most:
        return None
    return retry_after(window, oldest, now)


def forget(key: str) -> None:
    """Drop every counted attempt under `key` (a successful sign-in clears its failures)."""
    db.session.execute(sa.delete(ThrottleHit).where(ThrottleHit.key == key[:KEY_MAX]))


def when(seconds: int) -> str:
    """'in 3 minutes', for a message."""
    if seconds < 90:
        return f"in {seconds} seconds"
    return f"in {math.ceil(seconds / 60)} minutes"


# --- writes and reports -----------------------------------------------------------------------


def writes_window() -> Window:
    return Window(setting("WRITES_PER_MINUTE"), timedelta(minutes=1))


def reports_window() -> Window:
    return Window(setting("REPORTS_PER_HOUR"), timedelta(hours=1))


def count_write(actor: User, now: datetime | None = None) -> None:
    """Count one change to a case by `actor`; `TooMany` once they reach the writes limit.

    The command line and the deadline sweep (the system user) are not limited.
    """
    window = writes_window()
    _count_for(
        actor,
        "writes",
        window,
        now,
        f"Limit reached: at most {window.most} changes to cases a minute per user, so that "
        "nobody can flood a case or its readers. Nothing was saved; try again {when}.",
    )


def count_report(actor: User, workflow_title: str, now: datetime | None = None) -> None:
    """Count one report (a confidential case opened by a reporter); `TooMany` past the limit."""
    window = reports_window()
    _count_for(
        actor,
        "reports",
        window,
        now,
        f"Limit reached: at most {window.most} {workflow_title.lower()} reports an hour per "
        "person. Nothing was saved; if more is happening, tell the Library Director directly, "
        "or try again {when}.",
    )


def _count_for(actor: User, kind: str, window: Window, now: datetime | None, refusal: str) -> None:
    """Count one of `actor`'s `kind` in `window`; `TooMany` with `refusal` (its `{when}` filled
    in) once the limit is reached. The system user is not limited."""
    if "system" in actor.roles or window.most <= 0:
        return  # not limited (a limit of 0 or less is off)
    now = now or utcnow()
    key = f"{kind}:user:{actor.id}"
    wait = reached(key, window, now)
    if wait is not None:
        noun = kind.removesuffix("s")
        log.warning("%s refused for %s: the limit of %d reached", noun, actor.username, window.most)
        raise TooMany(refusal.replace("{when}", when(wait)), retry_after=wait)
    hit(key, now)


def sign_in_windows() -> tuple[Window, Window]:
    """(failures for one name from one address, failures from one address for any names)."""
    span = timedelta(minutes=setting("SIGN_IN_WINDOW_MINUTES"))
    return (
        Window(setting("SIGN_IN_FAILURES"), span),
        Window(setting("SIGN_IN_FAILURES_PER_ADDRESS"), span),
    )


def sign_in_keys(name: str, address: str) -> tuple[str, str]:
    """The keys a failed sign-in is counted under: the name from this address, and the address.

    Never the name alone: failures from one address must not lock out the same name signing in
    from another. The name is counted whether or not a user has it, so a refusal tells nothing.
    """
    name, address = _plain(name), _plain(address)
    return f"sign-in:name+address:{name}|{address}", f"sign-in:address:{address}"


_PLAIN = re.compile(r"^[A-Za-z0-9._:-]{0,64}$")


def _plain(text: str) -> str:
    """Text as it may stand in a key: a user name or address as it is, anything else (NUL,
    markup, megabytes) by its digest; every name that cannot be a user's is still counted."""
    if _PLAIN.match(text):
        return text
    return "~" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _refusal(keys: tuple[str, str], now: datetime) -> int | None:
    """None while neither of a (name or user, address) pair of keys is at its sign-in limit;
    else the seconds to wait."""
    windows = sign_in_windows()
    waits = [
        w for key, window in zip(keys, windows, strict=True) if (w := reached(key, window, now))
    ]
    return max(waits) if waits else None


def _count_failure(keys: tuple[str, str], now: datetime) -> int | None:
    """Count a failure under both keys; the seconds to wait when it reaches a limit."""
    for key in keys:
        hit(key, now)
    db.session.flush()
    return _refusal(keys, now)


def sign_in_refusal(name: str, address: str, now: datetime) -> int | None:
    """None when a sign-in for `name` from `address` may be tried; else seconds to wait."""
    return _refusal(sign_in_keys(name, address), now)


def count_sign_in_failure(name: str, address: str, now: datetime) -> int | None:
    """Count a failed sign-in; the seconds to wait when this failure reaches a limit."""
    return _count_failure(sign_in_keys(name, address), now)


def forget_sign_in_failures(name: str, address: str) -> None:
    """A successful sign-in clears the failures of that name from that address."""
    forget(sign_in_keys(name, address)[0])


def forget_name(name: str) -> None:
    """A new password (changed or reset) clears the name's failures from every address."""
    db.session.execute(
        sa.delete(ThrottleHit).where(
            ThrottleHit.key.startswith(f"sign-in:name+address:{_plain(name)}|", autoescape=True)
        )
    )


def second_factor_keys(user_id: int, address: str) -> tuple[str, str]:
    """The keys a wrong second-factor code is counted under: the user (from any address, and
    not cleared by a right password, so knowing the password gives no endless guesses), and
    the address, shared with failed passwords."""
    return f"second-factor:user:{user_id}", sign_in_keys("", address)[1]


def second_factor_refusal(user_id: int, address: str, now: datetime) -> int | None:
    """None when a code for the user may be tried from `address`; else seconds to wait."""
    return _refusal(second_factor_keys(user_id, address), now)


def count_second_factor_failure(user_id: int, address: str, now: datetime) -> int | None:
    """Count a wrong code; the seconds to wait when it reaches a limit."""
    return _count_failure(second_factor_keys(user_id, address), now)


def forget_second_factor_failures(user_id: int) -> None:
    """A right code clears the user's wrong ones."""
    forget(second_factor_keys(user_id, "")[0])
