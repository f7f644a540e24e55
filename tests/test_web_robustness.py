"""No page gives a 500, whatever is typed into its address or its forms."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from webpages import Visitor, case_state

ODD = [
    "",
    " ",
    "x" * 5000,
    "\x00",
    "nul\x00byte",
    "😀",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "%",
    "CMP-2026-0001'--",
    "-1",
    "99999999999999999999",
]


def test_unknown_and_odd_case_numbers_say_not_found(app, cast, api):
    hidden = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo",
    )["number"]
    visitor = Visitor(app, "librarian")
    for number in ["CMP-2026-9999", "cmp-2026-0001", "XYZ-1-2", "VIO-2026-9999", *ODD[2:9]]:
        for path in (
            f"/cases/{number}",
            f"/cases/{number}/transitions/engage",
        ):
            response = visitor.get(path)
            assert response.status_code in (404, 405), (path, response.status_code)
    # A hidden case and a case that was never opened look exactly the same.
    unknown = visitor.get("/cases/VIO-2026-9999").text.replace("VIO-2026-9999", "NUMBER")
    secret = visitor.get(f"/cases/{hidden}").text.replace(hidden, "NUMBER")
    assert unknown == secret


def test_odd_form_input_is_refused_with_a_message(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    visitor = Visitor(app, "librarian")
    for value in ODD:
        for path, data in (
            ("/cases/new/complaint", {"summary": value, "channel": value, "post_url": value}),
            (f"/cases/{number}/transitions/engage", {"version": value, "response": value}),
            (f"/cases/{number}/transitions/engage", {"version": "1", "response": value}),
            (f"/cases/{number}/transitions/nope", {"version": "1"}),
            (f"/cases/{number}/notes", {"text": value}),
            (f"/cases/{number}/links", {"number": value}),
            (f"/cases/{number}/assignee", {"username": value}),
            ("/sign-in", {"username": value, "password": value}),
        ):
            response = visitor.post(path, data)
            assert response.status_code < 500, (path, value, response.status_code)
    state, _ = case_state(app, number)
    assert state in ("received", "engaged")


def test_nul_bytes_anywhere_are_refused_cleanly(app, cast):
    """PostgreSQL refuses NUL in text: every way one can arrive must stop before the database."""
    director = Visitor(app, "director")
    for path in (
        "/cases?assignee=%00",
        "/cases?branch=a%00b",
        "/cases?q=%00",
        "/cases/export.csv?assignee=%00",
        "/people?q=%00",
        "/sign-in?next=/%00",
    ):
        assert director.get(path).status_code < 500, path
    added = director.post("/people", {"name": "N", "employee_id": "E-nul", "user": "\x00"})
    assert added.status_code == 422 and "No user has that name." in added.text
    anonymous = Visitor(app)
    refused = anonymous.sign_in("dir\x00ector", "x", set_it=False)
    assert refused.status_code == 401


def test_odd_uploads_are_refused(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    visitor = Visitor(app, "librarian")
    for content, name in (
        (b"", "empty.txt"),
        (b"\x00\x01\x02", "bin.png"),
        (b"GIF89a\x00\x01", "a.gif"),
    ):
        response = visitor.post(
            f"/cases/{number}/evidence",
            {"file": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422, name
    big = make_small_limit(app)
    response = big.post(
        f"/cases/{number}/evidence",
        {"file": (io.BytesIO(b"x" * (200 * 1024)), "big.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and "too large" in response.text


def make_small_limit(app):
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024
    return Visitor(app, "librarian")


def test_odd_pages_and_methods(app, cast):
    visitor = Visitor(app, "director")
    for path in (
        "/nope",
        "/cases/new/",
        "/admin/users/0",
        "/admin/users/99999999999",
        "/people/abc",
        "/people/99999999999",
        "/workflows/%00",
        "/dashboard?x=%ff",
    ):
        assert visitor.get(path).status_code < 500, path
    assert visitor.client.put("/cases").status_code == 405
    assert visitor.client.delete("/cases/CMP-2026-0001").status_code == 405


PARAMETERS = st.dictionaries(
    st.sampled_from(
        [
            "q",
            "workflow",
            "state",
            "assignee",
            "branch",
            "overdue",
            "opened_from",
            "opened_to",
            "sort",
            "per_page",
            "page",
            "cursor",
        ]
    ),
    st.text(max_size=40),
    max_size=5,
)


def test_any_search_address_answers_without_error(app, cast):
    visitor = Visitor(app, "librarian")

    @settings(max_examples=40, deadline=None)
    @given(PARAMETERS)
    def search(params):
        response = visitor.get("/cases", query_string=params)
        assert response.status_code in (200, 400)
        export = visitor.get("/cases/export.csv", query_string=params)
        assert export.status_code in (200, 400)

    search()
