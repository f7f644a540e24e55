"""The `casework` command line, run as a user would (its own app, from the environment)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from casework.extensions import db
from casework.models import User


def test_help_lists_the_commands(cli):
    out = cli("--help")
    for command in ("init", "demo", "serve", "users", "people", "audit", "workflows"):
        assert re.search(rf"^\s+{command}\b", out, re.M), command


def test_init_creates_an_administrator_once_with_a_one_time_password(cli, app):
    first = cli("init")
    assert "database schema: up to date" in first
    assert re.search(r"administrator: admin, one-time password \S{12,}", first)
    second = cli("init")
    assert "administrator" not in second
    with app.app_context():
        admin = db.session.execute(sa.select(User).where(User.username == "admin")).scalar_one()
        assert admin.must_change_password and admin.password_hash
        assert {u.username for u in db.session.execute(sa.select(User)).scalars()} == {
            "admin",
            "system",
        }


def test_users_add_list_and_token(cli, app):
    out = cli(
        "users", "add", "dana", "--role", "director", "--role", "hr", "--display-name", "Dana W"
    )
    assert "added dana (director, hr)" in out
    assert re.search(r"one-time password: \S+", out)
    cli("users", "add", "sam", "--role", "social_media_team", "--password", "a-long-password")
    listing = cli("users", "list")
    assert re.search(r"^dana\s+director, hr$", listing, re.M)
    assert re.search(r"^sam\s+social_media_team$", listing, re.M)
    token = cli("users", "token", "dana").strip()
    assert token.startswith("cw_")
    response = app.test_client().get(
        "/api/v1/workflows", headers={"Authorization": f"Bearer {token}"}
    )
    # Dana still has the one-time password: the API answers once she has chosen her own.
    assert response.status_code == 403
    assert "Change your password first" in response.get_json()["error"]["message"]
    token = cli("users", "token", "sam").strip()
    response = app.test_client().get(
        "/api/v1/workflows", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


def test_cli_refuses_bad_input_with_a_message_not_a_traceback(cli):
    out = cli("users", "add", "Bad Name!", "--role", "director", code=1)
    assert "username" in out and "Traceback" not in out
    out = cli("users", "add", "zed", "--role", "wizard", code=1)
    assert "roles" in out
    assert "no active user" in cli("users", "token", "ghost", code=1)
    out = cli("people", "add", "", "--employee-id", "E1", code=1)
    assert "name" in out


def test_people_add(cli, api):
    cli("users", "add", "jordan", "--role", "staff")
    out = cli(
        "people",
        "add",
        "Jordan Lee",
        "--employee-id",
        "E-900",
        "--branch",
        "Main Library",
        "--user",
        "jordan",
    )
    person_id = int(re.search(r"added person (\d+)", out).group(1))
    person = api.get(f"/people/{person_id}", "director").get_json()
    assert person == {
        "id": person_id,
        "name": "Jordan Lee",
        "employee_id": "E-900",
        "branch": "Main Library",
        "user": "jordan",
    }


def test_workflows_check_and_show(cli):
    out = cli("workflows", "check")
    for key in ("account", "complaint", "moderation", "violation"):
        assert re.search(rf"^ok\s+{key}\s+v\d+", out, re.M)
    shown = cli("workflows", "show", "complaint")
    assert "engage: received -> engaged" in shown
    assert "from escalated only: Library Director" in shown
    svg = cli("workflows", "show", "violation", "--svg")
    assert svg.startswith("<svg") and "Inspect for cause" in svg
    assert "no workflow" in cli("workflows", "show", "parking", code=1)


def test_workflows_check_names_a_broken_file(cli, tmp_path, monkeypatch):
    (tmp_path / "complaint.toml").write_text('key = "complaint"\nversion = "one"\n')
    monkeypatch.setenv("CASEWORK_WORKFLOWS_DIR", str(tmp_path))
    out = cli("workflows", "check", code=2)
    assert "complaint.toml" in out and "version" in out


def test_demo_seeds_every_role_and_every_state(cli, app):
    out = cli("demo", "--no-serve")
    for role in (
        "director",
        "librarian_in_charge",
        "hr",
        "social_media_team",
        "staff",
        "trustee",
        "admin",
    ):
        assert re.search(rf"^\w+\s+{role}\s+\S+\s+cw_\S+$", out, re.M), role
    token = re.search(r"^director\s+director\s+\S+\s+(cw_\S+)$", out, re.M).group(1)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    states = set()
    described = client.get("/api/v1/workflows", headers=headers).get_json()["items"]
    for workflow in (w["key"] for w in described):
        body = client.get(
            f"/api/v1/cases?workflow={workflow}&per_page=200", headers=headers
        ).get_json()
        states |= {(workflow, item["state"]) for item in body["items"]}
    for workflow in described:
        definition = client.get(f"/api/v1/workflows/{workflow['key']}", headers=headers).get_json()
        for state in definition["states"]:
            assert (workflow["key"], state["name"]) in states, (workflow["key"], state["name"])
    overdue = client.get("/api/v1/cases?overdue=1", headers=headers).get_json()
    assert overdue["total"] > 0
    again = cli("demo", "--no-serve")
    assert again.count("cw_") >= 8
    verify = cli("audit", "verify")
    assert verify.startswith("ok:")
