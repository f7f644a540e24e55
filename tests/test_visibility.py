"""Who sees violation cases: director and HR; the reporter a receipt; nobody else, not even that
the case exists; the subject never; trustees in place of a director who is the subject."""

from __future__ import annotations

import pytest

CANARY = "CANARY-7f3a-quokka"


def report(api, cast, subject="olive", reporter="staff", **extra):
    fields = {
        "subject": cast.person_ids[subject],
        "category": "harassment",
        "description": f"Hostile post {CANARY}",
        "platform": f"Forum {CANARY}",
        **extra,
    }
    response = api.post("/cases", reporter, json={"workflow": "violation", "fields": fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def every_list_response(api, user):
    """Everything the list API answers for a user: all pages, filters and searches."""
    responses = []
    for query in (
        "",
        "?workflow=violation",
        f"?q={CANARY}",
        "?q=hostile",
        "?per_page=1",
        "?state=reported",
        "?sort=created_at",
        "?overdue=0",
    ):
        page = api.get(f"/cases{query}", user)
        responses.append(page)
        cursor = page.get_json().get("next_cursor")
        while cursor:
            page = api.get(f"/cases?per_page=1&cursor={cursor}", user)
            responses.append(page)
            cursor = page.get_json().get("next_cursor")
    return responses


def test_the_reporter_sees_only_a_receipt(api, cast):
    case = report(api, cast)
    assert set(case) == {"number", "workflow", "state", "state_label", "created_at", "receipt"}
    again = api.get(f"/cases/{case['number']}", "staff")
    assert again.status_code == 200 and again.get_json()["receipt"] is True
    assert CANARY not in again.get_data(as_text=True)
    assert api.get(f"/cases/{case['number']}/events", "staff").status_code == 403
    assert (
        api.post(f"/cases/{case['number']}/notes", "staff", json={"text": "more"}).status_code
        == 403
    )
    assert (
        api.fire("staff", case["number"], "dismiss", reason="other", explanation="x").status_code
        == 403
    )
    listed = api.get("/cases?workflow=violation", "staff").get_json()
    assert listed["total"] == 1 and listed["items"][0]["receipt"] is True


@pytest.mark.parametrize("user", ["librarian", "social", "staff2", "trustee", "admin"])
def test_nobody_else_learns_the_case_exists(api, cast, user):
    case = report(api, cast)
    number = case["number"]
    hidden = api.get(f"/cases/{number}", user)
    unknown = api.get("/cases/VIO-2026-9999", user)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.get_json()["error"]["message"].replace(number, "N") == unknown.get_json()[
        "error"
    ]["message"].replace("VIO-2026-9999", "N")
    for path in ("/events", "/attachments/" + "0" * 64):
        assert api.get(f"/cases/{number}{path}", user).status_code == 404
    for path, body in (
        ("/notes", {"text": "x"}),
        ("/links", {"number": "CMP-2026-0001"}),
        ("/assignee", {"username": user}),
        ("/transitions", {"trigger": "inspect", "version": 1}),
    ):
        assert api.post(f"/cases/{number}{path}", user, json=body).status_code == 404
    for response in every_list_response(api, user):
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert CANARY not in text and number not in text
        assert all(item["workflow"] != "violation" for item in response.get_json()["items"])


@pytest.mark.parametrize("user", ["director", "hr"])
def test_director_and_hr_see_it_and_every_view_is_recorded(api, cast, user):
    case = report(api, cast)
    body = api.get(f"/cases/{case['number']}", user).get_json()
    assert CANARY in body["fields"]["description"]
    listed = api.get(f"/cases?q={CANARY}", user).get_json()
    assert [i["number"] for i in listed["items"]] == [case["number"]]
    # Lists never carry a confidential case's fields: only a recorded view does.
    assert "fields" not in listed["items"][0]
    events = api.get(f"/cases/{case['number']}/events", user).get_json()["items"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("created", "staff"),
        ("view", user),
        ("view", user),
    ]


def test_hr_may_read_but_not_decide(api, cast):
    case = report(api, cast)
    assert api.get(f"/cases/{case['number']}", "hr").get_json()["available_transitions"] == []
    assert (
        api.fire("hr", case["number"], "dismiss", reason="other", explanation="x").status_code
        == 403
    )


@pytest.mark.parametrize("subject", ["hr", "social", "librarian"])
def test_the_subject_never_sees_the_case_whatever_their_role(api, cast, subject):
    cast.add_user("hr2", "hr")
    case = report(api, cast, subject=subject, reporter="staff2")
    assert api.get(f"/cases/{case['number']}", subject).status_code == 404
    for response in every_list_response(api, subject):
        assert CANARY not in response.get_data(as_text=True)
    assert api.get(f"/cases/{case['number']}", "hr2").status_code == 200


def test_a_subject_who_reported_it_loses_even_the_receipt(api, cast):
    case = report(api, cast, subject="staff", reporter="staff")
    assert api.get(f"/cases/{case['number']}", "staff").status_code == 404


def test_trustees_act_in_place_of_a_director_who_is_the_subject(api, cast):
    cast.add_user("director2", "director")
    case = report(api, cast, subject="director", reporter="librarian")
    number = case["number"]
    assert api.get(f"/cases/{number}", "director").status_code == 404
    assert api.fire("director", number, "inspect", 1, cause="c", findings="f").status_code == 404
    assert CANARY not in api.get(f"/cases?q={CANARY}", "director").get_data(as_text=True)
    trustee_view = api.get(f"/cases/{number}", "trustee").get_json()
    assert [t["trigger"] for t in trustee_view["available_transitions"]] == ["inspect", "dismiss"]
    body = api.ok("trustee", number, "inspect", cause="Report to the Board", findings="Seen")
    assert body["state"] == "inspected"
    # Another director is not the subject, so may act too.
    assert api.get(f"/cases/{number}", "director2").status_code == 200
    # A trustee does not see violation cases about anyone else.
    other = report(api, cast, subject="olive")
    assert api.get(f"/cases/{other['number']}", "trustee").status_code == 404


def test_admin_sees_no_case_content_at_all(api):
    complaint = api.open("librarian", "complaint", summary="Loud music", channel="phone")
    assert api.get(f"/cases/{complaint['number']}", "admin").status_code == 404
    assert api.get("/cases", "admin").get_json()["total"] == 0
    response = api.post(
        "/cases",
        "admin",
        json={"workflow": "complaint", "fields": {"summary": "x", "channel": "x"}},
    )
    assert response.status_code == 403


def test_confidential_cases_link_only_to_confidential_cases(api, cast):
    case = report(api, cast)
    complaint = api.open("librarian", "complaint", summary="Loud music", channel="phone")
    response = api.post(
        f"/cases/{case['number']}/links", "director", json={"number": complaint["number"]}
    )
    assert response.status_code == 422
    other = report(api, cast, subject="hr")
    linked = api.post(
        f"/cases/{case['number']}/links", "director", json={"number": other["number"]}
    )
    assert linked.status_code == 201
    assert linked.get_json()["links"] == [other["number"]]
    # HR is the subject of the other case: the link does not reveal it to them.
    assert api.get(f"/cases/{case['number']}", "hr").get_json()["links"] == []


def test_case_numbers_of_hidden_cases_are_refused_as_links_and_references(api, cast):
    case = report(api, cast)
    complaint = api.open("librarian", "complaint", summary="Loud music", channel="phone")
    response = api.post(
        f"/cases/{complaint['number']}/links", "librarian", json={"number": case["number"]}
    )
    assert response.status_code == 422
    assert case["number"] not in response.get_data(as_text=True)
    same_as_unknown = api.post(
        f"/cases/{complaint['number']}/links", "librarian", json={"number": "VIO-2026-9999"}
    )
    assert same_as_unknown.get_json() == response.get_json()


def test_assigning_a_violation_case_to_someone_who_may_not_see_it_is_refused(api, cast):
    case = report(api, cast)
    response = api.post(
        f"/cases/{case['number']}/assignee", "director", json={"username": "librarian"}
    )
    assert response.status_code == 422
    assert (
        api.post(
            f"/cases/{case['number']}/assignee", "director", json={"username": "hr"}
        ).status_code
        == 200
    )
