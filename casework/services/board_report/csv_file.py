"""The Board report as a CSV file: one block of rows per section, each headed by its name."""

from __future__ import annotations

from collections.abc import Iterable

from casework.presenting import spreadsheet
from casework.services.board_report import BoardReport


def csv_rows(report: BoardReport) -> Iterable[list[str]]:
    """The report as CSV rows: one block per section, each headed by its name."""
    yield ["Casework: report for the Board of Trustees", report.period.label]
    if "engagement" in report.sections:
        yield []
        yield [f"Complaints engaged within {report.deadline_words}"]
        yield ["Month", "Branch", "Received", "Engaged in time", "Late", "Waiting", "In time"]
        for row in report.engagement:
            yield [
                row.month,
                row.branch,
                str(row.received),
                str(row.in_time),
                str(row.late),
                str(row.waiting),
                row.share,
            ]
    if "escalations" in report.sections:
        yield []
        yield ["Escalated complaints: time to decide (business days)"]
        yield ["Month", "Escalated", "Decided", "Median", "Longest"]
        for e in report.escalations:
            yield [e.month, str(e.escalated), str(e.decided), e.median_text, e.max_text]
    if report.violations is not None:
        yield []
        yield [
            "Staff policy violation cases reported, by category and outcome (counts only; "
            f"fewer than {report.violations.least} shown as such)"
        ]
        yield ["Category", *report.violations.outcomes]
        for label, cells in report.violations.rows:
            yield [label, *cells]
    if "moderation" in report.sections:
        yield []
        yield ["Third-party posts decided, by ground"]
        yield ["Outcome", "Posts"]
        for m in report.moderation:
            yield [m.outcome, str(m.count)]


def csv_text(report: BoardReport) -> str:
    """The report as the text of a CSV file."""
    return spreadsheet.csv_text(csv_rows(report))
