"""Why a case is where it is: the banner of a case page, the folded views of its timeline, and the
home queues that list only what waits for the user."""

from __future__ import annotations

import re

from webpages import Visitor, page_text

from casework.web.standing import the_role


def banner(html: str) -> str:
    found = re.search(r'<section class="standing".*?</section>', html, re.S)
    assert found, "the case page has no banner"
    return page_text(found.group(0))


def test_the_banner_says_who_escalated_a_complaint_and_why(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    librarian = Visitor(app, "librarian")
    fresh = banner(librarian.get(f"/cases/{number}").text)
    assert (
        "Next step: Engage (Librarian in Charge, Social media team or Library Director), due"
        in (fresh)
    )
    api.ok("librarian", number, "escalate", reason="The patron asked for the Director")
    shown = banner(Visitor(app, "director").get(f"/cases/{number}").text)
    assert re.search(
        r"Escalated by Librarian Person, Librarian in Charge, on \d+ \w+ \d{4}: "
        r"The patron asked for the Director",
        shown,
    ), shown
    assert "Next step: Resolve (Library Director)" in shown


def test_a_decided_case_shows_its_outcome(app, cast, api):
    number = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo",
    )["number"]
    api.ok("director", number, "inspect", cause="A report", findings="Seen")
    api.ok("director", number, "review", assessment="Clear")
    api.ok(
        "director",
        number,
        "discipline",
        action="written_warning",
        handbook_reference="Handbook §4.12",
    )
    shown = banner(Visitor(app, "hr").get(f"/cases/{number}").text)
    assert "Outcome: Written warning, Handbook §4.12" in shown
    assert "Disciplined by Director Person, Library Director, on" in shown
    assert "Next step" not in shown and "Waiting for" not in shown


def test_an_approved_account_waits_for_the_other_approval_and_leaves_her_queue(app, cast, api):
    number = api.open(
        "staff", "account", platform="tiktok", handle="@ppl", branch="Main", purpose="Fun"
    )["number"]
    other = api.open(
        "staff", "account", platform="x", handle="@teens", branch="Main", purpose="Teens"
    )["number"]
    director = Visitor(app, "director")
    assert number in page_text(director.get("/").text)
    api.ok("director", number, "approve")
    shown = banner(director.get(f"/cases/{number}").text)
    assert "Last step: Approve, by Director Person, Library Director, on" in shown
    assert "Waiting for: the social media team's approval" in shown
    home = page_text(director.get("/").text)
    assert number not in home and other in home
    assert "Accounts awaiting approval (1)" in home
    # The social media team still has both to approve.
    social = page_text(Visitor(app, "social").get("/").text)
    assert number in social and other in social
    api.ok("social", number, "approve")
    assert "Approved by Social Person, Social media team, on" in banner(
        director.get(f"/cases/{number}").text
    )


def test_views_fold_into_one_expandable_line(app, cast, api):
    number = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo",
    )["number"]
    director = Visitor(app, "director")
    for _ in range(5):
        director.get(f"/cases/{number}")
    html = director.get(f"/cases/{number}").text
    fold = re.search(r'<details class="timeline__fold">(.*?)</details>', html, re.S)
    assert fold, "the views are not folded"
    assert "<summary>" in fold.group(1) and "Viewed 5 times" in page_text(fold.group(1))
    assert len(re.findall(r">Viewed<", fold.group(1))) == 5
    # A note breaks the run: views before and after it fold apart.
    director.post(f"/cases/{number}/notes", {"text": "Read"})
    director.get(f"/cases/{number}")
    director.get(f"/cases/{number}")
    html = director.get(f"/cases/{number}").text
    summaries = [page_text(s) for s in re.findall(r"<summary>(.*?)</summary>", html, re.S)]
    assert [s.split(" (")[0] for s in summaries] == [
        "Viewed twice by Director Person, Library Director",
        "Viewed 6 times by Director Person, Library Director",
    ]


def test_roles_read_as_a_sentence_names_them(app):
    with app.app_context():
        assert the_role("social_media_team") == "the social media team"
        assert the_role("director") == "the Library Director"
