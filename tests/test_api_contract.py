"""The JSON API's contract: error shapes and codes, the OpenAPI document, people, lists, paging."""

from __future__ import annotations

import re

import pytest


def assert_error(response, status, code=None, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) >= {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    if field:
        assert field in body["error"]["fields"], body
    return body


def test_not_signed_in_and_bad_tokens_get_401(api, client):
    assert_error(client.get("/api/v1/cases"), 401, "not_signed_in")
    assert_error(client.get("/api/v1/cases", headers={"Authorization": "Bearer cw_nope"}), 401)
    assert_error(client.get("/api/v1/cases", headers={"Authorization": "Basic abc"}), 401)


def test_malformed_bodies_get_400(api):
    assert_error(
        api.post("/cases", "librarian", data="{not json", content_type="application/json"), 400
    )
    assert_error(api.post("/cases", "librarian", json=["a", "list"]), 400)
    assert_error(
        api.post("/cases", "librarian", data=b"\xff\xfe", content_type="application/json"), 400
    )


def test_unknown_and_missing_body_fields_get_422_naming_them(api):
    assert_error(api.post("/cases", "librarian", json={"fields": {}}), 422, field="workflow")
    body = assert_error(
        api.post("/cases", "librarian", json={"workflow": "complaint", "colour": 1}), 422
    )
    assert body["error"]["fields"]["colour"] == ["Unknown field."]


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"summary": "ok", "channel": "pigeon"}, "channel"),
        ({"summary": 12, "channel": "email"}, "summary"),
        ({"summary": "a\x00b", "channel": "email"}, "summary"),
        ({"summary": "two\nlines", "channel": "email"}, "summary"),
        ({"summary": "x" * 501, "channel": "email"}, "summary"),
        ({"summary": "ok", "channel": "facebook", "post_url": "javascript:alert(1)"}, "post_url"),
        ({"summary": "ok", "channel": "facebook", "account": "ACC-2026-9999"}, "account"),
        ({"summary": "ok", "channel": "email", "surprise": True}, "surprise"),
        ({"summary": "\ud800", "channel": "email"}, "summary"),
        ({"summary": "ok", "channel": ["email"]}, "channel"),
    ],
)
def test_invalid_intake_fields_are_named_and_nothing_is_stored(api, fields, bad):
    body = assert_error(
        api.post("/cases", "librarian", json={"workflow": "complaint", "fields": fields}), 422
    )
    assert bad in body["error"]["fields"]
    assert api.get("/cases", "librarian").get_json()["total"] == 0


def test_unknown_workflow_and_version_type_errors(api):
    assert_error(
        api.post("/cases", "librarian", json={"workflow": "parking"}), 422, field="workflow"
    )
    number = api.open("librarian", "complaint", summary="x", channel="email")["number"]
    for version in ("1", None, True, 1.5):
        response = api.post(
            f"/cases/{number}/transitions",
            "librarian",
            json={"trigger": "engage", "version": version, "fields": {"response": "r"}},
        )
        assert_error(response, 422, field="version")
    assert_error(api.fire("librarian", number, "teleport", 1), 422, field="trigger")


def test_a_stale_version_gets_409_with_the_current_case_and_changes_nothing(api):
    number = api.open("librarian", "complaint", summary="x", channel="email")["number"]
    api.ok("librarian", number, "engage", response="Answered")
    response = api.fire("librarian", number, "escalate", 1, reason="Too late")
    body = assert_error(response, 409, "stale_version")
    assert body["case"]["state"] == "engaged" and body["case"]["version"] == 2
    assert "escalate" in [t["trigger"] for t in body["case"]["available_transitions"]]
    assert api.get(f"/cases/{number}", "librarian").get_json()["state"] == "engaged"


def test_unknown_cases_routes_and_methods(api):
    assert_error(api.get("/cases/CMP-2026-0001", "librarian"), 404, "not_found")
    assert_error(api.get("/cases/not-a-number", "librarian"), 404)
    assert_error(api.get("/nowhere", "librarian"), 404)
    assert_error(api.client.put("/api/v1/cases", headers=api.cast.headers("librarian")), 405)
    assert_error(api.get("/people/999999999999", "director"), 404)


