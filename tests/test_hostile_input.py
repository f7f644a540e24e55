"""Hostile input to every form, API route, path and query: never a 5xx, a refusal that says why,
nothing changed by a refused request, and no markup echoed back unescaped."""

from __future__ import annotations

import io
import itertools
import json
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from probing import (
    HOSTILE,
    SCRIPT,
    build_world,
    discover_forms,
    explains,
    fingerprint,
    route_of,
)
from webpages import PASSWORD, Visitor
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from casework.extensions import db
from casework.models import Attachment
from casework.web.cases.results import FILTER_NAMES

ROLES = ("librarian", "staff", "social", "director", "admin")
#: Hypothesis examples per form or route in the default run; `-m stress` runs the full figure.
EXAMPLES = 40
STRESS_EXAMPLES = 500
_serial = itertools.count()


class Probe:
    """Sends requests and checks each answer; keeps the fingerprint of the stored data."""

    def __init__(self, app) -> None:
        self.app = app
        self.before = fingerprint(app, but_views=True)
        self.sent = 0

    def check(self, response, what: Any) -> Any:
        self.sent += 1
        status = response.status_code
        assert status < 500, (what, status, response.get_data(as_text=True)[:500])
        if response.mimetype == "text/html":
            assert SCRIPT not in response.get_data(as_text=True), what
        if status >= 400:
            assert explains(response), (what, status, response.get_data(as_text=True)[:500])
            # Nothing, that is, but the view of a confidential case the answer showed (the rule
            # that every answer showing one records the view, refused or not).
            after = fingerprint(self.app, but_views=True)
            assert after == self.before, f"a refused request changed data: {what}"
        else:
            self.before = fingerprint(self.app, but_views=True)
        return response


@pytest.fixture
def world(app, cast, api):
    return build_world(app, cast, api)


@pytest.fixture
def visitors(app, world):
    found = {None: Visitor(app)}
    for role in ROLES:
        found[role] = Visitor(app, role)
    return found


@pytest.fixture
def forms(world, visitors):
    found = discover_forms(world, visitors)
    # Forms that end the probe's own sessions or lock its users out go last.
    return sorted(found, key=lambda vf: ("/admin/" in vf[1].action, "/account/" in vf[1].action))


def baseline(name: str, values: list[str]) -> Any:
    """A plausible value for a field, so that one hostile field at a time reaches deep."""
    if name == "csrf_token" or values and values[0]:
        return values if len(values) > 1 else (values[0] if values else "")
    if "url" in name:
        return "https://social.example/post/1"
    if name.endswith("_at"):
        return "2026-01-05T10:00"
    if name in ("username", "employee_id", "handle"):
        return f"probe{next(_serial)}"
    if name == "current_password":
        return PASSWORD
    if name in ("new_password", "confirm_password"):
        return "a long enough passphrase"
    if name == "email":
        return ""
    return "Plain words"


def fill(form) -> dict[str, Any]:
    return {name: baseline(name, values) for name, values in form.fields.items()}


def submit(visitor, form, data: dict[str, Any]) -> Any:
    data = {**data, "csrf_token": form.fields.get("csrf_token", [""])[0]}
    if form.files:
        boundary, body = encode_multipart(
            {
                **{k: v for k, v in data.items() if not isinstance(v, FileStorage)},
                **{k: v for k, v in data.items() if isinstance(v, FileStorage)},
            }
        )
        return visitor.client.post(
            form.action, data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )
    return visitor.client.post(form.action, data=data)


# --- every form: each field with each hand-picked value ----------------------------------------


def test_every_form_field_survives_each_hostile_value(app, forms):
    probe = Probe(app)
    assert len(forms) >= 30, [f.action for _, f in forms]
    for visitor, form in forms:
        for name in form.fields:
            if name == "csrf_token":
                continue
            for value in HOSTILE:
                data = fill(form)
                data[name] = value
                probe.check(submit(visitor, form, data), (form.action, name, value[:40]))
    assert probe.sent > 700


def test_file_names_and_odd_files_are_handled_safely(app, world, visitors):
    probe = Probe(app)
    director = visitors["director"]
    action = f"/cases/{world.violation}/evidence"
    for name in ("../../etc/passwd", "a.pdf\x00.exe", "\u202etxt.exe", "..", "/", "x" * 5000):
        upload = FileStorage(io.BytesIO(f"evidence {name[:20]}".encode()), filename=name)
        boundary, body = encode_multipart({"csrf_token": director.token, "file": upload})
        response = director.client.post(
            action, data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )
        probe.check(response, name[:40])
    with app.app_context():
        names = db.session.execute(sa.select(Attachment.name)).scalars().all()
    assert len(names) >= 7
    for stored in names:
        assert "/" not in stored and "\\" not in stored and "\x00" not in stored
        assert "\u202e" not in stored and ".." not in stored and len(stored) <= 255
    # Sixty parts in one request, and a body of 10 MB, to a form and to the API.
    parts = {f"file{i}": (io.BytesIO(b"x"), f"{i}.txt") for i in range(60)}
    probe.check(
        director.client.post(
            action, data={"csrf_token": director.token, **parts}, content_type="multipart/form-data"
        ),
        "60 parts",
    )
    boundary, body = encode_multipart(
        {f"file{i}": FileStorage(io.BytesIO(b"x"), filename=f"{i}.txt") for i in range(60)}
    )
    probe.check(
        director.client.post(
            f"/api/v1/cases/{world.violation}/attachments",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers={"X-CSRFToken": director.token},
        ),
        "60 parts to the API",
    )


