"""Decisions with context: every action form shows what it acts on (from the workflow's
`summary_fields`), and a decision on a person goes through a "check your answers" page."""

from __future__ import annotations

import re

from webpages import Visitor, case_state, events_of, page_text

from casework.library import library


def summary(html: str) -> str:
    found = re.search(r'<section class="panel case-summary".*?</section>', html, re.S)
    assert found, "the form shows nothing of what it acts on"
    return page_text(found.group(0))


def violation(api, cast) -> str:
    number = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Posted the logo on a meme",
    )["number"]
    api.ok("director", number, "inspect", cause="A colleague's report", findings="Meme seen")
    api.ok("director", number, "review", assessment="A first misuse")
    return number


def test_a_decision_form_shows_the_person_the_clause_and_the_findings(app, cast, api):
    number = violation(api, cast)
    page = Visitor(app, "director").get(f"/cases/{number}/transitions/discipline")
    assert page.status_code == 200
    shown = summary(page.text)
    with app.app_context():
        clause = library().workflow("violation").field("category").choice("logo_misuse").clause
    for text in ("Olive Outsider", "Posted the logo on a meme", "Meme seen", "A first misuse"):
        assert text in shown, text
    assert clause in shown
    # The form's view of a confidential case is recorded, as the case page's is.
    assert events_of(app, number)[-1] == ("view", "director")


def test_a_complaint_form_shows_the_patrons_comment(app, cast, api):
    number = api.open(
        "librarian",
        "complaint",
        summary="Story time",
        channel="facebook",
        content="Why was story time cancelled?",
    )["number"]
    shown = summary(Visitor(app, "librarian").get(f"/cases/{number}/transitions/engage").text)
    assert "Why was story time cancelled?" in shown and "Facebook" in shown


def test_discipline_waits_for_check_your_answers(app, cast, api):
    number = violation(api, cast)
    director = Visitor(app, "director")
    state, version = case_state(app, number)
    answers = {
        "version": str(version),
        "action": "written_warning",
        "handbook_reference": "Handbook §4.12",
    }
    check = director.post(f"/cases/{number}/transitions/discipline", answers)
    assert check.status_code == 200 and "Check your answers" in check.text
    text = page_text(check.text)
    assert "Written warning" in text and "Handbook §4.12" in text
    assert case_state(app, number) == (state, version), "nothing is changed before confirming"
    assert re.search(r'<button type="submit" name="change" value="action"', check.text)
    # "Change" goes back to the form as filled in.
    back = director.post(f"/cases/{number}/transitions/discipline", {**answers, "change": "action"})
    assert back.status_code == 200 and "Check your answers" not in back.text
    assert 'value="Handbook §4.12"' in back.text
    assert re.search(
        r'value="written_warning"[^>]*checked|<option value="written_warning" selected', back.text
    )
    # Confirming with the version the check page carries makes the change.
    done = director.post(f"/cases/{number}/transitions/discipline", {**answers, "confirmed": "1"})
    assert done.status_code == 302
    assert case_state(app, number)[0] == "disciplined"


def test_the_check_page_keeps_the_version_and_csrf_checks(app, cast, api):
    number = violation(api, cast)
    director = Visitor(app, "director")
    _, version = case_state(app, number)
    answers = {"version": str(version), "reason": "duplicate", "explanation": "Same as before"}
    check = director.post(f"/cases/{number}/transitions/dismiss", answers)
    assert check.status_code == 200 and "Check your answers" in check.text
    assert f'name="version" value="{version}"' in check.text
    api.post(f"/cases/{number}/assignee", "director", json={"username": "director"})
    stale = director.post(f"/cases/{number}/transitions/dismiss", {**answers, "confirmed": "1"})
    assert stale.status_code == 409 and case_state(app, number)[0] == "under_review"
    forged = director.client.post(
        f"/cases/{number}/transitions/dismiss",
        data={**answers, "version": str(version + 1), "confirmed": "1"},
    )
    assert forged.status_code in (400, 403) and case_state(app, number)[0] == "under_review"


def test_actions_without_confirm_need_no_check_page(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    response = Visitor(app, "librarian").fire(number, "engage", response="Answered by phone")
    assert response.status_code == 302 and case_state(app, number)[0] == "engaged"


def test_words_say_what_to_do(app, cast, api):
    librarian = Visitor(app, "librarian")
    refused = librarian.post("/cases/new/complaint", {"summary": "", "channel": ""})
    assert refused.status_code == 422
    assert "Enter a summary of the complaint." in refused.text
    assert "Choose where it was made." in refused.text
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    engaged = librarian.fire(number, "engage", response="Answered by phone")
    assert engaged.status_code == 302
    assert f"{number} is now engaged." in page_text(librarian.get(f"/cases/{number}").text)
    page = librarian.get(f"/cases/{number}").text
    assert "Audit chain head" not in page and "Version" not in page_text(page)
    assert not re.search(r"· #\d+</p>", page)
    # The inspection form's fields say what they want.
    report = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo",
    )["number"]
    form = Visitor(app, "director").get(f"/cases/{report}/transitions/inspect").text
    assert "who reported what, and when" in form and "What you saw on the site" in form


def test_a_first_approval_says_what_it_waits_for(app, cast, api):
    account = api.open(
        "staff", "account", platform="tiktok", handle="@ppl", branch="Main", purpose="Teens"
    )["number"]
    director = Visitor(app, "director")
    director.fire(account, "approve")
    assert f"Approve is recorded. {account} is still requested." in page_text(
        director.get(f"/cases/{account}").text
    )


def test_assignees_offered_are_those_who_may_work_the_case(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    cast.add_user("reader", "librarian_in_charge")
    page = Visitor(app, "librarian").get(f"/cases/{number}").text
    options = re.findall(
        r'<option value="([^"]*)"', page.split('id="username"')[1].split("</select>")[0]
    )
    assert "director" in options and "social" in options and "reader" in options
    assert "staff" not in options and "hr" not in options and "admin" not in options


def test_adding_a_user_warns_who_reads_personnel_records(app, cast):
    page = Visitor(app, "admin").get("/admin/users/new").text
    assert "Personnel records are read by the Library Director and Human Resources." in page


def test_a_case_number_is_found_the_way_people_say_it(app, cast, api):
    numbers = [
        api.open("librarian", "complaint", summary=f"Complaint {i}", channel="email")["number"]
        for i in range(3)
    ]
    wanted = numbers[1]
    serial = int(wanted.rsplit("-", 1)[1])
    year = wanted.split("-")[1]
    librarian = Visitor(app, "librarian")
    for query in (
        f"cmp {serial}",
        f"CMP-{serial}",
        f"cmp{serial}",
        f"{year}-{serial}",
        f"cmp {year} {serial}",
    ):
        text = page_text(librarian.get("/cases", query_string={"q": query}).text)
        assert wanted in text and numbers[0] not in text and numbers[2] not in text, query
        assert "1 case found" in text, query
    # Someone who may not see it finds nothing, as with the full number.
    assert wanted not in page_text(
        Visitor(app, "hr").get("/cases", query_string={"q": f"cmp {serial}"}).text
    )
