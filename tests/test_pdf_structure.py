"""Every printed document has a complete tagged structure (PDF/UA): each element's ID listed in
the structure tree's IDTree, no text outside the tree, and language, title and title display set.

A document added later belongs in `documents` below.
"""

from __future__ import annotations

from pdfstructure import structure_problems
from test_pdf_history import violation
from test_pdf_records import complaint, get_pdf

from casework.printing.board import board_report_pdf
from casework.services import board_report
from casework.services.board_report.months import choose_period, last_full_month
from casework.services.users import find_user


def documents(api, cast) -> dict[str, bytes]:
    """One of every document Casework prints, each with tables, margins and several pages."""
    number = complaint(api)
    api.ok("librarian", number, "engage", response="Apologised and posted the new schedule.")
    first = violation(api, cast, "olive", category="logo_misuse")
    api.ok("director", first, "inspect", cause="Report.", findings="Public post.")
    violation(api, cast, "olive")
    api.open(
        "social",
        "account",
        platform="instagram",
        handle="@teenroom",
        branch="Teen Services",
        purpose="Teen programs",
    )
    person = cast.person_ids["olive"]
    with cast.app.app_context():
        director = find_user("director")
        month = last_full_month()
        board = board_report_pdf(
            director, board_report.build_report(director, choose_period(month))
        )
    return {
        "case record": get_pdf(api, f"/cases/{number}/record.pdf", "librarian"),
        "public-records copy": get_pdf(api, f"/cases/{number}/record.pdf?redacted=1", "librarian"),
        "employee history": get_pdf(api, f"/people/{person}/history.pdf", "hr"),
        "registry": get_pdf(api, "/registry.pdf", "librarian"),
        "board report": board,
    }


def test_every_document_has_a_complete_structure(app, api, cast):
    for name, content in documents(api, cast).items():
        assert structure_problems(content) == [], name


def test_the_check_finds_what_weasyprint_alone_leaves_out(app):
    # The same renderer without Casework's finishing: the check must see both faults.
    from casework.printing.fetcher import print_folder
    from casework.printing.render import renderer, stylesheet

    ready = renderer(stylesheet(), str(print_folder()))
    html = (
        "<html lang='en'><head><title>Check</title></head><body><h1>Check</h1>"
        "<table><tr><th scope='row'>Number</th><td>CMP-2026-0001</td></tr></table></body></html>"
    )
    raw = ready.weasyprint.HTML(string=html, base_url=ready.base_url).write_pdf(
        stylesheets=[ready.stylesheet], font_config=ready.fonts, pdf_variant="pdf/ua-1"
    )
    problems = structure_problems(raw)
    assert any("missing from /IDTree" in p for p in problems), problems
    assert any("text outside the structure tree" in p for p in problems), problems
