"""The Board's monthly report: complaints engaged in time, escalations decided, violation cases
by category and outcome (counts only), and third-party posts by ground.

This module assembles the report a user is shown (which sections, by the workflows their roles
read) and keeps who read it; the months it covers, its figures and its CSV are in the modules
beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from casework.errors import NotFound
from casework.extensions import db
from casework.library import library
from casework.models import ReportRead, User, utcnow
from casework.services.access import person_id_of
from casework.services.board_report.figures import (
    EngagementRow,
    EscalationRow,
    ModerationRow,
    ViolationTable,
    engagement,
    escalations,
    moderation,
    violations,
)
from casework.services.board_report.months import Period
from casework.services.db import begin_write
from casework.workflow import Workflow

REPORT = "board_monthly"
#: The sections, in the order the report shows them, and the workflow each counts.
SECTIONS = {
    "engagement": "complaint",
    "escalations": "complaint",
    "violations": "violation",
    "moderation": "moderation",
}
#: The report is the Board's: the Director (who presents it) and the trustees see every section.
BOARD = frozenset({"director", "trustee"})


@dataclass
class BoardReport:
    period: Period
    sections: list[str]
    generated_at: datetime
    deadline_words: str = "2 business days"
    engagement: list[EngagementRow] = field(default_factory=list)
    escalations: list[EscalationRow] = field(default_factory=list)
    violations: ViolationTable | None = None
    moderation: list[ModerationRow] = field(default_factory=list)


def _reads(roles: frozenset[str], workflow: Workflow) -> bool:
    rules = workflow.access
    return bool(roles & (set(rules.readers) | set(rules.stand_in.values())))


def sections_for(user: User) -> list[str]:
    """The sections `user` is shown: the Board all; others those whose cases their roles read.

    A section about violation cases goes only to the roles the violation workflow names as its
    readers or stand-ins (the Director, HR, the trustees), so nobody else learns they exist.
    """
    lib = library()
    roles = user.roles
    everything = "system" in roles  # the command line, run by whoever runs the server
    shown = []
    for section, key in SECTIONS.items():
        if key not in lib.workflows:
            continue
        workflow = lib.workflow(key)
        board = bool(roles & BOARD) and not workflow.access.confidential
        if everything or board or _reads(roles, workflow):
            shown.append(section)
    return shown


def require_sections(user: User) -> list[str]:
    """`sections_for`, or `NotFound` for a user the report can show nothing."""
    shown = sections_for(user)
    if not shown:
        raise NotFound("There is no such page.")
    return shown


def build_report(user: User, period: Period, *, now: datetime | None = None) -> BoardReport:
    """The report for `user` over `period`: only the sections `user` is shown.

    Raises `NotFound` for a user it can show nothing.
    """
    now = now or utcnow()
    shown = require_sections(user)
    report = BoardReport(period, shown, now)
    if "engagement" in shown:
        report.engagement, report.deadline_words = engagement(period, now)
    if "escalations" in shown:
        report.escalations = escalations(period)
    if "violations" in shown:
        report.violations = violations(period, person_id_of(user))
    if "moderation" in shown:
        report.moderation = moderation(period)
    return report


def record_read(reader: User | str, report: BoardReport, form: str, *, at: datetime) -> None:
    """Keep who read the report, when, which months and sections, and in what form."""
    name = reader.username if isinstance(reader, User) else reader
    begin_write()
    db.session.add(
        ReportRead(
            at=at,
            reader=name,
            report=REPORT,
            first_month=report.period.first_key,
            last_month=report.period.last_key,
            format=form,
            sections=",".join(report.sections),
        )
    )


def reads(limit: int = 20) -> list[ReportRead]:
    """The latest readings of the report, newest first."""
    return list(
        db.session.execute(
            sa.select(ReportRead).order_by(ReportRead.at.desc(), ReportRead.id.desc()).limit(limit)
        ).scalars()
    )