def test_a_request_larger_than_the_limit_gets_413(make_app, cast):
    app = make_app(MAX_UPLOAD_MB=1)
    client = app.test_client()
    response = client.post(
        "/api/v1/cases",
        data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        content_type="application/json",
        headers=cast.headers("librarian"),
    )
    assert_error(response, 413, "too_large")


def test_list_parameters_are_checked(api):
    for query, field in (
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=5000", "per_page"),
        ("workflow=parking", "workflow"),
        ("state=lost", "state"),
        ("overdue=maybe", "overdue"),
        ("opened_from=yesterday", "opened_from"),
        ("sort=colour", "sort"),
        ("page=99999999999999999999", "page"),
    ):
        assert_error(api.get(f"/cases?{query}", "librarian"), 422, field=field)
    # A cursor is not a parameter to correct but one this list did not give: 400.
    assert_error(api.get("/cases?cursor=!!", "librarian"), 400, field="cursor")


def test_the_openapi_document_describes_every_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    described = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method))
    assert routes == described
    for path, operations in document["paths"].items():
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path
    schemas = document["components"]["schemas"]
    for ref in re.findall(
        r'"\$ref": "#/components/schemas/(\w+)"', str(document).replace("'", '"')
    ):
        assert ref in schemas


def test_people_are_added_by_director_hr_or_admin(api):
    body = {"name": "Jordan Lee", "employee_id": "E-77", "branch": "Main", "user": "staff2"}
    assert_error(api.post("/people", "librarian", json=body), 403)
    created = api.post("/people", "hr", json={**body, "user": None})
    assert created.status_code == 201
    person = created.get_json()
    assert person["name"] == "Jordan Lee" and person["user"] is None
    assert api.get(f"/people/{person['id']}", "staff").get_json() == person
    assert_error(
        api.post("/people", "admin", json={**body, "user": None}), 422, field="employee_id"
    )
    assert_error(
        api.post("/people", "director", json={"name": "", "employee_id": "E-78"}), 422, field="name"
    )
    assert_error(
        api.post("/people", "director", json={"name": "X", "employee_id": "E-79", "user": "ghost"}),
        422,
        field="user",
    )
    found = api.get("/people?q=jordan", "staff").get_json()["items"]
    assert [p["employee_id"] for p in found] == ["E-77"]