def test_ten_megabyte_bodies_are_refused_everywhere(app, forms, cast, world):
    probe = Probe(app)
    big = "x" * (10 * 1024 * 1024)
    routes = set()
    for visitor, form in forms:
        route = route_of(app, form.action, "POST")
        if route in routes:
            continue
        routes.add(route)
        for field in [n for n in form.fields if n != "csrf_token"][-1:]:
            data = {**fill(form), field: big}
            response = probe.check(submit(visitor, form, data), (form.action, field, "10 MB"))
            # The sign-in form refuses the name as it refuses any wrong one (401); a transition
            # form with no version it can read answers as for a stale one (409).
            assert response.status_code in (400, 401, 409, 413, 422), (
                form.action,
                field,
                response.status_code,
            )
    body = json.dumps({"text": big})
    for user, path, _ in api_bodies(world):
        headers = {**cast.headers(user), "Content-Type": "application/json"}
        response = probe.check(app.test_client().post(path, data=body, headers=headers), path)
        assert response.status_code in (400, 413, 422), (path, response.status_code)


# --- the JSON API: wrong types, unknown and missing fields, malformed bodies -------------------

WRONG = [
    None,
    True,
    0,
    -1,
    2**64,
    1.5,
    "",
    [],
    {},
    ["a"],
    {"a": 1},
    "x" * 250_000,
    SCRIPT,
    "\x00",
    "{{7*7}}",
    "\u202e",
]


def api_bodies(world) -> list[tuple[str, str, dict[str, Any]]]:
    """(user, path, a body the route accepts) for every API route that takes a body."""
    return [
        (
            "director",
            "/api/v1/people",
            {"name": "N", "employee_id": "E-9", "branch": "", "user": None},
        ),
        (
            "librarian",
            "/api/v1/cases",
            {"workflow": "complaint", "fields": {"summary": "s", "channel": "email"}},
        ),
        (
            "librarian",
            f"/api/v1/cases/{world.complaint}/transitions",
            {"trigger": "engage", "version": 1, "fields": {"response": "r"}},
        ),
        ("librarian", f"/api/v1/cases/{world.complaint}/notes", {"text": "t"}),
        ("librarian", f"/api/v1/cases/{world.complaint}/assignee", {"username": "librarian"}),
        ("librarian", f"/api/v1/cases/{world.complaint}/links", {"number": world.complaint2}),
    ]


def variants(body: dict[str, Any]):
    """The body with each key (and each key under `fields`) set to each wrong value."""
    for key in body:
        for value in WRONG:
            yield f"{key}={value!r:.30}", {**body, key: value}
        yield f"without {key}", {k: v for k, v in body.items() if k != key}
    for key in body.get("fields") or {}:
        for value in WRONG:
            yield f"fields.{key}={value!r:.30}", {**body, "fields": {**body["fields"], key: value}}
    yield "unknown field", {**body, "colour": "blue"}
    yield "unknown case field", {**body, "fields": {**(body.get("fields") or {}), "colour": 1}}


def test_api_bodies_of_the_wrong_shape_are_refused_and_change_nothing(app, cast, world):
    probe = Probe(app)
    client = app.test_client()
    for user, path, good in api_bodies(world):
        headers = cast.headers(user)
        for what, body in variants(good):
            probe.check(client.post(path, json=body, headers=headers), (path, what))
        for raw in (
            b"",
            b"null",
            b"[]",
            b'"text"',
            b"12",
            b"{not json",
            b"\xff\xfe",
            b"[" * 100_000 + b"]" * 100_000,
            b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
            json.dumps(good).encode() + b"trailing",
        ):
            for kind in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
                response = probe.check(
                    client.post(path, data=raw, headers={**headers, "Content-Type": kind}),
                    (path, raw[:20], kind),
                )
                assert response.status_code in (400, 409, 422), (path, raw[:20])
    assert probe.sent > 400


# --- paths and queries -------------------------------------------------------------------------

PATH_VALUES = [
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "99999999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-1",
    "0",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%7B%7B7*7%7D%7D",
    "%E2%80%AE",
    "%FF%FE",
    "x" * 3000,
    "CMP-2026-0001%27--",
    "VIO-9999999999-99999999999",
]


