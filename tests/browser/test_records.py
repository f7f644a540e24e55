"""Records management in a real browser, with the keyboard alone: a legal hold placed by the
Director, and a disposal batch prepared and confirmed by the records officer."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, DisposalBatch, utcnow

from .livesite import Tab


def closed_complaint(tab: Tab, summary: str) -> str:
    site = tab.site
    number = site.open_case("librarian", "complaint", summary=summary, channel="email")
    site.fire("librarian", number, "engage", response="Answered")
    site.fire("librarian", number, "resolve", resolution="Done")
    return number


def past_retention(tab: Tab, number: str) -> None:
    """The case was closed long ago: its retention period has ended."""
    with tab.site.app.app_context():
        db.session.execute(
            sa.update(Case)
            .where(Case.number == number)
            .values(closed_at=utcnow().replace(year=2019))
        )
        db.session.commit()


def wait_over(tab: Tab) -> None:
    """The waiting period after every certificate has ended (the page is loaded again)."""
    with tab.site.app.app_context():
        db.session.execute(
            sa.update(DisposalBatch).values(wait_until=date.today() - timedelta(days=1))
        )
        db.session.commit()
    tab.page.reload()


def test_director_places_a_legal_hold(tab: Tab) -> None:
    number = closed_complaint(tab, "A complaint the library is sued over")
    tab.sign_in("director")
    tab.goto(f"/cases/{number}", "case with retention")
    tab.choose("#hold-kind", "litigation")
    tab.type_into("#hold-reason", "Smith v. Library, 26-CV-101")
    tab.press_on('main form button[type="submit"]:text-is("Place a legal hold")')
    tab.check("hold placed")
    assert "On legal hold" in tab.text() and "Smith v. Library" in tab.text()
    tab.goto("/holds", "every hold")
    assert number in tab.text()


def test_records_officer_prepares_and_confirms_a_disposal(tab: Tab) -> None:
    number = closed_complaint(tab, "An old complaint past its retention")
    past_retention(tab, number)
    tab.sign_in("records")
    tab.press_on('nav a[href="/retention"]')
    tab.check("retention")
    assert number in tab.text()
    tab.press_on('main form button[type="submit"]:has-text("Prepare a disposal batch")')
    tab.check("batch prepared")
    assert "Certificate SHA-256" in tab.text() and number in tab.text()
    wait_over(tab)
    tab.press_on('main form button[type="submit"]:has-text("Confirm the disposal")')
    tab.check("batch confirmed")
    assert "1 case(s) disposed of" in tab.text() and "Not disposed of" not in tab.text()


def test_a_disposed_case_shows_its_tombstone(tab: Tab, new_tab) -> None:
    officer = new_tab()
    number = closed_complaint(tab, "Another old complaint")
    past_retention(tab, number)
    officer.sign_in("records")
    officer.goto("/retention", "retention again")
    officer.press_on('main form button[type="submit"]:has-text("Prepare a disposal batch")')
    wait_over(officer)
    officer.press_on('main form button[type="submit"]:has-text("Confirm the disposal")')
    tab.sign_in("director")
    tab.goto(f"/cases/{number}", "tombstone", status=410)
    assert "disposal batch" in tab.text() and "ADM-12" in tab.text()
