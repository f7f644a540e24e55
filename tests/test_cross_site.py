"""Nothing that writes can be set off from another site.

A page elsewhere can send a signed-in browser to any address of Casework (SameSite=Lax cookies go
with a top-level navigation), but not read Casework's pages nor send its CSRF tokens. So every
GET that records something (a view of a confidential case, a print, an export, a download)
refuses a request another site set off, and says how to go on; the buttons that print and export
are forms with the CSRF token. Bearer-token API calls are unaffected.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from probing import build_world, fingerprint
from webpages import Visitor, events_of

MATRIX: dict[str, dict[str, Any]] = tomllib.loads(
    Path(__file__).with_name("access_matrix.toml").read_text()
)
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
SAME_SITE = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"}
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"}
TYPED = {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"}
#: An older browser that sends no Fetch Metadata, following a link on another site.
OLD_BROWSER_ELSEWHERE = {"Referer": "https://evil.example/page.html"}

#: Every GET that writes (path, the action it records, the case it records it on, the reader).
WRITING_GETS = [
    ("/cases/{violation}", "view", "violation", "hr"),
    ("/api/v1/cases/{violation}", "view", "violation", "director"),
    ("/api/v1/cases/{violation}/events", "view", "violation", "hr"),
    ("/api/v1/cases/{violation}/attachments/{violation_sha256}", "download", "violation", "hr"),
    ("/api/v1/cases/{complaint}/attachments/{sha256}", "download", "complaint", "librarian"),
    ("/api/v1/cases/{violation}/record.pdf", "print", "violation", "hr"),
    ("/api/v1/cases/{complaint}/record.pdf?redacted=1", "print", "complaint", "director"),
    ("/api/v1/people/{id_person_staff2}/history.pdf", "print", "violation", "hr"),
    ("/api/v1/registry.pdf", "print", "account", "social"),
    ("/cases/export.csv?workflow=violation", "export", "violation", "director"),
]


@pytest.fixture
def world(app, cast, api):
    return build_world(app, cast, api)


def actions_by(app, number: str, username: str, action: str) -> int:
    return events_of(app, number).count((action, username))


@pytest.mark.parametrize(("path", "action", "case", "username"), WRITING_GETS)
def test_each_get_that_writes_refuses_another_site_and_offers_to_go_on(
    app, world, path, action, case, username
):
    values = world.values()
    url = path.format(**values)
    number = values[case]
    visitor = Visitor(app, username)
    before = fingerprint(app)
    for headers in (CROSS_SITE, SAME_SITE, OLD_BROWSER_ELSEWHERE, {"Origin": "null"}):
        response = visitor.get(url, headers=headers)
        assert response.status_code == 403, (url, headers, response.status_code)
        assert fingerprint(app) == before, f"{url} wrote on a request from another site"
        text = response.get_data(as_text=True)
        if url.startswith("/api/"):
            assert response.get_json()["error"]["code"] == "cross_site"
            assert "another site" in response.get_json()["error"]["message"]
        else:
            # A page that says why, and a link to go on from Casework itself.
            assert "another site" in text and "nothing was recorded" in text
            link = re.search(r'<a class="button" href="([^"]+)">Continue</a>', text)
            assert link and link.group(1).replace("&amp;", "&") == url
    # From Casework's own page, typed in, or from a program without Fetch Metadata: it works,
    # and is recorded as before.
    for headers in (SAME_ORIGIN, TYPED, {}, {"Referer": f"http://localhost{url}"}):
        count = actions_by(app, number, username, action)
        response = visitor.get(url, headers=headers)
        assert response.status_code == 200, (url, headers, response.get_data(as_text=True)[:300])
        assert actions_by(app, number, username, action) == count + 1, (url, headers)


@pytest.mark.parametrize(
    ("path", "action", "case", "username"), [w for w in WRITING_GETS if w[0].startswith("/api/")]
)
def test_a_bearer_token_is_not_a_cross_site_request(app, cast, world, path, action, case, username):
    values = world.values()
    number = values[case]
    count = actions_by(app, number, username, action)
    response = app.test_client().get(
        path.format(**values), headers={**CROSS_SITE, **cast.headers(username)}
    )
    assert response.status_code == 200
    assert actions_by(app, number, username, action) == count + 1


@pytest.mark.parametrize("username", ["director", "hr", "librarian", "social"])
def test_no_get_of_any_route_writes_when_another_site_sets_it_off(app, world, username):
    """Every GET the application has (the access matrix lists them all), signed in by cookie."""
    values = {**world.values(), "password": "x"}
    visitor = Visitor(app, username)
    before = fingerprint(app)
    sent = 0
    for entry, spec in MATRIX.items():
        if not entry.startswith("GET "):
            continue
        url = spec["path"].format(**values)
        response = visitor.get(url, headers=CROSS_SITE)
        response.close()
        sent += 1
        assert response.status_code < 500, (entry, response.status_code)
        assert fingerprint(app) == before, f"{entry} wrote on a request from another site"
    assert sent > 40


def test_pages_that_record_nothing_open_from_another_site_as_usual(app, world):
    visitor = Visitor(app, "librarian")
    for url in ("/", "/cases", f"/cases/{world.complaint}", "/registry", "/dashboard"):
        assert visitor.get(url, headers=CROSS_SITE).status_code == 200, url


def test_print_and_export_buttons_are_forms_with_the_csrf_token(app, world):
    director = Visitor(app, "director")
    person = world.ids["person_staff2"]
    pages = {
        f"/cases/{world.violation}": f"/cases/{world.violation}/record.pdf",
        f"/people/{person}": f"/people/{person}/history.pdf",
        "/registry": "/registry.pdf",
        "/cases?workflow=violation": "/cases/export.csv",
    }
    for page, action in pages.items():
        html = director.get(page).get_data(as_text=True)
        assert "/api/v1/" not in re.sub(r"/api/v1/cases/[^\"]+/attachments/", "", html), page
        forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
        found = [body for target, body in forms if target == action]
        assert found, (page, action)
        assert all('name="csrf_token"' in body for body in found)
    assert 'name="workflow" value="violation"' in director.get("/cases?workflow=violation").text


def test_the_forms_print_and_export_and_are_recorded(app, world):
    director = Visitor(app, "director")
    number = world.violation
    prints = actions_by(app, number, "director", "print")
    record = director.post(f"/cases/{number}/record.pdf", {"redacted": "0"})
    assert record.status_code == 200 and record.mimetype == "application/pdf"
    assert record.headers["Content-Disposition"].startswith("attachment")
    public = director.post(f"/cases/{number}/record.pdf", {"redacted": "1"})
    assert public.status_code == 200 and public.data.startswith(b"%PDF")
    history = director.post(f"/people/{world.ids['person_staff2']}/history.pdf")
    assert history.status_code == 200 and history.data.startswith(b"%PDF")
    assert actions_by(app, number, "director", "print") == prints + 3
    registry = director.post("/registry.pdf")
    assert registry.status_code == 200 and registry.data.startswith(b"%PDF")
    assert actions_by(app, world.account, "director", "print") == 1
    exports = actions_by(app, number, "director", "export")
    export = director.post("/cases/export.csv", {"workflow": "violation"})
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert number in export.text and world.complaint not in export.text
    assert actions_by(app, number, "director", "export") == exports + 1


def test_the_forms_refuse_a_post_without_the_token(app, world):
    director = Visitor(app, "director")
    before = fingerprint(app)
    for url, data in (
        (f"/cases/{world.violation}/record.pdf", {"redacted": "0"}),
        (f"/people/{world.ids['person_staff2']}/history.pdf", {}),
        ("/registry.pdf", {}),
        ("/cases/export.csv", {"workflow": "violation"}),
    ):
        response = director.client.post(url, data=data, headers=CROSS_SITE)
        assert response.status_code in (400, 403), url
        assert fingerprint(app) == before, url
