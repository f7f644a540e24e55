"""Every route and every role against tests/access_matrix.toml: what each may reach, and how it is
refused. A route the matrix does not list fails, so a new route cannot go unexamined."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path
from typing import Any

import pytest
from probing import build_world
from webpages import PASSWORD, Visitor, csrf_token
from workflow_driver import PLAYER

MATRIX_FILE = Path(__file__).with_name("access_matrix.toml")
MATRIX: dict[str, dict[str, Any]] = tomllib.loads(MATRIX_FILE.read_text())

#: Matrix role -> the cast member who holds it (None: nobody signed in).
ROLES: dict[str, str | None] = {"anonymous": None, **PLAYER}


def route_key(entry: str) -> str:
    """'GET /cases/<number> | violation' -> 'GET /cases/<number>'."""
    return entry.split(" | ")[0].strip()


def app_routes(app) -> set[str]:
    return {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def fill(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    return value


def outcome(response) -> Any:
    """The status, or "signin" for a page that sends the visitor to sign in."""
    if response.status_code == 302 and "/sign-in" in response.headers.get("Location", ""):
        return "signin"
    return response.status_code


def walk(app, cast, api, role: str) -> dict[str, Any]:
    """Send every matrix request as `role` (reads first, then changes, in file order)."""
    world = build_world(app, cast, api)
    values = {**world.values(), "password": PASSWORD}
    username = ROLES[role]
    visitor = Visitor(app, username)
    if username is None:
        visitor.token = csrf_token(visitor.get("/sign-in").text)
    headers = cast.headers(username) if username else {}
    entries = sorted(MATRIX.items(), key=lambda item: not item[0].startswith("GET "))
    found = {}
    for entry, spec in entries:
        method, _ = route_key(entry).split(" ", 1)
        path = fill(spec["path"], values)
        if "file" in spec:
            upload = {"file": (io.BytesIO(b"Scanned letter"), spec["file"])}
            if path.startswith("/api/"):
                response = visitor.client.post(
                    path, headers=headers, data=upload, content_type="multipart/form-data"
                )
            else:
                response = visitor.post(path, upload, content_type="multipart/form-data")
        elif path.startswith("/api/"):
            response = visitor.client.open(
                path, method=method, headers=headers, json=fill(spec.get("json"), values)
            )
        elif method == "GET":
            response = visitor.get(path)
        else:
            response = visitor.post(path, fill(spec.get("form", {}), values))
            # A change of password starts a new session: later forms carry its token.
            if username is None:
                visitor.token = csrf_token(visitor.get("/sign-in").text)
            else:
                visitor.refresh_token()
        found[entry] = outcome(response)
        response.close()  # a static file's response holds the file open
    return found


def test_the_matrix_lists_every_route_and_every_role(app):
    listed = {route_key(entry) for entry in MATRIX}
    missing = sorted(app_routes(app) - listed)
    assert not missing, f"routes missing from {MATRIX_FILE.name}: {missing}"
    stale = sorted(listed - app_routes(app))
    assert not stale, f"{MATRIX_FILE.name} lists routes the application no longer has: {stale}"
    for entry, spec in MATRIX.items():
        assert set(spec) - {"path", "form", "json", "file", "note"} == set(ROLES), entry


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_reaches_exactly_what_the_matrix_says(app, cast, api, role):
    found = walk(app, cast, api, role)
    wrong = {
        entry: {"expected": MATRIX[entry][role], "got": got}
        for entry, got in found.items()
        if MATRIX[entry][role] != got
    }
    assert not wrong, wrong