def test_every_route_survives_hostile_path_values(app, cast, world, visitors):
    probe = Probe(app)
    plain = world.values()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for value in PATH_VALUES:
            for hostile in rule.arguments:
                path = rule.rule
                for name in rule.arguments:
                    raw = value if name == hostile else quote(str(_plain_value(name, plain)))
                    path = path.replace(f"<{name}>", raw).replace(f"<int:{name}>", raw)
                    path = path.replace(f"<path:{name}>", raw)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    for who in ("director", "admin"):
                        visitor = visitors[who]
                        headers = {"X-CSRFToken": visitor.token}
                        if method == "GET":
                            response = visitor.client.get(path, headers=headers)
                        else:
                            response = visitor.client.open(
                                path,
                                method=method,
                                data={"csrf_token": visitor.token},
                                headers=headers,
                            )
                        probe.check(response, (method, path[:80], who))
    assert probe.sent > 500


def _plain_value(name: str, values: dict[str, Any]) -> Any:
    return {
        "number": values["complaint"],
        "trigger": "engage",
        "key": "complaint",
        "sha256": values["sha256"],
        "person_id": values["id_person_olive"],
        "user_id": values["id_temp"],
        "message_id": values["message_id"],
    }.get(name, "x")


QUERY_ROUTES = [
    "/cases",
    "/cases/export.csv",
    "/people",
    "/api/v1/cases",
    "/api/v1/people",
    "/sign-in",
    "/",
    "/dashboard",
]
#: The filters the search form sends, and the other query parameters routes read.
LIST_PARAMETERS = [*FILTER_NAMES, "page", "cursor", "next", "version", "redacted"]


def test_huge_page_numbers_and_odd_filters(app, visitors, cast):
    probe = Probe(app)
    director = visitors["director"]
    for path in ("/cases", "/cases/export.csv", "/api/v1/cases"):
        for name in ("page", "per_page"):
            for value in ("10" * 30, str(2**63), str(2**31), "-1", "0", "1e9", "١٢", "5_0", " 7"):
                response = probe.check(
                    director.client.get(path, query_string={name: value}), (path, name, value)
                )
                assert response.status_code in (200, 400, 422), (path, name, value)
        for value in HOSTILE:
            for name in LIST_PARAMETERS[:9]:
                probe.check(
                    director.client.get(path, query_string={name: value}), (path, name, value[:30])
                )
    assert probe.sent > 200


# --- generated input -----------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
FIELD_VALUE = st.one_of(TEXT, st.sampled_from([h for h in HOSTILE if len(h) < 1000]))
JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def run_generated(examples: int, strategy, send) -> None:
    """Call `send(value)` for `examples` values drawn from `strategy` (shrunk on failure)."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value):
        send(value)

    run()


#: The default slice, and the full run (`-m stress`, with time enough for it).
PER_RUN = [
    EXAMPLES,
    pytest.param(STRESS_EXAMPLES, marks=[pytest.mark.stress, pytest.mark.timeout(3600)]),
]


@pytest.mark.parametrize("examples", PER_RUN)
def test_generated_form_input(app, forms, examples):
    probe = Probe(app)
    for visitor, form in forms:
        names = [n for n in form.fields if n != "csrf_token"]
        if not names:
            continue

        def send(values, visitor=visitor, form=form):
            probe.check(submit(visitor, form, {**fill(form), **values}), (form.action, values))

        run_generated(examples, st.fixed_dictionaries({n: FIELD_VALUE for n in names}), send)


@pytest.mark.parametrize("examples", PER_RUN)
def test_generated_api_bodies(app, cast, world, examples):
    probe = Probe(app)
    client = app.test_client()
    for user, path, good in api_bodies(world):
        keys = list(good) + ["colour"]
        field_names = list(good.get("fields") or {}) + ["summary", "patron", "colour"]
        optional = {k: JSON_VALUE for k in keys}
        if "fields" in good:
            optional["fields"] = st.dictionaries(st.sampled_from(field_names), JSON_VALUE)

        headers = cast.headers(user)

        def send(data, path=path, headers=headers):
            probe.check(client.post(path, json=data, headers=headers), (path, data))

        run_generated(examples, st.fixed_dictionaries({}, optional=optional), send)


@pytest.mark.parametrize("examples", PER_RUN)
def test_generated_queries(app, visitors, examples):
    probe = Probe(app)
    director = visitors["director"]
    for path in QUERY_ROUTES:

        def send(query, path=path):
            probe.check(director.client.get(path, query_string=query), (path, query))

        queries = st.dictionaries(st.sampled_from(LIST_PARAMETERS), FIELD_VALUE, max_size=5)
        run_generated(examples, queries, send)
