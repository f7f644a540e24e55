"""The policy's rules that the workflows enforce: complaints engaged not deleted, two approvers,
continuity of access, denied lists."""

from __future__ import annotations

import sqlalchemy as sa
from workflow_driver import active_account

from casework.extensions import db
from casework.models import Case, CaseLink, DeniedAuthor, Event


def flagged_post(api, **overrides):
    fields = {
        "account": active_account(api),
        "post_url": "https://social.example/p/9",
        "author": "grumpy_patron",
        "content": "The library never answers the phone!",
        "is_complaint": "yes",
    }
    fields.update(overrides)
    return api.open("social", "moderation", **fields)


def test_a_complaint_post_cannot_be_removed_and_the_message_says_to_refer_it(api):
    post = flagged_post(api)
    assert [t["trigger"] for t in post["blocked_transitions"]] == ["remove"]
    response = api.fire("social", post["number"], "remove", grounds="spam_or_advertising", note="x")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "refused"
    assert "complaint" in error["message"] and "refer" in error["message"]
    assert api.get(f"/cases/{post['number']}", "social").get_json()["state"] == "flagged"


def test_a_post_that_is_not_a_complaint_can_be_removed(api):
    post = flagged_post(api, is_complaint="no", content="Buy followers now")
    assert "remove" in [t["trigger"] for t in post["available_transitions"]]
    body = api.ok("social", post["number"], "remove", grounds="spam_or_advertising", note="Spam.")
    assert body["state"] == "removed"


def test_referring_a_post_opens_a_linked_complaint_carrying_the_post(app, api):
    post = flagged_post(api)
    body = api.ok("librarian", post["number"], "refer")
    assert body["state"] == "referred"
    [complaint_number] = body["links"]
    complaint = api.get(f"/cases/{complaint_number}", "librarian").get_json()
    assert complaint["workflow"] == "complaint" and complaint["state"] == "received"
    assert complaint["fields"]["channel"] == "facebook"
    assert complaint["fields"]["post_url"] == "https://social.example/p/9"
    assert complaint["fields"]["content"] == "The library never answers the phone!"
    assert complaint["fields"]["patron"] == "grumpy_patron"
    assert complaint["links"] == [post["number"]]
    events = api.get(f"/cases/{post['number']}/events", "librarian").get_json()["items"]
    assert events[-1]["data"]["opened"] == complaint_number
    created = api.get(f"/cases/{complaint_number}/events", "librarian").get_json()["items"][0]
    assert created["data"]["referred_from"] == post["number"]


