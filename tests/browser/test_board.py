"""For the Board, in a real browser with the keyboard alone: a trustee reads the monthly report,
and the Director names an acting Director, who is told so on their home page."""

from __future__ import annotations

from .livesite import Tab


def test_a_trustee_reads_the_report_and_the_director_names_an_acting_director(
    tab: Tab, new_tab
) -> None:
    tab.sign_in("trustee")
    tab.press_on('nav a[href="/board-report"]')
    tab.check("board report")
    report = tab.text()
    assert "Complaints engaged within 2 business days" in report
    assert "Staff policy violation cases" in report and "VIO-" not in report
    director = new_tab()
    director.sign_in("director")
    director.press_on('nav a[href="/acting-director"]')
    director.check("acting director")
    director.choose("#user", "librarian")
    director.type_into("#reason", "Director at the state library conference")
    director.press_on('main form button[type="submit"]:text-is("Name them acting Director")')
    director.check("acting director named")
    assert "Luis Ortega (acting now)" in director.text()
    librarian = new_tab()
    librarian.sign_in("librarian")
    librarian.check("acting director's queue")
    assert "You are acting Library Director until" in librarian.text()
    director.press_on('main form button[type="submit"]:has-text("End now")')
    director.check("acting director term ended")
    assert "Nobody is named acting Director" in director.text()
