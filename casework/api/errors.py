"""Errors as `{"error": {"code", "message", "fields"}}`, and one commit per request."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, request
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from casework.errors import CaseworkError, Conflict, FromAnotherSite, NotSignedIn, Unavailable
from casework.extensions import db
from casework.services import reads
from casework.services.audit import wrote
from casework.services.db import is_lock_timeout, refuse_writes, writes_refused

log = logging.getLogger(__name__)


def error_body(
    code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> Response:
    response = jsonify(error_body(code, message, fields))
    response.status_code = status
    return response


HTTP_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_fields",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


#: Seconds a client is asked to wait before trying again when the database is busy.
BUSY_RETRY_AFTER = 5
BUSY_MESSAGE = "The database is busy; nothing was saved. Try again in a moment."


def retry_after(exc: CaseworkError | None, status: int) -> int | None:
    """The Retry-After of a refusal: a limit's own wait, or a few seconds for a busy database."""
    wait = getattr(exc, "retry_after", None)
    if isinstance(wait, int):
        return wait
    return BUSY_RETRY_AFTER if status in (429, 503) else None


def with_retry_after(response: Response, exc: CaseworkError | None = None) -> Response:
    wait = retry_after(exc, response.status_code)
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


def busy_response() -> Response:
    """503 for a write that did not get its lock in time: JSON or the error page, Retry-After."""
    if wants_json():
        response = json_error(503, "unavailable", BUSY_MESSAGE)
    else:
        response = _plain(503, BUSY_MESSAGE)
    return with_retry_after(response)


def casework_error_response(exc: CaseworkError) -> Response:
    """The JSON response for a refused request (the transaction has been rolled back)."""
    response = with_retry_after(json_error(exc.status, exc.code, exc.message, exc.fields), exc)
    if isinstance(exc, Conflict) and exc.current is not None:
        body = response.get_json()
        body["case"] = current_case_body(exc.current)
        response = jsonify(body)
        response.status_code = exc.status
    return response


def current_case_body(case: Any) -> dict[str, Any]:
    """The case as it is now, for the user who sent the stale request."""
    from casework.api.serialize import case_json, current_case_json
    from casework.services.access import case_access
    from casework.services.cases import workflow_of

    actor = g.get("api_user")
    if actor is None:
        return current_case_json(case)
    workflow = workflow_of(case)
    return case_json(case, workflow, case_access(actor, case, workflow), actor)


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
        return with_retry_after(_plain(exc.status, exc.message), exc)
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
    return _plain(503, message)


def from_another_site_response(exc: FromAnotherSite) -> Response:
    if wants_json():
        return json_error(exc.status, exc.code, exc.message)
    from casework.web.security import from_another_site_page

    return from_another_site_page(exc.message)


def _plain(status: int, message: str) -> Response:
    from casework.web.errors import error_page

    return error_page(status, message)


def _html_http_error(exc: HTTPException) -> Response:
    from flask_wtf.csrf import CSRFError

    from casework.web.errors import error_page

    status = exc.code or 500
    if isinstance(exc, CSRFError):
        message = (
            "This form could not be accepted because its security token is missing or belongs "
            "to an earlier sign-in. Nothing was saved. Go back, reload the page and submit again."
        )
    elif status == 413:
        message = "The upload is too large; nothing was saved."
    elif status == 404:
        message = "There is no such page."
    elif status == 405:
        message = "That address does not accept this kind of request."
    else:
        message = exc.description or "Request refused."
    return error_page(status, message)


def register(app: Flask) -> None:
    app.before_request(start_request)
    app.after_request(finish_request)

    @app.errorhandler(CaseworkError)
    def handle_casework_error(exc: CaseworkError) -> Response:
        db.session.rollback()
        if isinstance(exc, FromAnotherSite):
            return from_another_site_response(exc)
        if not wants_json():
            from casework.web.errors import error_page, sign_in_redirect

            if isinstance(exc, NotSignedIn):
                return sign_in_redirect()
            if exc.status == 503:
                log.warning("%s %s answered 503: %s", request.method, request.path, exc.message)
            return with_retry_after(error_page(exc.status, exc.message), exc)
        if exc.status == 503:
            log.warning("%s %s answered 503: %s", request.method, request.path, exc.message)
        return casework_error_response(exc)

    @app.errorhandler(OperationalError)
    def handle_database_busy(exc: OperationalError) -> Any:
        db.session.rollback()
        if not is_lock_timeout(exc):
            return handle_unexpected(exc)
        # Expected under load or while a backup holds the database: one line, no traceback.
        log.warning(
            "%s %s: database busy, answered 503 (%s)",
            request.method,
            request.path,
            " ".join(str(getattr(exc, "orig", exc)).split())[:200],
        )
        return busy_response()

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException) -> Any:
        db.session.rollback()
        if not wants_json():
            if (exc.code or 500) < 400:
                return exc  # redirects (e.g. a missing trailing slash)
            return _html_http_error(exc)
        status = exc.code or 500
        message = exc.description or "Request refused."
        if status == 413:
            message = "The request is too large."
        return json_error(status, HTTP_CODES.get(status, "error"), message)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Any:
        db.session.rollback()
        log.exception("unexpected error on %s %s", request.method, request.path)
        if isinstance(exc, (OperationalError,)):
            return busy_response()
        if wants_json():
            return json_error(500, "internal_error", "Something went wrong; nothing was saved.")
        return _plain(500, "Something went wrong; nothing was saved.")
