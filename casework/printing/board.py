"""The Board's monthly report as a PDF: the same figures as its page, stamped on every page."""

from __future__ import annotations

from casework.library import library
from casework.models import User
from casework.printing.cache import document_key
from casework.printing.documents import document_date, generated_line, render_pdf, setting_parts
from casework.printing.stamp import stamp
from casework.services.board_report import BoardReport


def board_report_pdf(actor: User | None, report: BoardReport) -> bytes:
    """The report as a tagged PDF; `actor` None for the command line (stamped as such)."""
    key = document_key(
        kind="board",
        months=report.period.months,
        sections=report.sections,
        at=report.generated_at.isoformat(),
        **setting_parts(),
    )
    pdf = render_pdf(
        "board.html",
        key,
        report=report,
        created=document_date(report.generated_at),
        title=f"Report for the Board of Trustees: {report.period.label}",
        subject=f"{library().name}: social media policy cases, {report.period.label}",
    )
    if actor is None:
        from casework.services.users import system_user

        actor = system_user()
    return stamp(pdf, generated_line(actor, report.generated_at))
