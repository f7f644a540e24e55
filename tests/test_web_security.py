"""Security headers on every kind of response, cookie flags, and pages with nothing inline."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from webpages import Visitor


def check_headers(response, *, cached: bool = False) -> None:
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "same-origin"
    assert headers.get("X-Frame-Options") == "DENY"
    if not cached:
        assert headers.get("Cache-Control") == "no-store"


def test_every_kind_of_response_carries_the_headers(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    upload = api.post(
        f"/cases/{number}/attachments",
        "librarian",
        data={"file": (io.BytesIO(b"%PDF-1.4 evidence"), "scan.pdf")},
        content_type="multipart/form-data",
    ).get_json()
    visitor = Visitor(app, "librarian")
    responses = {
        "html page": visitor.get("/"),
        "case page": visitor.get(f"/cases/{number}"),
        "csv": visitor.get("/cases/export.csv"),
        "download": visitor.get(f"/api/v1/cases/{number}/attachments/{upload['sha256']}"),
        "html 404": visitor.get("/cases/CMP-2020-9999"),
        "html 405": visitor.get("/sign-out"),
        "unknown page": visitor.get("/no/such/page"),
        "json": api.get("/cases", "librarian"),
        "json error": api.get("/cases/CMP-2020-9999", "librarian"),
        "json 401": api.get("/cases"),
        "svg": api.get("/workflows/complaint/diagram.svg", "librarian"),
        "sign-in": app.test_client().get("/sign-in"),
        "redirect": app.test_client().get("/"),
    }
    for name, response in responses.items():
        assert response.status_code < 500, name
        check_headers(response)
    assert responses["html 404"].status_code == 404
    assert responses["html 404"].mimetype == "text/html"
    assert responses["unknown page"].mimetype == "text/html"
    assert responses["json error"].mimetype == "application/json"
    assert "sandbox" in responses["download"].headers["Content-Security-Policy"]
    static = app.test_client().get("/static/css/casework.css")
    check_headers(static, cached=True)
    assert static.headers.get("Cache-Control") != "no-store"
    static.close()


def test_hsts_only_over_https(app, cast):
    plain = app.test_client().get("/sign-in")
    assert "Strict-Transport-Security" not in plain.headers
    secure = app.test_client().get("/sign-in", base_url="https://casework.library.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_flags(app, make_app, cast):
    visitor = Visitor(app)
    response = visitor.sign_in("staff")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    production = make_app(BASE_URL="https://casework.library.example")
    secure = Visitor(production)
    response = secure.client.get("/sign-in", base_url="https://casework.library.example")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]


class _InlineFinder(HTMLParser):
    """Finds inline scripts, styles and event handlers, which the policy would block."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        if "style" in names:
            self.problems.append(f"style attribute on <{tag}>")
        for name in names:
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
        for name, value in attrs:
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.problems.append("javascript: URL")


def test_no_page_has_inline_script_or_style(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    paths = {
        "director": [
            "/",
            "/cases",
            "/cases/new",
            "/cases/new/complaint",
            "/cases/new/violation",
            "/cases/new/moderation",
            "/cases/new/account",
            f"/cases/{number}",
            f"/cases/{number}/transitions/engage",
            "/dashboard",
            "/workflows",
            "/workflows/complaint",
            "/workflows/violation",
            "/workflows/moderation",
            "/workflows/account",
            "/registry",
            "/people",
            "/account",
            "/account/password",
        ],
        "admin": ["/", "/admin/users", "/admin/users/new", "/people"],
    }
    for user, pages in paths.items():
        visitor = Visitor(app, user)
        for path in pages:
            response = visitor.get(path)
            assert response.status_code == 200, (user, path)
            finder = _InlineFinder()
            finder.feed(response.text)
            assert finder.problems == [], (path, finder.problems)
            assert re.search(r'<html lang="en">', response.text)
            assert "<title>" in response.text and '<main id="main"' in response.text


def test_the_dashboard_chart_escapes_the_names_it_draws(app):
    """The chart is drawn by an autoescaped template: a kind of case named with markup is text."""
    import xml.dom.minidom
    from datetime import date, timedelta

    from flask import render_template

    from casework.services.figures import WeeklySeries
    from casework.web.dashboard.figures import chart

    weeks = [date(2026, 11, 2) + timedelta(weeks=i) for i in range(4)]
    hostile = '<script>alert(1)</script> & "Complaints"'
    data = WeeklySeries(weeks, [(hostile, [1, 0, 3, 2])])
    with app.test_request_context():
        svg = render_template("dashboard/chart.svg", chart=chart(data))
    document = xml.dom.minidom.parseString(svg)
    assert document.getElementsByTagName("script") == []
    legend = [t.firstChild.data for t in document.getElementsByTagName("text")]
    assert hostile in legend
    titles = [t.firstChild.data for t in document.getElementsByTagName("title")]
    assert f"{hostile}, week of 16 November 2026: 3" in titles
