"""The employee case history (HR) and the account registry."""

from __future__ import annotations

from test_pdf_records import events_of, get_pdf, page_count, pdf_text


def violation(api, cast, person: str, **fields) -> str:
    body = {"category": "harassment", "description": "A post about a coworker.", **fields}
    number: str = api.open("staff", "violation", subject=cast.person_ids[person], **body)["number"]
    return number


def test_hr_prints_an_employee_history_with_every_case_and_outcome(app, api, cast):
    first = violation(api, cast, "olive", category="logo_misuse")
    api.ok("director", first, "inspect", cause="Report.", findings="Public post.")
    api.ok("director", first, "review", assessment="Reviewed.")
    api.ok("director", first, "discipline", action="written_warning", handbook_reference="4.2")
    second = violation(api, cast, "olive")
    other = violation(api, cast, "staff2")
    person = cast.person_ids["olive"]

    content = get_pdf(api, f"/people/{person}/history.pdf", "hr")
    text = pdf_text(content)
    cover = pdf_text(content, page=1)
    for expected in ("Employee case history", "Olive Outsider", "E-olive", first, second):
        assert expected in cover, expected
    assert "Disciplined: Written warning" in cover
    assert "Open (reported)" in cover
    assert other not in text
    assert "CONFIDENTIAL — PERSONNEL RECORD" in cover
    # Each case's record follows on its own pages, timeline and chain head included.
    assert f"Case record {first}" in text and f"Case record {second}" in text
    assert "Discipline · Under review → Disciplined" in text
    assert page_count(content) >= 3
    for number in (first, second):
        last = events_of(app, number)[-1]
        assert last.action == "print" and last.actor == "hr"
        assert last.data["document"] == "history" and last.data["person"] == person
    assert events_of(app, other)[-1].action != "print"


def test_a_history_is_not_found_unless_every_case_is_visible(app, api, cast):
    number = violation(api, cast, "olive")
    person = cast.person_ids["olive"]
    before = len(events_of(app, number))
    # Staff, the reporter (who sees a receipt), IT and the trustee (the subject is no director)
    # all get the answer an unknown person gets.
    for user in ("librarian", "staff", "admin", "trustee", "social"):
        response = api.get(f"/people/{person}/history.pdf", user)
        assert response.status_code == 404, user
    assert api.get("/people/999999/history.pdf", "hr").status_code == 404
    # A person with no cases is no different for someone who may not see such cases.
    empty = cast.person_ids["staff2"]
    assert api.get(f"/people/{empty}/history.pdf", "librarian").status_code == 404
    assert api.get(f"/people/{empty}/history.pdf", "hr").status_code == 200
    assert len(events_of(app, number)) == before


def test_the_subject_never_gets_their_own_history_and_trustees_stand_in(app, api, cast):
    case_about_hr = violation(api, cast, "hr")
    hr_person = cast.person_ids["hr"]
    assert api.get(f"/people/{hr_person}/history.pdf", "hr").status_code == 404
    assert case_about_hr in pdf_text(get_pdf(api, f"/people/{hr_person}/history.pdf", "director"))

    case_about_director = violation(api, cast, "director")
    director_person = cast.person_ids["director"]
    assert api.get(f"/people/{director_person}/history.pdf", "director").status_code == 404
    text = pdf_text(get_pdf(api, f"/people/{director_person}/history.pdf", "trustee"))
    assert case_about_director in text
    assert events_of(app, case_about_director)[-1].actor == "trustee"


def test_the_registry_lists_accounts_administrators_denied_lists_and_requests(app, api, cast):
    active = api.open(
        "social",
        "account",
        platform="facebook",
        handle="@portsmouthlibrary",
        branch="Main Library",
        purpose="News and events",
        administrators=["social", "librarian"],
    )["number"]
    api.ok("director", active, "approve")
    api.ok("social2", active, "approve")
    api.ok("social", active, "activate")
    post = api.open(
        "social",
        "moderation",
        account=active,
        post_url="https://social.example/p/9",
        author="SpamBot 3000",
        content="Buy followers now",
        is_complaint="no",
    )["number"]
    api.ok("social", post, "remove", grounds="spam_or_advertising", note="Spam.")
    api.ok(
        "social",
        post,
        "deny_access",
        reason="Repeated spam.",
        duration="90_days",
        review_on="2027-01-15",
    )
    pending = api.open(
        "staff",
        "account",
        platform="instagram",
        handle="@teenroom",
        branch="Teen Services",
        purpose="Teen programs",
    )["number"]
    api.ok("director", pending, "approve")
    denied = api.open(
        "staff",
        "account",
        platform="tiktok",
        handle="@nope",
        branch="Main",
        purpose="No",
    )["number"]
    api.ok("director", denied, "deny", reason="Not now.")

    content = get_pdf(api, "/registry.pdf", "librarian")
    text = pdf_text(content)
    for expected in (
        "Social media account registry",
        active,
        "@portsmouthlibrary",
        "social, librarian",
        "SpamBot 3000",
        "Repeated spam.",
        post,
        pending,
        "@teenroom",
        "director (Library Director)",
    ):
        assert expected in text, expected
    assert denied not in text and "@nope" not in text
    for number in (active, pending):
        last = events_of(app, number)[-1]
        assert last.action == "print" and last.data["document"] == "registry"
    assert events_of(app, denied)[-1].action != "print"
    # IT administrators see no case content.
    assert api.get("/registry.pdf", "admin").status_code == 403