def test_refer_and_its_complaint_are_one_transaction(app, api, monkeypatch):
    post = flagged_post(api)
    from casework.services import firing

    def broken_link(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(firing, "store_link", broken_link)
    response = api.fire("social", post["number"], "refer")
    assert response.status_code == 500
    with app.app_context():
        complaints = db.session.execute(
            sa.select(sa.func.count()).select_from(Case).where(Case.workflow_key == "complaint")
        ).scalar_one()
        links = db.session.execute(sa.select(sa.func.count()).select_from(CaseLink)).scalar_one()
        state = db.session.execute(
            sa.select(Case.state).where(Case.number == post["number"])
        ).scalar_one()
    assert (complaints, links, state) == (0, 0, "flagged")


def new_request(api, administrators=("social",)):
    return api.open(
        "staff",
        "account",
        platform="instagram",
        handle="@branch",
        branch="Lucasville",
        purpose="Branch news",
        administrators=list(administrators),
    )


def test_an_account_needs_a_director_and_a_social_media_team_member(api):
    request = new_request(api)
    first = api.ok("director", request["number"], "approve")
    assert first["state"] == "requested"
    events = api.get(f"/cases/{request['number']}/events", "director").get_json()["items"]
    assert events[-1]["data"]["approved_as"] == "director"
    assert events[-1]["data"]["waiting_for"] == ["social_media_team"]
    second = api.ok("social", request["number"], "approve")
    assert second["state"] == "approved"


def test_the_same_person_cannot_approve_twice(api):
    request = new_request(api)
    api.ok("social", request["number"], "approve")
    response = api.fire("social", request["number"], "approve")
    assert response.status_code == 422
    assert "already approved" in response.get_json()["error"]["message"]
    assert [
        t["trigger"]
        for t in api.get(f"/cases/{request['number']}", "social").get_json()["blocked_transitions"]
    ] == ["approve"]


def test_two_members_of_the_same_team_are_not_enough(api):
    request = new_request(api)
    api.ok("social", request["number"], "approve")
    response = api.fire("social2", request["number"], "approve")
    assert response.status_code == 422
    assert api.get(f"/cases/{request['number']}", "director").get_json()["state"] == "requested"
    assert api.ok("director", request["number"], "approve")["state"] == "approved"


def test_one_person_holding_both_roles_still_needs_a_second_person(api, cast):
    cast.add_user("both", "director", "social_media_team")
    request = new_request(api)
    assert api.ok("both", request["number"], "approve")["state"] == "requested"
    assert api.fire("both", request["number"], "approve").status_code == 422
    assert api.ok("social", request["number"], "approve")["state"] == "approved"


def approved_request(api, administrators):
    request = new_request(api, administrators)
    api.ok("director", request["number"], "approve")
    api.ok("social", request["number"], "approve")
    return request["number"]


def test_activation_needs_an_administrator_from_the_social_media_team_or_it(api):
    number = approved_request(api, ["staff", "librarian"])
    response = api.fire("social", number, "activate")
    assert response.status_code == 422
    assert "social media team or in IT" in response.get_json()["error"]["message"]
    body = api.ok("social", number, "activate", administrators=["staff", "admin"])
    assert body["state"] == "active"
    assert body["fields"]["administrators"] == ["staff", "admin"]


def test_an_administrator_in_it_counts_for_continuity(api):
    number = approved_request(api, ["admin"])
    assert api.ok("director", number, "activate")["state"] == "active"


def test_denying_access_adds_the_author_to_the_accounts_denied_list(app, api):
    post = flagged_post(api, is_complaint="no", content="Slurs", author="troll42")
    api.ok("social", post["number"], "remove", grounds="hate_or_harassment", note="Hateful.")
    body = api.ok(
        "social",
        post["number"],
        "deny_access",
        reason="Repeated abuse",
        duration="permanent",
        review_on="2027-01-15",
    )
    assert body["state"] == "removed"
    account = active_account(api)
    with app.app_context():
        denied = db.session.execute(sa.select(DeniedAuthor.author)).scalars().all()
        account_events = db.session.execute(
            sa.select(Event.action, Event.data_json)
            .join(Case, Case.id == Event.case_id)
            .where(Case.number == account)
            .order_by(Event.seq)
        ).all()
    assert denied == ["troll42"]
    assert account_events[-1].action == "denied_access"
    assert "troll42" in account_events[-1].data_json


def test_deny_access_needs_a_removed_post_and_the_librarian_may_not(api):
    post = flagged_post(api, is_complaint="no", content="Spam")
    assert api.fire("social", post["number"], "deny_access", reason="x").status_code == 422
    api.ok("social", post["number"], "remove", grounds="spam_or_advertising", note="Spam")
    assert api.fire("librarian", post["number"], "deny_access", reason="x").status_code == 403


def test_only_the_director_resolves_an_escalated_complaint(api):
    case = api.open("librarian", "complaint", summary="Rude reply", channel="x")
    api.ok("librarian", case["number"], "escalate", reason="Patron asked for the Director")
    response = api.fire("librarian", case["number"], "resolve", resolution="Done")
    assert response.status_code == 403
    assert "Library Director" in response.get_json()["error"]["message"]
    assert api.ok("director", case["number"], "resolve", resolution="Done")["state"] == "resolved"


def test_protected_classes_apply_only_to_harassment(api, cast):
    base = {"subject": cast.person_ids["olive"], "description": "A post"}
    response = api.post(
        "/cases",
        "staff",
        json={
            "workflow": "violation",
            "fields": {**base, "category": "logo_misuse", "protected_classes": ["race"]},
        },
    )
    assert response.status_code == 422
    assert "harassment" in response.get_json()["error"]["fields"]["protected_classes"][0]
    ok = api.post(
        "/cases",
        "staff",
        json={
            "workflow": "violation",
            "fields": {**base, "category": "harassment", "protected_classes": ["race", "age"]},
        },
    )
    assert ok.status_code == 201


def test_moderation_needs_an_active_account(api):
    pending = new_request(api)
    response = api.post(
        "/cases",
        "social",
        json={
            "workflow": "moderation",
            "fields": {
                "account": pending["number"],
                "post_url": "https://x.example/1",
                "content": "hi",
                "is_complaint": "no",
            },
        },
    )
    assert response.status_code == 422
    assert "not active" in response.get_json()["error"]["fields"]["account"][0]
