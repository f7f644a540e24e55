"""How a refused request is answered: `{"error": {"code", "message", "fields"}}` under /api, an
error page for people."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from casework.errors import CaseworkError, Conflict, FromAnotherSite, Gone, NotSignedIn
from casework.extensions import db
from casework.http.pages import error_page, from_another_site_page, sign_in_redirect
from casework.services.db import is_lock_timeout

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
    410: "disposed",
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
        response = plain_error(503, BUSY_MESSAGE)
    return with_retry_after(response)


#: How the API shows a case as it is now, to the user whose change came too late (a 409).
CaseBody = Callable[[Any], dict[str, Any]]


def casework_error_response(exc: CaseworkError, case_body: CaseBody) -> Response:
    """The JSON response for a refused request (the transaction has been rolled back)."""
    response = with_retry_after(json_error(exc.status, exc.code, exc.message, exc.fields), exc)
    if isinstance(exc, Gone):
        body = response.get_json()
        body["tombstone"] = exc.tombstone
        response = jsonify(body)
        response.status_code = exc.status
    if isinstance(exc, Conflict) and exc.current is not None:
        body = response.get_json()
        body["case"] = case_body(exc.current)
        response = jsonify(body)
        response.status_code = exc.status
    return response


def from_another_site_response(exc: FromAnotherSite) -> Response:
    if wants_json():
        return json_error(exc.status, exc.code, exc.message)
    return from_another_site_page(exc.message)


def plain_error(status: int, message: str) -> Response:
    return error_page(status, message)


def _html_http_error(exc: HTTPException) -> Response:
    from flask_wtf.csrf import CSRFError

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


def register(app: Flask, case_body: CaseBody) -> None:
    """Answer every refusal: `case_body` is the API's view of a case, for a 409's body (the API
    is built on this module, so it hands it in rather than being imported here)."""

    @app.errorhandler(CaseworkError)
    def handle_casework_error(exc: CaseworkError) -> Response:
        db.session.rollback()
        if isinstance(exc, FromAnotherSite):
            return from_another_site_response(exc)
        if not wants_json():
            if isinstance(exc, NotSignedIn):
                return sign_in_redirect()
            if exc.status == 503:
                log.warning("%s %s answered 503: %s", request.method, request.path, exc.message)
            return with_retry_after(error_page(exc.status, exc.message), exc)
        if exc.status == 503:
            log.warning("%s %s answered 503: %s", request.method, request.path, exc.message)
        return casework_error_response(exc, case_body)

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
        return plain_error(500, "Something went wrong; nothing was saved.")
