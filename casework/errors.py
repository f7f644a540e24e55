"""The errors services raise; the API and the web UI turn each into a status and a message."""

from __future__ import annotations

from typing import Any


class CaseworkError(Exception):
    """Base class: a request Casework refuses, with an HTTP status and a message for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class BadRequest(CaseworkError):
    status = 400
    code = "bad_request"


class NotSignedIn(CaseworkError):
    status = 401
    code = "not_signed_in"


class Forbidden(CaseworkError):
    status = 403
    code = "forbidden"


class FromAnotherSite(Forbidden):
    """A request another site set off (a link or form elsewhere) would write; nothing was done."""

    code = "cross_site"


class NotFound(CaseworkError):
    status = 404
    code = "not_found"


class Gone(CaseworkError):
    """The case was disposed of under the retention schedule: only its tombstone remains."""

    status = 410
    code = "disposed"

    def __init__(self, message: str, tombstone: dict[str, Any]) -> None:
        super().__init__(message)
        self.tombstone = tombstone


class Conflict(CaseworkError):
    """The case changed since the client read it (stale version); carries the current case."""

    status = 409
    code = "stale_version"

    def __init__(self, message: str, current: Any = None) -> None:
        super().__init__(message)
        self.current = current


class TooLarge(CaseworkError):
    status = 413
    code = "too_large"


class InvalidFields(CaseworkError):
    """Fields that failed validation, each with its messages."""

    status = 422
    code = "invalid_fields"

    def __init__(self, fields: dict[str, list[str]], message: str | None = None) -> None:
        names = ", ".join(sorted(fields))
        super().__init__(message or f"Please correct: {names}.", fields)


class Refused(CaseworkError):
    """A guard or a rule of the workflow refused the request; the message says which and why."""

    status = 422
    code = "refused"


class Unavailable(CaseworkError):
    """Casework cannot serve the request now (e.g. the database is busy); nothing was changed."""

    status = 503
    code = "unavailable"
