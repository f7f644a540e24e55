"""Every page, for each role, on a desktop and on a phone: axe-core finds nothing."""

from __future__ import annotations

from .livesite import ARTIFACTS, Tab


def plain_path(name: str):
    return ARTIFACTS / f"{name}.png"


def visit_all(tab: Tab, paths: list[str]) -> None:
    for path in paths:
        tab.goto(path)


def test_anonymous_pages(tab: Tab) -> None:
    tab.goto("/sign-in", "sign-in")
    tab.type_into("#username", "nobody")
    tab.type_into("#password", "wrong password")
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")
    tab.check("sign-in refused")
    assert "not right" in tab.text()


def test_librarian_pages(tab: Tab) -> None:
    number = tab.site.open_case(
        "librarian", "complaint", summary="Parking lights", channel="phone", branch="Main Library"
    )
    tab.sign_in("librarian")
    visit_all(
        tab,
        [
            "/",
            "/cases",
            "/cases?workflow=complaint&state=received&sort=due_at",
            "/cases?overdue=1",
            "/cases/new",
            "/cases/new/complaint",
            "/cases/new/moderation",
            f"/cases/{number}",
            f"/cases/{number}/transitions/engage?version=1",
            "/dashboard",
            "/workflows",
            "/workflows/complaint",
            "/workflows/violation",
            "/workflows/moderation",
            "/workflows/account",
            "/registry",
            "/account",
            "/account/password",
        ],
    )
    tab.goto("/cases?workflow=nope&opened_from=yesterday", "bad filters", status=400)
    tab.goto("/cases/CMP-2001-0001", "not found", status=404)
    tab.goto("/cases/new/complaint", "complaint form again")
    tab.tab_to('main form button[type="submit"]')
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")
    tab.check("complaint form with errors")
    assert tab.page.evaluate("document.activeElement.classList.contains('error-summary')")


def test_director_pages(tab: Tab) -> None:
    violation = tab.site.open_case(
        "staff",
        "violation",
        subject=tab.site.person_id("Pat Kowalski"),
        category="harassment",
        protected_classes=["age"],
        description="A post about a coworker.",
    )
    post = tab.site.open_case(
        "social",
        "moderation",
        post_url="https://social.example/post/901",
        content="This is a complaint",
        is_complaint="yes",
    )
    tab.sign_in("director")
    visit_all(
        tab,
        [
            "/",
            f"/cases/{violation}",
            f"/cases/{post}",
            f"/cases/{post}/transitions/remove",
            "/cases/new/violation",
            "/cases/new/account",
            "/cases?workflow=violation",
            "/people",
            f"/people/{tab.site.person_id('Jordan Lee')}",
            "/dashboard",
        ],
    )


def test_staff_and_admin_pages(tab: Tab, new_tab) -> None:
    receipt = tab.site.open_case(
        "staff",
        "violation",
        subject=tab.site.person_id("Jordan Lee"),
        category="workplace_impact",
        description="Posts during desk shifts.",
    )
    tab.sign_in("staff")
    visit_all(tab, ["/", f"/cases/{receipt}", "/cases", "/registry"])
    admin = new_tab()
    admin.sign_in("admin")
    visit_all(admin, ["/", "/people", "/administration-trail", "/admin/users/new", "/admin/users"])
    admin.press_on('main a[href^="/admin/users/"]:text-is("staff")')
    admin.check("a user")
    admin.goto("/admin/users/new")
    admin.type_into("#username", "volunteer")
    admin.type_into("#display_name", "Vera Volunteer")
    admin.choose("#roles-1", "staff")
    admin.page.keyboard.press("Space")
    admin.press_on('main form button[type="submit"]')
    admin.check("one-time password")
    assert "one-time password" in admin.text()


def test_pages_on_a_phone(site, new_tab) -> None:
    phone = new_tab(width=390, height=844)
    number = site.open_case("librarian", "complaint", summary="Bookmobile late", channel="tiktok")
    phone.sign_in("librarian")
    visit_all(phone, ["/", "/cases", f"/cases/{number}", "/dashboard", "/cases/new/complaint"])
    overflow = phone.page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390 + 1, "the page does not scroll sideways on a phone"


