"""Security headers on every response, the session cookie's settings, and requests set off by
other sites."""

from __future__ import annotations

from flask import Flask, Response, request

from casework.http.identity import bearer_token, from_another_site
from casework.services.db import refuse_writes

#: No inline scripts or styles anywhere: every page's CSS and JavaScript come from static/.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(response: Response) -> Response:
    """Headers every response carries: HTML, JSON, PDF, downloads and error pages alike."""
    headers = response.headers
    policy = headers.get("Content-Security-Policy")
    if policy is None:
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    elif "frame-ancestors" not in policy:
        # A response with its own policy (a download's sandbox) still may not be framed.
        headers["Content-Security-Policy"] = f"{policy}; frame-ancestors 'none'"
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # same-origin, not no-referrer: Flask-WTF checks the Referer of forms posted over HTTPS.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        # Case pages, lists, exports and the API carry personal and personnel data.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Pragma", "no-cache")
    return response


FROM_ANOTHER_SITE = (
    "You came here from another site. What you asked for is recorded in the audit trail under "
    "your name, so Casework does not do it on another site's say-so: nothing was recorded."
)


def guard_writes() -> None:
    """Before every request: one signed in by cookie that another site set off may not write.

    `begin_write`, which every writer passes, then refuses it before anything is read, and the
    request's end (`finish_request`) refuses anything written or owed all the same; either
    answers with `http.pages.from_another_site_page`. A bearer token is never sent by a
    browser on its own, so API calls with one are unaffected; a form's CSRF token
    already stops posts.
    """
    if request.endpoint != "static" and bearer_token() is None and from_another_site():
        refuse_writes(FROM_ANOTHER_SITE)
    else:
        refuse_writes(None)


def init(app: Flask) -> None:
    """Cookie flags and the headers hook.

    The session cookie is Secure when the configured base URL is https (or when
    `CASEWORK_SESSION_COOKIE_SECURE=true`). Behind a reverse proxy, `CASEWORK_PROXY_COUNT`
    says how many proxies to trust for the client's scheme and address.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    config = app.config
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    if str(config.get("BASE_URL") or "").startswith("https://"):
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    proxies = int(config.get("PROXY_COUNT") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.before_request(guard_writes)
    app.after_request(add_security_headers)
