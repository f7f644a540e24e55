"""Moderation without dead ends: correcting "is it a complaint?", refer before keep, evidence and a
reminder on removal, the account asked for in the form, and denials of access that are never
repeated silently, can be lifted, and show their dates."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from pypdf import PdfReader
from webpages import Visitor, case_state, events_of, page_text
from workflow_driver import active_account

from casework.extensions import db
from casework.models import Attachment, Case, OutboxMessage, User

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def flagged_post(api, **overrides):
    fields = {
        "account": active_account(api),
        "post_url": "https://social.example/p/77",
        "author": "loud_patron",
        "content": "Why is the branch closed on Sundays?",
        "is_complaint": "yes",
    }
    fields.update(overrides)
    return api.open("social", "moderation", **fields)


def triggers(items):
    return [t["trigger"] for t in items]


def attachments_of(app, number):
    with app.app_context():
        names = db.session.execute(
            sa.select(Attachment.name)
            .join(Case, Case.id == Attachment.case_id)
            .where(Case.number == number)
        ).scalars()
        found = list(names)
        db.session.rollback()
    return found


# --- "Is it a complaint?" and what it leaves possible -----------------------------------------


def test_a_complaint_post_offers_refer_first_and_keep_neither_offered_nor_accepted(api):
    post = flagged_post(api)
    assert triggers(post["available_transitions"])[0] == "refer"
    assert "keep" not in triggers(post["available_transitions"])
    assert "keep" not in triggers(post["blocked_transitions"])
    refused = api.fire("social", post["number"], "keep", note="Leave it up.")
    assert refused.status_code == 422
    message = refused.get_json()["error"]["message"]
    assert "complaint" in message and "refer it" in message
    assert api.get(f"/cases/{post['number']}", "social").get_json()["state"] == "flagged"
    plain = flagged_post(api, is_complaint="no", content="Buy followers")
    assert {"remove", "keep", "refer"} <= set(triggers(plain["available_transitions"]))


def test_correcting_the_answer_is_recorded_and_changes_what_may_be_done(app, api):
    with app.app_context():
        for user in db.session.execute(sa.select(User)).scalars():
            user.email = f"{user.username}@library.example"
        db.session.commit()
    post = flagged_post(api)
    number = post["number"]
    # The librarian may refer, but the correction is the social media team's (or the Director's).
    assert api.fire("librarian", number, "correct_complaint", is_complaint="no").status_code == 403
    missing = api.fire("social", number, "correct_complaint", is_complaint="no")
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"] == {"reason": ["Enter why the answer changes."]}
    odd = api.fire("social", number, "correct_complaint", is_complaint="maybe", reason="x")
    assert "is_complaint" in odd.get_json()["error"]["fields"]
    body = api.ok(
        "social", number, "correct_complaint", is_complaint="no", reason="It is an advert."
    )
    assert body["state"] == "flagged" and body["fields"]["is_complaint"] == "no"
    assert {"remove", "keep"} <= set(triggers(body["available_transitions"]))
    events = api.get(f"/cases/{number}/events", "social").get_json()["items"]
    assert events[-1]["data"]["fields"] == {"is_complaint": "no", "reason": "It is an advert."}
    assert events[-1]["actor"] == "social"
    # The Director is told of the corrected answer, which lets the post be removed.
    with app.app_context():
        told = db.session.execute(
            sa.select(User.username, OutboxMessage.subject, OutboxMessage.body_text)
            .join(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.kind == "complaint_answer_corrected")
        ).all()
    assert [(who, subject) for who, subject, _ in told] == [
        ("director", f"{number}: whether the post is a complaint was corrected")
    ]
    assert "corrected" in told[0][2] and number in told[0][2]
    api.ok("social", number, "remove", grounds="spam_or_advertising", note="Advert.")
    # Only while flagged: a decided post is not re-labelled.
    late = api.fire("social", number, "correct_complaint", is_complaint="yes", reason="x")
    assert late.status_code == 422 and case_state(app, number)[0] == "removed"


def test_the_case_page_offers_refer_first_and_explains_keep_only_when_asked(app, api):
    number = flagged_post(api)["number"]
    social = Visitor(app, "social")
    page = social.get(f"/cases/{number}")
    buttons = re.findall(r'href="/cases/[^/]+/transitions/(\w+)\?version=\d+"', page.text)
    assert buttons[0] == "refer" and "keep" not in buttons
    assert "Keep the post" not in page_text(page.text)
    assert "Next step: Refer as a complaint" in page_text(page.text)
    form = social.get(f"/cases/{number}/transitions/keep")
    assert form.status_code == 200 and "Not possible now" in form.text
    assert "refer it" in page_text(form.text)
    posted = social.fire(number, "keep", version=1, note="Leave it.")
    assert posted.status_code == 422 and case_state(app, number) == ("flagged", 1)
    corrected = social.fire(number, "correct_complaint", is_complaint="no", reason="An advert.")
    assert corrected.status_code == 302
    page = social.get(f"/cases/{number}")
    assert "/transitions/keep?" in page.text


# --- removing a post --------------------------------------------------------------------------


def test_removing_a_post_takes_its_screenshot_and_reminds_to_delete_it_on_the_platform(app, api):
    number = flagged_post(api, is_complaint="no", content="Buy followers")["number"]
    social = Visitor(app, "social")
    form = social.get(f"/cases/{number}/transitions/remove")
    assert 'enctype="multipart/form-data"' in form.text and 'name="evidence"' in form.text
    assert "delete the post on the platform" in page_text(form.text)
    fields = {"version": "1", "grounds": "spam_or_advertising", "note": "Spam."}
    done = social.post(
        f"/cases/{number}/transitions/remove",
        {**fields, "evidence": (io.BytesIO(PNG), "post.png")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    assert attachments_of(app, number) == ["post.png"]
    actions = [a for a, _ in events_of(app, number)]
    assert actions[-2:] == ["attachment", "transition"]  # the evidence, then the decision
    result = page_text(social.get(done.headers["Location"]).text)
    assert "post.png is attached as evidence" in result
    assert "delete the post on the platform itself too" in result


def test_removing_without_a_screenshot_is_possible_and_says_so(app, api):
    number = flagged_post(api, is_complaint="no", content="Spam")["number"]
    social = Visitor(app, "social")
    done = social.fire(number, "remove", grounds="spam_or_advertising", note="Spam.")
    assert done.status_code == 302 and case_state(app, number)[0] == "removed"
    result = page_text(social.get(done.headers["Location"]).text)
    assert "No screenshot of the post is attached" in result
    assert "delete the post on the platform itself too" in result


def test_a_file_that_is_not_a_screenshot_is_refused_and_nothing_changes(app, api):
    number = flagged_post(api, is_complaint="no", content="Spam")["number"]
    social = Visitor(app, "social")
    social.get(f"/cases/{number}/transitions/remove")
    refused = social.post(
        f"/cases/{number}/transitions/remove",
        {
            "version": "1",
            "grounds": "spam_or_advertising",
            "note": "Spam.",
            "evidence": (io.BytesIO(b"MZ\x90\x00 not an image"), "shot.png"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert 'id="field-evidence-error"' in refused.text and 'href="#field-evidence"' in refused.text
    assert "Only PNG, JPEG, PDF" in refused.text
    assert case_state(app, number) == ("flagged", 1) and attachments_of(app, number) == []


# --- the account at intake --------------------------------------------------------------------


def test_the_intake_form_asks_for_the_account_and_the_api_still_takes_a_post_without_it(app, api):
    social = Visitor(app, "social")
    blank = social.get("/cases/new/moderation")
    assert re.search(r'Library account <span class="required">\(required\)</span>', blank.text)
    post = {"post_url": "https://social.example/p/5", "content": "Hi", "is_complaint": "no"}
    refused = social.post("/cases/new/moderation", post)
    assert refused.status_code == 422
    assert 'href="#field-account"' in refused.text
    assert "Choose the library account the post was made on." in refused.text
    account = active_account(api)
    assert social.open("moderation", account=account, **post).startswith("MOD-")
    assert api.open("social", "moderation", **post)["fields"].get("account") is None


# --- denying access and restoring it ----------------------------------------------------------


def removed_post(api, author="troll77"):
    number = flagged_post(api, is_complaint="no", content="Slurs", author=author)["number"]
    api.ok("social", number, "remove", grounds="hate_or_harassment", note="Hateful.")
    return number


def test_denying_access_shows_the_ground_and_checks_the_review_date(app, api):
    number = removed_post(api)
    social = Visitor(app, "social")
    form = page_text(social.get(f"/cases/{number}/transitions/deny_access").text)
    assert "Lindke v. Freed" in form and "never for a viewpoint" in form
    late = social.fire(
        number, "deny_access", reason="Slurs.", duration="30_days", review_on="2099-01-01"
    )
    assert late.status_code == 422 and 'id="field-review_on-error"' in late.text
    assert "choose a review date on or before it" in page_text(late.text)
    for bad in ({"duration": "forever"}, {"review_on": "soon"}):
        fields = {"reason": "Slurs.", "duration": "30_days", "review_on": "2026-12-20", **bad}
        response = api.fire("social", number, "deny_access", **fields)
        assert response.status_code == 422 and set(bad) <= set(
            response.get_json()["error"]["fields"]
        )
    assert case_state(app, number) == ("removed", 2)


def test_a_second_denial_is_refused_naming_the_first_and_a_lifted_one_shows_its_dates(app, api):
    number = removed_post(api)
    account = active_account(api)
    api.ok(
        "social",
        number,
        "deny_access",
        reason="Slurs.",
        duration="permanent",
        review_on="2027-06-01",
    )
    again = api.fire(
        "director",
        number,
        "deny_access",
        reason="Again.",
        duration="30_days",
        review_on="2027-01-01",
    )
    assert again.status_code == 422
    message = again.get_json()["error"]["message"]
    assert "already denied" in message and number in message
    assert "permanent" in message and "review on 1 June 2027" in message
    body = api.get(f"/cases/{number}", "social").get_json()
    assert "deny_access" in triggers(body["blocked_transitions"])
    social = Visitor(app, "social")
    form = page_text(social.get(f"/cases/{number}/transitions/deny_access").text)
    assert "Not possible now" in form and "already denied" in form
    for page in (f"/cases/{number}", f"/cases/{account}"):
        text = page_text(social.get(page).text)
        assert "Denied access troll77 In force" in text and "review on 1 June 2027" in text
    banner = page_text(social.get(f"/cases/{number}").text)
    assert "Outcome" not in banner and "Last step: Deny the author access" in banner
    assert social.fire(number, "restore_access", reason="Apologised.").status_code == 302
    text = page_text(social.get(f"/cases/{account}").text)
    assert "troll77 Ended" in text and "lifted on" in text
    assert [a for a, _ in events_of(app, account)][-2:] == ["denied_access", "access_restored"]


def test_staff_who_may_not_read_the_post_do_not_see_the_denied_author(app, api):
    number = removed_post(api, author="hidden_author")
    api.ok(
        "social", number, "deny_access", reason="Spam.", duration="90_days", review_on="2027-01-15"
    )
    account = active_account(api)
    for path in (f"/cases/{account}", "/registry"):
        page = Visitor(app, "staff").get(path)
        assert page.status_code == 200 and "hidden_author" not in page.text
    assert "withheld: patron record" in Visitor(app, "staff").get(f"/cases/{account}").text
    events = api.get(f"/cases/{account}/events", "staff")
    assert events.status_code == 200 and "hidden_author" not in events.text
    assert "hidden_author" in api.get(f"/cases/{account}/events", "social").text
    record = api.get(f"/cases/{account}/record.pdf", "staff")
    assert record.status_code == 200
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(record.data)).pages)
    assert "hidden_author" not in text and "withheld: patron record" in " ".join(text.split())
