"""Workflow files are validated strictly: a broken one stops start-up, naming file, key, reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from casework import create_app
from casework.paths import resource_dir
from casework.workflow import WorkflowFileError, load_registry


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "workflows"
    shutil.copytree(resource_dir("workflows"), target)
    return target


def edit(folder: Path, key: str, old: str, new: str) -> None:
    path = folder / f"{key}.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


BREAKAGES = [
    ("complaint", 'prefix = "CMP"', 'prefix = "CMP"\ncolour = "blue"', "unknown key 'colour'"),
    ("complaint", 'dest = "engaged"', 'dest = "engagd"', "unknown destination state 'engagd'"),
    (
        "complaint",
        'source = "received"\ndest = "engaged"',
        'source = "recieved"\ndest = "engaged"',
        "unknown source state 'recieved'",
    ),
    (
        "complaint",
        'roles = ["librarian_in_charge", "director"]\nroles_by_source',
        'roles = ["librarian", "director"]\nroles_by_source',
        "unknown role 'librarian'",
    ),
    (
        "moderation",
        'guards = ["not_a_complaint"]',
        'guards = ["is_polite"]',
        "unknown guard 'is_polite'",
    ),
    (
        "moderation",
        'guards = ["complaints_are_referred"]\n',
        "",
        "hide_when_refused needs a guard",
    ),
    (
        "account",
        '[states.denied]\nlabel = "Denied"',
        '[states.limbo]\nlabel = "Limbo"\n\n[states.denied]\nlabel = "Denied"',
        "states.limbo: unreachable",
    ),
    ("violation", "[transitions.reopen]", "[transitions.delete]", "never deleted"),
    (
        "moderation",
        'triggers = ["correct_complaint"]',
        'triggers = ["correct"]',
        "unknown transition 'correct'",
    ),
    (
        "complaint",
        'type = "textarea"\nrequired = true\nhelp = "What the library',
        'type = "essay"\nrequired = true\nhelp = "What the library',
        "unknown field type 'essay'",
    ),
    ("complaint", "\nversion = ", "\nversion = 0 #", "version"),
    ("complaint", 'key = "complaint"', 'key = "complaints"', "must be named complaints.toml"),
    ("moderation", 'workflow = "account"', 'workflow = "accounts"', "unknown workflow 'accounts'"),
    ("complaint", "[fields.summary]", "[fields.summary", "not valid TOML"),
    (
        "violation",
        'subject_field = "subject"',
        'subject_field = "category"',
        "subject_field must name a person",
    ),
    (
        "complaint",
        'on_overdue = "escalate"',
        'on_overdue = "resolve"',
        "not a transition out of 'received'",
    ),
]


@pytest.mark.parametrize(("key", "old", "new", "reason"), BREAKAGES)
def test_a_broken_file_is_refused_naming_file_key_and_reason(folder, key, old, new, reason):
    edit(folder, key, old, new)
    with pytest.raises(WorkflowFileError) as caught:
        load_registry(folder)
    message = str(caught.value)
    assert f"{key}.toml" in message
    assert reason in message


def test_start_up_stops_on_a_broken_file(folder):
    edit(folder, "complaint", 'dest = "engaged"', 'dest = "nowhere"')
    with pytest.raises(WorkflowFileError, match="complaint.toml: workflow complaint"):
        create_app({"WORKFLOWS_DIR": str(folder), "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})


def test_a_new_case_type_is_a_new_file(folder, make_app, api_for):
    (folder / "lost_property.toml").write_text(
        """key = "lost_property"
version = 1
prefix = "LOST"
title = "Lost property"
initial = "found"
title_field = "item"

[access]
readers = ["staff"]
intake = ["staff"]

[fields.item]
type = "text"
required = true

[states.found]
[states.returned]
terminal = true

[transitions.return_item]
source = "found"
dest = "returned"
roles = ["librarian_in_charge"]
"""
    )
    app = make_app(WORKFLOWS_DIR=str(folder))
    api = api_for(app)
    case = api.open("staff", "lost_property", item="Blue umbrella")
    assert case["number"].startswith("LOST-") and case["state"] == "found"
    assert api.ok("librarian", case["number"], "return_item")["state"] == "returned"
    assert "lost_property" in [w["key"] for w in api.get("/workflows", "staff").get_json()["items"]]


def test_the_diagram_escapes_what_a_workflow_file_says(folder):
    """Labels are text in the SVG, never markup, whatever a workflow file puts in them."""
    import xml.dom.minidom

    from casework.presenting.diagram import render_svg

    hostile = 'Engaged <script>alert(1)</script> & "quoted"'
    edit(folder, "complaint", 'label = "Engaged"', f"label = '{hostile}'")
    svg = render_svg(load_registry(folder).get("complaint"))
    document = xml.dom.minidom.parseString(svg)
    assert document.getElementsByTagName("script") == []
    texts = [t.firstChild.data for t in document.getElementsByTagName("text")]
    assert hostile in texts
