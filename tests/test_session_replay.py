"""Sessions that ended stay ended when their cookie is replayed, the API's cookie path needs its
CSRF header, and security headers are on PDFs and on error pages too."""

from __future__ import annotations

import sqlalchemy as sa
from test_web_security import check_headers
from webpages import Visitor, events_of, set_password

from casework.errors import CaseworkError
from casework.extensions import db
from casework.models import User


def replay(app, cookie):
    """A fresh browser that presents a copied session cookie."""
    client = app.test_client()
    client.set_cookie("session", cookie.value, domain=cookie.domain or "localhost")
    return client


def test_a_cookie_replayed_after_sign_out_is_signed_out(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    visitor = Visitor(app, "librarian")
    cookie = visitor.client.get_cookie("session")
    assert replay(app, cookie).get("/").status_code == 200, "the copy works while signed in"
    assert visitor.post("/sign-out").status_code == 302
    stolen = replay(app, cookie)
    page = stolen.get(f"/cases/{number}")
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]
    assert stolen.get("/api/v1/cases").status_code == 401
    note = stolen.post(f"/cases/{number}/notes", data={"text": "replayed", "csrf_token": "x"})
    assert note.status_code in (302, 400)
    assert ("note", "librarian") not in events_of(app, number)


def test_a_cookie_replayed_after_the_user_is_disabled_is_signed_out(app, cast, api):
    visitor = Visitor(app, "staff")
    cookie = visitor.client.get_cookie("session")
    admin = Visitor(app, "admin")
    staff_id = _user_id(app, "staff")
    assert admin.post(f"/admin/users/{staff_id}/active", {"active": "0"}).status_code == 302
    stolen = replay(app, cookie)
    assert stolen.get("/").status_code == 302
    assert stolen.get("/api/v1/cases").status_code == 401
    # The user's API token stops working too.
    assert api.get("/cases", "staff").status_code == 401
    assert admin.post(f"/admin/users/{staff_id}/active", {"active": "1"}).status_code == 302
    # Disabling ended the token for good: enabling again revives neither token nor session.
    assert api.get("/cases", "staff").status_code == 401
    assert replay(app, cookie).get("/").status_code == 302, "enabling again revives no session"


def _user_id(app, username):
    with app.app_context():
        return db.session.execute(sa.select(User.id).where(User.username == username)).scalar_one()


def test_the_api_with_a_session_cookie_needs_the_csrf_header(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    visitor = Visitor(app, "librarian")
    path = f"/api/v1/cases/{number}/notes"
    refused = visitor.client.post(path, json={"text": "no header"})
    assert refused.status_code == 400
    assert "X-CSRFToken" in refused.get_json()["error"]["message"]
    wrong = visitor.client.post(path, json={"text": "bad header"}, headers={"X-CSRFToken": "x"})
    assert wrong.status_code == 400
    assert [a for a, _ in events_of(app, number)].count("note") == 0
    accepted = visitor.client.post(
        path, json={"text": "with header"}, headers={"X-CSRFToken": visitor.token}
    )
    assert accepted.status_code == 201
    # Reading needs no token.
    assert visitor.client.get(f"/api/v1/cases/{number}").status_code == 200


def test_no_remember_me_cookie_outlives_the_session(app, cast):
    response = Visitor(app).sign_in("librarian")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all(not c.startswith("remember_token") for c in cookies)
    assert all("Expires" not in c and "Max-Age" not in c for c in cookies if "session=" in c)


def test_pdfs_and_error_pages_carry_the_security_headers(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    pdf = api.get(f"/cases/{number}/record.pdf", "librarian")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    check_headers(pdf)

    def broken(**_):
        raise RuntimeError("a fault no one planned for")

    def refused(**_):
        raise CaseworkError("refused")

    app.view_functions["dashboard.dashboard"] = broken
    app.view_functions["api.workflows"] = broken
    app.view_functions["registry.registry"] = refused
    visitor = Visitor(app, "librarian")
    html = visitor.get("/dashboard")
    assert html.status_code == 500 and html.mimetype == "text/html"
    assert "a fault no one planned for" not in html.text and "Traceback" not in html.text
    check_headers(html)
    data = api.get("/workflows", "librarian")
    assert data.status_code == 500 and data.get_json()["error"]["code"] == "internal_error"
    assert "a fault no one planned for" not in data.get_data(as_text=True)
    check_headers(data)
    check_headers(visitor.get("/registry"))
    throttled = None
    set_password(app, "director")
    for attempt in range(5):
        throttled = Visitor(app).sign_in("director", f"wrong {attempt}", set_it=False)
    assert throttled is not None and throttled.status_code == 429
    check_headers(throttled)
