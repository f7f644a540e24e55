"""Moderation without dead ends, walked with the keyboard: a complaint post is referred, not kept;
a post is removed with its screenshot; its author is denied access, then given it back."""

from __future__ import annotations

from .livesite import Tab

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def submit(tab: Tab, label: str) -> None:
    tab.press_on(f'main form button[type="submit"]:text-is("{label}")')


def test_social_team_moderates_a_post_from_flag_to_restored_access(tab: Tab) -> None:
    site = tab.site
    account = site.open_case(
        "social",
        "account",
        platform="instagram",
        handle="@moderated",
        branch="Main Library",
        purpose="Events",
        administrators=["social"],
    )
    site.fire("director", account, "approve")
    site.fire("social", account, "approve")
    site.fire("social", account, "activate")
    post = site.open_case(
        "social",
        "moderation",
        account=account,
        post_url="https://social.example/post/950",
        author="spam_bot_9",
        content="Cheap watches at example.shop",
        is_complaint="yes",
    )
    tab.sign_in("social")
    tab.goto(f"/cases/{post}", "complaint post")
    actions = tab.page.locator("main ul.transition-buttons a")
    assert "/transitions/refer" in (actions.first.get_attribute("href") or "")
    assert tab.page.locator('a[href*="/transitions/keep"]').count() == 0

    # Not a complaint after all: the team corrects the answer, and removing becomes possible.
    tab.press_on('main a[href*="/transitions/correct_complaint"]')
    tab.check("correct the answer")
    tab.choose('input[name="is_complaint"]', "no")
    tab.type_into("#field-reason", "An advert for watches, not a comment on the library.")
    submit(tab, "Correct whether it is a complaint")
    tab.check("answer corrected")
    assert tab.page.locator('a[href*="/transitions/keep"]').count() == 1

    tab.press_on('main a[href*="/transitions/remove"]')
    tab.check("remove form")
    assert "delete the post on the platform itself too" in tab.text()
    tab.choose('input[name="grounds"]', "spam_or_advertising")
    tab.type_into("#field-note", "Advertising.")
    tab.page.set_input_files(
        "#field-evidence", files=[{"name": "post.png", "mimeType": "image/png", "buffer": PNG}]
    )
    submit(tab, "Remove the post")
    tab.check("removed")
    text = tab.text()
    assert "post.png is attached as evidence" in text
    assert "delete the post on the platform itself too" in text

    tab.press_on('main a[href*="/transitions/deny_access"]')
    tab.check("deny access form")
    assert "Lindke v. Freed" in tab.text()
    tab.type_into("#field-reason", "Repeated advertising.")
    tab.choose('input[name="duration"]', "90_days")
    tab.page.fill("#field-review_on", "2027-02-01")
    submit(tab, "Deny the author access")
    tab.check("access denied")
    assert "spam_bot_9 In force" in tab.text() and "review on 1 February 2027" in tab.text()

    tab.press_on('main a[href*="/transitions/restore_access"]')
    tab.check("restore access form")
    tab.type_into("#field-reason", "The account owner apologised.")
    submit(tab, "Restore the author's access")
    tab.check("access restored")
    assert "spam_bot_9 Ended" in tab.text() and "lifted on" in tab.text()
    tab.goto("/registry", "registry with a lifted denial")
    assert "spam_bot_9 Ended" in tab.text()