def test_lists_filter_search_and_page_through_everything_once(api):
    numbers = []
    for index in range(7):
        channel = "email" if index % 2 else "phone"
        case = api.open(
            "librarian",
            "complaint",
            summary=f"Complaint number {index} about parking",
            channel=channel,
            branch="Lucasville" if index < 3 else "Main",
        )
        numbers.append(case["number"])
    api.ok("librarian", numbers[0], "engage", response="Answered")
    api.post(f"/cases/{numbers[1]}/assignee", "librarian", json={"username": "librarian"})
    assert api.get("/cases?state=engaged", "librarian").get_json()["total"] == 1
    assert api.get("/cases?branch=Lucasville", "librarian").get_json()["total"] == 3
    mine = api.get("/cases?assignee=me", "librarian").get_json()
    assert [i["number"] for i in mine["items"]] == [numbers[1]]
    assert api.get("/cases?q=parking number", "librarian").get_json()["total"] == 7
    assert api.get("/cases?q=parkin", "librarian").get_json()["total"] == 7
    assert api.get(f"/cases?q={numbers[4].lower()}", "librarian").get_json()["total"] == 1
    assert api.get('/cases?q="; DROP TABLE cases; --', "librarian").get_json()["total"] == 0

    seen, cursor = [], None
    while True:
        page = api.get(
            f"/cases?per_page=3&sort=created_at{'&cursor=' + cursor if cursor else ''}", "librarian"
        )
        body = page.get_json()
        assert body["total"] == 7
        seen += [i["number"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == numbers
    by_page = []
    for page in (1, 2, 3):
        by_page += [
            i["number"]
            for i in api.get(f"/cases?per_page=3&page={page}", "librarian").get_json()["items"]
        ]
    assert by_page == list(reversed(numbers))
    assert api.get("/cases?page=100000", "librarian").get_json()["items"] == []


def by_cursor(api, query: str, most: int) -> list[str]:
    """The case numbers of a list, page after page by its cursors (at most `most` pages)."""
    seen, cursor = [], None
    for _ in range(most):
        body = api.get(query + (f"&cursor={cursor}" if cursor else ""), "librarian").get_json()
        seen += [i["number"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    return seen


@pytest.mark.parametrize(
    "sort", ["-created_at", "created_at", "-updated_at", "updated_at", "due_at"]
)
def test_every_page_gives_every_case_once_in_order_when_times_tie(app, api, sort):
    """Cases with the same time are ordered by id (due dates: cases without one last), and
    neither cursors nor page numbers, counted from either end, skip or repeat one."""
    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import Case

    numbers = [
        api.open("librarian", "complaint", summary=f"Tie {i}", channel="email")["number"]
        for i in range(7)
    ]
    moment = sa.text("'2026-03-02 10:00:00.000000'")
    with app.app_context():
        tied = Case.number.in_(numbers[1:5])
        db.session.execute(
            sa.update(Case).where(tied).values(created_at=moment, updated_at=moment, due_at=moment)
        )
        db.session.execute(sa.update(Case).where(Case.number == numbers[6]).values(due_at=None))
        db.session.commit()
        column = getattr(Case, sort.lstrip("-"))
        rows = db.session.execute(
            sa.select(Case.number, column, Case.id).where(Case.number.in_(numbers))
        ).all()
    if sort == "due_at":
        expected = [n for n, *_ in sorted(rows, key=lambda r: (r[1] is None, r[1] or 0, r[2]))]
    else:
        ordered = sorted(rows, key=lambda r: (r[1], r[2]), reverse=sort[0] == "-")
        expected = [n for n, *_ in ordered]
    assert by_cursor(api, f"/cases?per_page=2&sort={sort}", len(numbers)) == expected
    by_number = []
    for page in (1, 2, 3, 4):
        body = api.get(f"/cases?per_page=2&sort={sort}&page={page}", "librarian").get_json()
        assert body["total"] == 7
        assert (body["next_cursor"] is not None) == (page < 4), page
        by_number += [i["number"] for i in body["items"]]
    assert by_number == expected


def test_an_overdue_list_by_due_date_pages_in_order_when_dates_tie(app, api):
    """The overdue list reads the due-date index in its own order: ties by id, every case once,
    by cursor and by page number alike."""
    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import Case

    numbers = [
        api.open("librarian", "complaint", summary=f"Late {i}", channel="email")["number"]
        for i in range(7)
    ]
    with app.app_context():
        for i, number in enumerate(numbers[:6]):
            due = sa.text(f"'2026-03-0{2 + i % 3} 10:00:00.000000'")
            db.session.execute(sa.update(Case).where(Case.number == number).values(due_at=due))
        db.session.execute(sa.update(Case).where(Case.number == numbers[6]).values(due_at=None))
        db.session.commit()
        rows = db.session.execute(
            sa.select(Case.number, Case.due_at, Case.id).where(Case.number.in_(numbers[:6]))
        ).all()
    expected = [n for n, *_ in sorted(rows, key=lambda r: (r[1], r[2]))]
    assert by_cursor(api, "/cases?per_page=4&overdue=1&sort=due_at", len(numbers)) == expected
    by_number = []
    for page in (1, 2):
        body = api.get(f"/cases?per_page=4&overdue=1&sort=due_at&page={page}", "librarian")
        assert body.get_json()["total"] == 6
        by_number += [i["number"] for i in body.get_json()["items"]]
    assert by_number == expected
