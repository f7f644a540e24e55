"""Daily use on a phone and with the keyboard: why a case is where it is, and queues that list
what waits for the one who reads them."""

from __future__ import annotations

from .livesite import Tab

PHONE = {"width": 390, "height": 844}


def test_director_on_a_phone_sees_why_and_what_waits(tab: Tab, new_tab) -> None:
    number = tab.site.open_case(
        "librarian", "complaint", summary="Noise in the reading room", channel="phone"
    )
    tab.site.fire("librarian", number, "escalate", reason="The patron asked for the Director.")
    account = tab.site.open_case(
        "staff",
        "account",
        platform="tiktok",
        handle="@readers",
        branch="Main Library",
        purpose="Teens",
    )
    tab.site.fire("director", account, "approve")
    phone = new_tab(**PHONE)
    phone.sign_in("director")
    phone.check("director queue, phone")
    queue = phone.text()
    assert number in queue and account not in queue
    phone.goto(f"/cases/{account}", "approved account, phone")
    assert "Waiting for: the social media team's approval" in phone.text()
    phone.goto(f"/cases/{number}", "escalated complaint, phone")
    assert "Escalated by Luis Ortega, Librarian in Charge, on" in phone.text()
    assert "The patron asked for the Director." in phone.text()
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px)"
    # Views of a confidential case fold into one line, opened with the keyboard (a <details>,
    # no script needed).
    violation = tab.site.open_case(
        "staff",
        "violation",
        subject=tab.site.person_id("Casey Morgan"),
        category="unprofessional",
        description="A post about the budget vote.",
    )
    for _ in range(3):
        phone.page.goto(f"/cases/{violation}")
    phone.tab_to("details.timeline__fold > summary")
    assert "Viewed" in phone.page.inner_text("details.timeline__fold > summary")
    phone.page.keyboard.press("Enter")
    assert phone.page.locator("details.timeline__fold").get_attribute("open") is not None
    phone.check("views unfolded, phone")


def test_librarian_on_a_phone_works_the_queue_like_a_helpdesk(new_tab) -> None:
    phone = new_tab(**PHONE)
    number = phone.site.open_case("social", "complaint", summary="Fines too high", channel="email")
    phone.sign_in("librarian")
    phone.check("librarian queue, phone")
    assert "Log a patron complaint" in phone.text()
    assert "business days overdue" in phone.text() or "Due in" in phone.text()
    phone.press_on('main a:text-is("Log a patron complaint")')
    phone.check("complaint form from home, phone")
    phone.goto("/cases", "case list, phone")
    phone.press_on('nav.quick-filters a:text-is("Unassigned")')
    phone.check("unassigned open cases, phone")
    assert number in phone.text()
    phone.press_on(f'main a:text-is("{number}")')
    phone.press_on('main button:text-is("Assign to me")')
    phone.check("assigned to me, phone")
    assert f"{number} is assigned to Luis Ortega." in phone.text()
    assert "Assign to me" not in phone.text()
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px)"


def test_on_a_phone_the_menu_and_filters_fold_behind_buttons(tab: Tab, new_tab) -> None:
    phone = new_tab(**PHONE)
    phone.sign_in("director")
    assert not phone.page.is_visible('nav.main-nav a[href="/cases"]')
    phone.tab_to("summary.main-nav__button")
    phone.page.keyboard.press("Enter")
    assert phone.page.is_visible('nav.main-nav a[href="/cases"]')
    phone.check("menu opened, phone")
    phone.press_on('nav.main-nav a[href="/cases"]')
    phone.goto("/cases?workflow=complaint&state=received&overdue=1", "filtered list, phone")
    assert phone.page.inner_text("summary.filters__toggle") == "Filters (3)"
    assert not phone.page.is_visible("#filter-workflow")
    phone.tab_to("summary.filters__toggle")
    phone.page.keyboard.press("Enter")
    assert phone.page.is_visible("#filter-workflow")
    # The case's side panels (assignment, evidence) come before its timeline on a phone.
    number = phone.site.open_case("librarian", "complaint", summary="Late fees", channel="email")
    phone.goto(f"/cases/{number}", "case page, phone")
    side = phone.page.locator("#assignment").bounding_box()
    timeline = phone.page.locator("#timeline").bounding_box()
    actions = phone.page.locator("#actions-title").bounding_box()
    assert side and timeline and actions and actions["y"] < side["y"] < timeline["y"]
    # On a desktop the menu and the filters are open from the start.
    tab.sign_in("director")
    tab.goto("/cases?workflow=complaint", "case list, desktop")
    assert tab.page.is_visible('nav.main-nav a[href="/cases"]')
    assert tab.page.is_visible("#filter-workflow")
    assert not tab.page.is_visible("summary.main-nav__button")
