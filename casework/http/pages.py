"""Pages for a refused request: the error page, the way to sign in, and the answer to a request
another site set off (the API answers errors as JSON instead)."""

from __future__ import annotations

import logging
from html import escape

from flask import Response, redirect, render_template, request, url_for

log = logging.getLogger(__name__)

TITLES = {
    400: "The request could not be understood",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    409: "This changed since you opened it",
    410: "Disposed of under the retention schedule",
    413: "Too large",
    415: "Unsupported file",
    422: "Please correct the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Busy",
}


def error_page(status: int, message: str) -> Response:
    """An HTML page for a refused request; plain text if even the page cannot be drawn."""
    title = TITLES.get(status, "Request refused")
    try:
        html = render_template("errors/error.html", status=status, title=title, message=message)
    except Exception:  # the page itself failed (e.g. the database is down): say it plainly
        log.exception("error page for %s failed", status)
        html = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
        html += f"<p>{escape(message)}</p>"
    return Response(html, status=status, mimetype="text/html")


def sign_in_redirect() -> Response:
    """Where a page sends someone who is not signed in."""
    target = request.full_path if request.method == "GET" else None
    response: Response = redirect(url_for("auth.sign_in", next=target))  # type: ignore[assignment]
    return response


def from_another_site_page(message: str) -> Response:
    """The answer to such a request: what happened, and a way to go on from Casework itself."""
    again = None
    if request.method in ("GET", "HEAD"):
        # The same address, followed from this page: a request Casework's own page sets off.
        again = request.full_path.rstrip("?")
    html = render_template("errors/another_site.html", message=message, again=again)
    return Response(html, status=403, mimetype="text/html")
