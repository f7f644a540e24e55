"""Intake with the keyboard alone: a complaint asks the channel first and then only what that
channel needs; a staff report is checked, with its evidence, before it is sent."""

from __future__ import annotations

from pathlib import Path

from .livesite import Tab

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_intake_fits_the_channel_and_a_staff_report_is_checked_before_it_is_sent(
    tab: Tab, new_tab, tmp_path: Path
) -> None:
    tab.sign_in("librarian")
    tab.goto("/cases/new/complaint", "complaint form, no channel yet")
    # Before a channel is chosen, nothing that depends on it is offered.
    for name in ("contact", "post_url", "content", "account"):
        assert tab.page.is_hidden(f'[data-field="{name}"]'), name
    assert tab.page.input_value("#field-received_at")  # "received on" starts as now
    # A social media channel: the post is asked for, contact details are not.
    tab.choose("#field-channel", "instagram")
    assert tab.page.is_visible('[data-field="post_url"]')
    assert tab.page.is_hidden('[data-field="contact"]')
    tab.check("complaint form, social media")
    # A telephone call: contact details, and no post.
    tab.choose("#field-channel", "phone")
    assert tab.page.is_visible('[data-field="contact"]')
    assert tab.page.is_hidden('[data-field="post_url"]')
    tab.check("complaint form, telephone")
    tab.type_into("#field-summary", "Parking lot lights are out at night")
    tab.type_into("#field-contact", "740-555-0134")
    tab.choose("#field-branch", "Lucasville Branch")
    tab.press_on('main form button[type="submit"]:text-is("Open the case")')
    tab.check("complaint opened")
    text = tab.text()
    assert "740-555-0134" in text and "Lucasville Branch" in text

    staff = new_tab()
    staff.sign_in("staff")
    staff.goto("/cases/new/violation", "staff report form")
    staff.choose("#field-subject", str(staff.site.person_id("Dana Whitfield")))
    staff.choose('input[name="category"]', "not_sure")
    staff.type_into("#field-description", "A post calling a coworker names.")
    staff.press_on('main form button[type="submit"]:text-is("Continue")')
    staff.check("check your report")
    text = staff.text()
    assert "Not sure" in text and "Dana Whitfield" in text
    assert "The Board of Trustees and Human Resources" in text
    evidence = tmp_path / "screenshot.png"
    evidence.write_bytes(PNG)
    staff.tab_to("#evidence")  # the file itself comes from the system's file chooser
    staff.page.set_input_files("#evidence", str(evidence))
    staff.press_on('main button[name="confirmed"]')
    staff.check("receipt")
    text = staff.text()
    assert "What happens next" in text and "Retaliation is forbidden" in text
    assert "Adding information later" in text and "coworker" not in text
