"""One transaction per request: the only place that commits while a request is served.

Like Indico's request handler, every request ends here: its changes are committed if it
succeeded and rolled back if it was refused, after two promises every route shares are kept (a
confidential case a request showed has its view recorded; a request another site set off
writes nothing). Services flush and append events but never commit; `commit_now` and
`commit_and_answer` let a write that answers with what it wrote commit around building its
answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, g
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from casework.errors import CaseworkError, FromAnotherSite, Unavailable
from casework.extensions import db
from casework.http.refusals import (
    BUSY_MESSAGE,
    from_another_site_response,
    json_error,
    plain_error,
    wants_json,
    with_retry_after,
)
from casework.services import reads
from casework.services.audit import wrote
from casework.services.db import is_sqlite, refuse_writes, writes_refused

log = logging.getLogger(__name__)
T = TypeVar("T")


class ChangedMeanwhile(CaseworkError):
    """The commit met a change someone else made at the same moment; nothing was saved."""

    status = 409
    code = "conflict"


def _commit() -> None:
    """Commit the session; `ChangedMeanwhile` or `Unavailable` (rolled back) when it fails."""
    session = db.session
    try:
        session.commit()
    except (IntegrityError, OperationalError, DBAPIError) as exc:
        session.rollback()
        log.warning("commit failed: %s", " ".join(str(getattr(exc, "orig", exc)).split()))
        if isinstance(exc, IntegrityError):
            raise ChangedMeanwhile(
                "Someone else changed this at the same moment; nothing was saved. "
                "Reload and try again."
            ) from None
        raise Unavailable(BUSY_MESSAGE) from None


def commit_now() -> None:
    """Commit what the request changed before its response is made, which then only reads.

    For writes that answer with what they wrote: the answer is built after the database's write
    lock (SQLite) or row locks (PostgreSQL) are released, so other writers need not wait for it.
    The session's objects keep their values, which are what was just committed. Raises as
    `finish_request` would answer; the request's end then has nothing left to commit.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        _commit()
    finally:
        session.expire_on_commit = True


def commit_and_answer(build: Callable[[], T]) -> T:
    """Commit what the request changed, and build the answer that shows it with `build`.

    The order follows the database's locks. On SQLite the write lock is the whole database's,
    so the answer is built after the commit (`commit_now`) and other writers need not wait for
    it. On PostgreSQL the locks are the changed rows' own (the log's head is locked only by the
    commit itself), so the answer is built just before the commit, in the transaction that
    wrote it: the two round trips of a transaction of its own are saved. Raises as
    `finish_request` would answer; nothing is left to commit after it.
    """
    if is_sqlite():
        commit_now()
        return build()
    answer = build()
    commit_now()
    return answer


def start_request() -> None:
    reads.forget()


def finish_request(response: Response) -> Response:
    """Commit what a successful request changed, or roll back: with `commit_now`, the only place
    that commits.

    Also the one place that keeps two promises for every route. A confidential case a request
    showed has its view recorded (`reads`), even when the request itself is refused and rolled
    back; if the view cannot be recorded, the answer is replaced by one without the case. And a
    request another site set off writes nothing (`casework.web.security`): it is answered with
    a page that offers to go on from Casework itself.
    """
    try:
        return _finish(response)
    finally:
        reads.forget()
        refuse_writes(None)


def _finish(response: Response) -> Response:
    session = db.session
    refused = writes_refused()
    if refused and (reads.owed() or wrote()):
        session.rollback()
        return from_another_site_response(FromAnotherSite(refused))
    # A refusal normally changes nothing; a refused sign-in still counts towards throttling.
    if response.status_code >= 400 and not g.get("keep_changes"):
        session.rollback()
        if not reads.unrecorded(committed_only=True):
            return response
        try:
            refusal = {"answer": "refused", "status": response.status_code}
            reads.record_views(refusal, after_rollback=True)
            _commit()
        except (CaseworkError, DBAPIError) as exc:
            session.rollback()
            log.warning("a view could not be recorded: %s", getattr(exc, "orig", exc))
            return _unrecorded_view()
        return response
    try:
        if reads.unrecorded(committed_only=False):
            reads.record_views()
        _commit()
    except DBAPIError as exc:
        session.rollback()
        log.warning("a view could not be recorded: %s", getattr(exc, "orig", exc))
        return _unrecorded_view()
    except CaseworkError as exc:
        if wants_json():
            return with_retry_after(json_error(exc.status, exc.code, exc.message), exc)
        return with_retry_after(plain_error(exc.status, exc.message), exc)
    if response.status_code in (429, 503) and "Retry-After" not in response.headers:
        with_retry_after(response)
    return response


def _unrecorded_view() -> Response:
    """The answer when a confidential case was shown but its view could not be recorded: the
    case is left out, and the user told to try again."""
    message = (
        "Looking at this confidential case is recorded in its audit trail, and the database is "
        "busy, so it could not be recorded now. Nothing is shown; try again in a moment."
    )
    if wants_json():
        return json_error(503, "unavailable", message)
    return plain_error(503, message)


def register(app: Flask) -> None:
    """Open and close every request's transaction (registered by the app factory)."""
    app.before_request(start_request)
    app.after_request(finish_request)
