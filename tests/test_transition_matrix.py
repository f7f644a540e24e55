"""Every transition of every workflow: who may fire it, what it needs, and what it leaves behind."""

from __future__ import annotations

import pytest
from workflow_driver import (
    PLAYER,
    REGISTRY,
    drive,
    players_for,
    prepare,
    required_fields,
    transition_cases,
)


def visible_to(workflow_key: str, role: str) -> bool:
    workflow = REGISTRY.get(workflow_key)
    holds = {role} | ({"staff"} if role != "admin" else set())
    return bool(holds & set(workflow.access.readers))


@pytest.mark.parametrize(("workflow_key", "trigger", "source"), transition_cases())
def test_only_allowed_roles_fire_each_transition(api, workflow_key, trigger, source):
    workflow = REGISTRY.get(workflow_key)
    transition = workflow.transitions[trigger]
    allowed = set(transition.roles_from(source))
    number = drive(api, workflow, source)
    before = api.get(f"/cases/{number}/events", "director").get_json()["items"]

    for role, user in PLAYER.items():
        if role in allowed:
            continue
        response = api.fire(user, number, trigger, **required_fields(transition.fields, api))
        expected = (
            403
            if visible_to(workflow_key, role) or (workflow_key == "violation" and user == "staff")
            else 404
        )
        assert response.status_code == expected, (role, response.get_json())
        assert response.get_json()["error"]["code"] in ("forbidden", "not_found")

    after = api.get(f"/cases/{number}/events", "director").get_json()["items"]
    # Refused attempts changed nothing (views of a confidential case are the only new events).
    assert [e for e in after if e["action"] != "view"] == [
        e for e in before if e["action"] != "view"
    ]


@pytest.mark.parametrize(("workflow_key", "trigger", "source"), transition_cases())
def test_each_allowed_role_fires_it_and_the_trail_records_it(api, workflow_key, trigger, source):
    workflow = REGISTRY.get(workflow_key)
    transition = workflow.transitions[trigger]
    fields = required_fields(transition.fields, api)
    for user in players_for(transition, source):
        number = drive(api, workflow, source)
        prepare(api, workflow, number, transition)
        version = api.version(number)
        response = api.fire(user, number, trigger, version, **fields)
        assert response.status_code == 200, (user, response.get_json())
        body = response.get_json()
        assert body["version"] == version + 1
        events = api.get(f"/cases/{number}/events", "director").get_json()["items"]
        last = [e for e in events if e["action"] == "transition"][-1]
        assert last["actor"] == user
        assert last["data"]["trigger"] == trigger
        assert last["data"]["fields"] == fields
        assert last["from_state"] == source
        assert last["to_state"] == body["state"]
        if trigger != "approve":
            assert body["state"] == transition.dest


def needs_fields(workflow_key: str, trigger: str) -> bool:
    return any(f.required for f in REGISTRY.get(workflow_key).transitions[trigger].fields)


def leaves_some_state_alone(workflow_key: str, trigger: str) -> bool:
    workflow = REGISTRY.get(workflow_key)
    return set(workflow.states) != set(workflow.transitions[trigger].sources)


@pytest.mark.parametrize(
    ("workflow_key", "trigger", "source"),
    [c for c in transition_cases() if needs_fields(c[0], c[1])],
)
def test_missing_required_fields_are_named(api, workflow_key, trigger, source):
    workflow = REGISTRY.get(workflow_key)
    transition = workflow.transitions[trigger]
    required = [f.name for f in transition.fields if f.required]
    number = drive(api, workflow, source)
    user = players_for(transition, source)[0]
    response = api.fire(user, number, trigger)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_fields"
    assert sorted(error["fields"]) == sorted(required)
    # Each says what to do: "Enter …" or "Choose …", or the workflow's own words.
    for name, msgs in error["fields"].items():
        assert msgs == [transition.field(name).missing], name
        assert msgs[0].startswith(("Enter ", "Choose ")), msgs
    assert api.get(f"/cases/{number}", "director").get_json()["state"] == source


@pytest.mark.parametrize(
    ("workflow_key", "trigger", "source"),
    [c for c in transition_cases() if leaves_some_state_alone(c[0], c[1])],
)
def test_a_transition_from_a_state_it_does_not_leave_is_refused(api, workflow_key, trigger, source):
    workflow = REGISTRY.get(workflow_key)
    transition = workflow.transitions[trigger]
    elsewhere = [s for s in workflow.states if s not in transition.sources]
    number = drive(api, workflow, elsewhere[0])
    user = players_for(transition, source)[0]
    response = api.fire(user, number, trigger, **required_fields(transition.fields, api))
    assert response.status_code == 422
    assert "not possible" in response.get_json()["error"]["message"]


def test_every_workflow_offers_no_delete_and_the_api_has_no_delete_route(app):
    for workflow in REGISTRY:
        assert not {"delete", "destroy", "purge", "erase"} & set(workflow.transitions)
    for rule in app.url_map.iter_rules():
        assert "DELETE" not in (rule.methods or set()), rule.rule
