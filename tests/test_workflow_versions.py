"""A case keeps the workflow definition it was opened under, even after the file changes."""

from __future__ import annotations

import re
import shutil

from workflow_driver import new_version

from casework.paths import resource_dir


def test_open_cases_keep_their_version_when_the_file_changes(make_app, api_for, tmp_path):
    folder = tmp_path / "workflows"
    shutil.copytree(resource_dir("workflows"), folder)
    old_api = api_for(make_app(WORKFLOWS_DIR=str(folder)))
    old = old_api.open("librarian", "complaint", summary="Before the change", channel="email")

    # Version 2: engaging now needs a second field, and only the Director may do it.
    path = folder / "complaint.toml"
    text = new_version(path.read_text())
    text = text.replace(
        'dest = "engaged"\nroles = ["librarian_in_charge", "social_media_team", "director"]',
        'dest = "engaged"\nroles = ["director"]',
    )
    path.write_text(text)
    api = api_for(make_app(WORKFLOWS_DIR=str(folder)))
    new = api.open("librarian", "complaint", summary="After the change", channel="email")

    shipped = int(re.search(r"^version = (\d+)$", path.read_text(), re.M).group(1)) - 1
    assert api.get(f"/cases/{old['number']}", "librarian").get_json()["workflow_version"] == shipped
    assert api.get(f"/cases/{new['number']}", "librarian").get_json()["workflow_version"] == (
        shipped + 1
    )
    assert api.fire("librarian", new["number"], "engage", response="r").status_code == 403
    assert api.ok("librarian", old["number"], "engage", response="r")["state"] == "engaged"


def test_a_changed_file_that_keeps_its_version_is_refused_when_used(make_app, api_for, tmp_path):
    folder = tmp_path / "workflows"
    shutil.copytree(resource_dir("workflows"), folder)
    api_for(make_app(WORKFLOWS_DIR=str(folder))).open(
        "librarian", "complaint", summary="First", channel="email"
    )
    path = folder / "complaint.toml"
    path.write_text(path.read_text().replace('label = "Summary"', 'label = "Short summary"', 1))
    api = api_for(make_app(WORKFLOWS_DIR=str(folder)))
    response = api.post(
        "/cases",
        "librarian",
        json={"workflow": "complaint", "fields": {"summary": "x", "channel": "email"}},
    )
    assert response.status_code == 503
    assert "version" in response.get_json()["error"]["message"]
