"""The library's daily work in a real browser, each flow with the keyboard alone."""

from __future__ import annotations

import re

from .livesite import Tab

CASE_LINK = r"/cases/([A-Z]{3}-\d{4}-\d{4})$"


def number_of(tab: Tab) -> str:
    found = re.search(CASE_LINK, tab.page.url)
    assert found, tab.page.url
    return found.group(1)


def submit(tab: Tab, label: str) -> None:
    tab.press_on(f'main form button[type="submit"]:text-is("{label}")')


def test_librarian_logs_engages_and_escalates_a_complaint(tab: Tab) -> None:
    tab.sign_in("librarian")
    tab.check("queue")
    tab.press_on('nav a[href="/cases/new"]')
    tab.check("new case")
    tab.press_on('a[href="/cases/new/complaint"]')
    tab.check("complaint form")
    tab.choose("#field-channel", "facebook")
    tab.type_into("#field-summary", "Story time was cancelled without notice")
    tab.type_into("#field-patron", "J. Smith")
    tab.type_into("#field-content", "Why was story time cancelled? We drove 20 minutes.")
    submit(tab, "Open the case")
    number = number_of(tab)
    tab.check("complaint opened")
    assert "Received" in tab.text() and "Story time was cancelled" in tab.text()

    tab.press_on('a[href*="/transitions/engage"]')
    tab.check("engage form")
    tab.type_into("#field-response", "Apologised on Facebook and gave the new story time date.")
    submit(tab, "Engage")
    tab.check("engaged")
    assert "Engaged" in tab.text()

    tab.press_on('a[href*="/transitions/escalate"]')
    tab.type_into("#field-reason", "The patron asked to speak to the Director.")
    submit(tab, "Escalate to the Director")
    tab.check("escalated")
    text = tab.text()
    assert "Escalated" in text and "The patron asked to speak to the Director." in text
    assert tab.site.state(number) == ("escalated", 3)


def test_director_inspects_reviews_and_dismisses_as_protected(tab: Tab) -> None:
    number = tab.site.open_case(
        "staff",
        "violation",
        subject=tab.site.person_id("Casey Morgan"),
        category="unprofessional",
        description="A personal post criticising the library's budget vote.",
    )
    tab.sign_in("director")
    tab.check("director queue")
    tab.press_on(f'main a[href="/cases/{number}"]')
    tab.check("violation case")
    tab.press_on('a[href*="/transitions/inspect"]')
    tab.type_into("#field-cause", "A report from a staff member.")
    tab.type_into("#field-findings", "The post is public; it discusses the budget vote.")
    submit(tab, "Inspect for cause")
    tab.check("inspected")
    tab.press_on('a[href*="/transitions/review"]')
    tab.type_into("#field-assessment", "Speech on a matter of public concern.")
    submit(tab, "Review")
    tab.check("under review")
    tab.press_on('a[href*="/transitions/dismiss"]')
    tab.check("dismiss form")
    # The form shows what the decision is about: the person, the clause, the findings so far.
    summary = tab.page.inner_text(".case-summary")
    assert "Casey Morgan" in summary and "Policy clause" in summary
    assert "The post is public; it discusses the budget vote." in summary
    tab.choose('input[name="reason"]', "insufficient_evidence")
    tab.type_into(
        "#field-explanation", "Protected by the First Amendment and the Ohio Constitution."
    )
    submit(tab, "Continue")
    tab.check("check your answers")
    assert "Insufficient evidence" in tab.text() and tab.site.state(number)[0] == "under_review"
    # "Change" goes back to the form, as filled in; the answer is corrected there.
    tab.press_on('main button[name="change"][value="reason"]')
    tab.check("dismiss form again")
    tab.choose('input[name="reason"]', "protected_communication")
    submit(tab, "Continue")
    assert "Protected by the U.S. or Ohio Constitution" in tab.text()
    submit(tab, "Confirm: dismiss")
    tab.check("dismissed")
    text = tab.text()
    assert "Dismissed" in text and "Protected by the U.S. or Ohio Constitution" in text
    assert tab.site.state(number)[0] == "dismissed"


def test_staff_member_reports_a_violation_and_sees_only_a_receipt(tab: Tab) -> None:
    tab.sign_in("staff")
    tab.check("staff queue")
    tab.press_on('main a.button[href="/cases/new/violation"]')
    tab.check("report form")
    tab.choose("#field-subject", str(tab.site.person_id("Riley Adams")))
    tab.choose('input[name="category"]', "confidential_disclosure")
    tab.choose('input[name="on_duty"]', "on")
    tab.type_into("#field-description", "Posted a patron's borrowing history in a group chat.")
    submit(tab, "Continue")
    tab.check("check the report")
    submit(tab, "Send the report")
    tab.check("receipt")
    number = number_of(tab)
    text = tab.text()
    assert f"Receipt for your report {number}" in text and "Reported" in text
    assert "borrowing history" not in text and "Riley" not in text
    tab.press_on('nav a[href="/"]')
    tab.check("queue with receipt")
    assert number in tab.text() and "borrowing history" not in tab.text()


def test_hr_opens_a_decided_case(tab: Tab) -> None:
    tab.sign_in("hr")
    tab.check("hr queue")
    decided = tab.page.locator('section:has(h2:text("disciplined")) tbody a').first
    number = decided.inner_text()
    tab.press_on(f'main a[href="/cases/{number}"]')
    tab.check("decided case")
    text = tab.text()
    assert "Disciplined" in text and "Written warning" in text
    assert tab.site.last_event(number) == ("view", "hr")