def test_the_work_gets_done_without_javascript(site, new_tab) -> None:
    plain = new_tab(javascript=False)
    number = site.open_case("librarian", "complaint", summary="Hold shelf full", channel="email")
    page = plain.page
    page.goto("/sign-in")
    page.fill("#username", "librarian")
    page.fill("#password", site.passwords["librarian"])
    page.click('main button[type="submit"]')
    page.goto(f"/cases/{number}")
    page.click('a[href*="/transitions/engage"]')
    page.click('main form button[type="submit"]')
    assert "There is a problem" in page.inner_text("main"), "errors show without script"
    page.fill("#field-response", "Cleared the hold shelf.")
    page.click('main form button[type="submit"]')
    assert site.state(number) == ("engaged", 2)
    page.fill("#text", "Followed up by phone.")
    page.click('button:text-is("Add note")')
    assert "Followed up by phone." in page.inner_text("main")
    page.screenshot(path=str(plain_path("without-javascript")), full_page=True)


def test_a_case_prints_cleanly(site, tab: Tab) -> None:
    number = site.open_case("librarian", "complaint", summary="Print me", channel="email")
    tab.sign_in("librarian")
    tab.goto(f"/cases/{number}")
    tab.page.emulate_media(media="print")
    for hidden in ("nav.main-nav", ".site-header", ".note-form", ".transition-buttons"):
        assert not tab.page.is_visible(hidden), hidden
    assert tab.page.is_visible(".timeline") and tab.page.is_visible("#details-title")
    tab.page.pdf(path=str(plain_path("case-printed").with_suffix(".pdf")))


def test_social_media_team_pages(tab: Tab) -> None:
    """Accounts over time and access appeals: the registry's flag and review, an appeal's pages."""
    from casework.extensions import db
    from casework.library import library
    from casework.models import Person, utcnow

    site = tab.site
    account = site.open_case(
        "social",
        "account",
        platform="tiktok",
        handle="@teens",
        branch="Main Library",
        purpose="Teen programs",
        administrators=["social", "staff"],
    )
    site.fire("director", account, "approve")
    site.fire("social", account, "approve")
    site.fire("social", account, "activate")
    staff = site.person_id("Terry Brooks")
    with site.app.app_context():  # the second administrator left the library today
        person = db.session.get(Person, staff)
        person.separated_on = utcnow().astimezone(library().tz).date()
        db.session.commit()
    post = site.open_case(
        "social",
        "moderation",
        account=account,
        post_url="https://social.example/post/902",
        author="troll42",
        content="Buy followers",
        is_complaint="no",
    )
    site.fire("social", post, "remove", grounds="spam_or_advertising", note="Spam.")
    site.fire(
        "social", post, "deny_access", reason="Spam.", duration="90_days", review_on="2027-03-01"
    )
    appeal = site.open_case(
        "social", "access_appeal", account=account, author="troll42", statement="Sorry."
    )
    tab.sign_in("social")
    try:
        _visit_team_pages(tab, account, post, appeal)
    finally:
        with site.app.app_context():
            db.session.get(Person, staff).separated_on = None
            db.session.commit()


def _visit_team_pages(tab: Tab, account: str, post: str, appeal: str) -> None:
    visit_all(
        tab,
        [
            "/",
            "/registry",
            f"/cases/{account}",
            f"/cases/{account}/transitions/reassign_administrators",
            f"/cases/{account}/transitions/review",
            f"/cases/{post}/transitions/restore_access",
            f"/cases/{appeal}",
            f"/cases/{appeal}/transitions/review",
            "/cases/new/access_appeal",
            "/workflows/access_appeal",
        ],
    )
    tab.goto("/registry", "registry with a flagged account")
    assert "Needs new administrators" in tab.text() and "left the library" in tab.text()
    assert "troll42" in tab.text() and "review on 1 March 2027" in tab.text()