def test_social_team_refers_a_complaint_post_instead_of_removing_it(tab: Tab) -> None:
    number = tab.site.open_case(
        "social",
        "moderation",
        post_url="https://social.example/post/900",
        author="weekend_reader",
        content="Closing on Sundays is terrible service for working families.",
        is_complaint="yes",
    )
    tab.sign_in("social")
    tab.press_on(f'main a[href="/cases/{number}"]')
    tab.check("flagged post")
    text = tab.text()
    assert "Remove the post" in text and "refer it instead" in text
    assert tab.page.locator('a[href*="/transitions/remove"]').count() == 0
    tab.press_on('a[href*="/transitions/refer"]')
    tab.check("refer form")
    submit(tab, "Refer as a complaint")
    tab.check("referred")
    assert "Referred as a complaint" in tab.text()
    tab.press_on('main .timeline a[href^="/cases/CMP-"]')
    tab.check("the new complaint")
    assert "Closing on Sundays is terrible service" in tab.text()
    assert tab.site.state(number)[0] == "referred"


def test_a_stale_form_gets_the_conflict_message(tab: Tab, new_tab) -> None:
    number = tab.site.open_case("librarian", "complaint", summary="Lights out", channel="phone")
    tab.sign_in("librarian")
    tab.goto(f"/cases/{number}")
    tab.press_on('a[href*="/transitions/engage"]')
    other = new_tab()
    other.sign_in("social")
    other.goto(f"/cases/{number}/transitions/engage?version=1")
    other.type_into("#field-response", "Facilities will fix the lights this week.")
    submit(other, "Engage")
    assert tab.site.state(number) == ("engaged", 2)
    tab.type_into("#field-response", "We will look into it.")
    tab.tab_to('main form button[type="submit"]')
    with tab.page.expect_navigation() as navigation:
        tab.page.keyboard.press("Enter")
    assert navigation.value.status == 409
    tab.check("conflict")
    text = tab.text()
    assert "This case changed since you opened it" in text and "Engaged" in text
    assert "We will look into it." in text and "Nothing was saved" in text
    assert tab.site.state(number) == ("engaged", 2)


def test_hr_prints_with_the_button_and_a_link_elsewhere_records_nothing(tab: Tab) -> None:
    number = tab.site.open_case(
        "staff",
        "violation",
        subject=tab.site.person_id("Casey Morgan"),
        category="unprofessional",
        description="A post about a coworker.",
    )
    tab.sign_in("director")
    tab.goto(f"/cases/{number}", "violation case")
    # A download is not a navigation: the button is pressed from the keyboard directly.
    tab.tab_to('main form button[type="submit"]:text-is("Print the record (PDF)")')
    with tab.page.expect_download() as download:
        tab.page.keyboard.press("Enter")
    assert re.fullmatch(
        rf"{number}-record-\d{{4}}-\d\d-\d\d\.pdf", download.value.suggested_filename
    )
    assert tab.site.last_event(number) == ("print", "director")
    # A page on another site (here: the other name of this machine) links to the case.
    elsewhere = tab.site.base_url.replace("127.0.0.1", "localhost")
    assert elsewhere != tab.site.base_url
    tab.page.goto(f"{elsewhere}/sign-in")
    tab.page.set_content(
        f'<html lang="en"><title>Elsewhere</title><main>'
        f'<a id="lure" href="{tab.site.base_url}/cases/{number}">A link</a></main></html>'
    )
    tab.press_on("#lure")
    tab.check("continue page")
    assert "Continue in Casework?" in tab.text() and "nothing was recorded" in tab.text()
    assert tab.site.last_event(number) == ("print", "director")
    tab.press_on('main a.button:text-is("Continue")')
    tab.check("violation case after continuing")
    assert "A post about a coworker." in tab.text()
    assert tab.site.last_event(number) == ("view", "director")


def test_records_officer_previews_and_releases_a_packet(tab: Tab) -> None:
    released = tab.site.open_case(
        "records",
        "records_request",
        request="Minutes naming Quentin Okafor, a patron, and the budget",
        delivery="email",
    )
    number = tab.site.open_case(
        "records", "records_request", request="Every earlier request", delivery="post"
    )
    tab.site.fire("records", number, "acknowledge")
    tab.sign_in("records")
    tab.goto(f"/cases/{number}", "request page")
    tab.press_on('a[href$="/packet"]')
    tab.check("packet form")
    tab.type_into("#cases", released)
    tab.type_into("#w-0-case", released)
    tab.type_into("#w-0-passage", "quentin okafor")
    tab.choose("#w-0-authority", "R.C. 149.432")
    submit(tab, "Preview")
    tab.check("packet preview")
    preview = tab.text().split("Preview: what the packet will show", 1)[1]
    assert "Okafor" not in preview and "withheld (R.C. 149.432)" in preview
    assert tab.site.state(number) == ("acknowledged", 2)
    submit(tab, "Release the packet")
    tab.check("packet released")
    assert "The packet is released" in tab.text() and "Packet of event" in tab.text()
    assert tab.site.last_event(number) == ("packet_released", "records")
