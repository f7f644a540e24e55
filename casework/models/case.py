"""Cases, the workflow definitions they were opened under, their links and number counters."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from casework.models.base import Base, utcnow
from casework.models.person import Person
from casework.models.user import User

GENESIS_HASH = "0" * 64


class WorkflowDefinition(Base):
    """Every workflow definition the database has seen, so old cases keep their rules."""

    __tablename__ = "workflow_definitions"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int]
    #: SHA-256 of the file's text.
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Loaded only to parse a definition the running app does not already hold.
    source_text: Mapped[str] = deferred(mapped_column(sa.Text, nullable=False))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


#: The columns who-may-see-what is decided on (`services.access`). The indexes lists read carry
#: them, so a count, or the ids of a page deep in a list, come from an index alone.
VISIBILITY_COLUMNS = ("workflow_key", "reporter_id", "subject_person_id")


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        sa.Index("ix_cases_listing", "created_at", "id", *VISIBILITY_COLUMNS),
        sa.Index("ix_cases_updated", "updated_at", "id", *VISIBILITY_COLUMNS),
        sa.Index("ix_cases_workflow_listing", "workflow_key", "state", "created_at", "id"),
        sa.Index(
            "ix_cases_assignee_listing", "assignee_id", "created_at", "id", *VISIBILITY_COLUMNS
        ),
        sa.Index("ix_cases_branch", "branch", "created_at", "id", *VISIBILITY_COLUMNS),
        # What a member of staff reported, newest first (their home page and receipts).
        sa.Index(
            "ix_cases_reporter_listing",
            "reporter_id",
            "created_at",
            "id",
            "workflow_key",
            "subject_person_id",
        ),
        sa.Index("ix_cases_due", "due_at", *VISIBILITY_COLUMNS),
        sa.Index("ix_cases_visibility", *VISIBILITY_COLUMNS),
        # A person's cases (their history), and what lists leave out of the tallies for a reader
        # who is the subject of some cases of a workflow they otherwise see whole.
        sa.Index("ix_cases_subject", "subject_person_id", "workflow_key", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: PREFIX-YEAR-NNNN, unique and never reused.
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    workflow_key: Mapped[str] = mapped_column(sa.String(64))
    #: The definition the case was opened under (its digest); it keeps it while it lives.
    definition_digest: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("workflow_definitions.digest")
    )
    state: Mapped[str] = mapped_column(sa.String(64))
    #: Optimistic lock: 1 at opening, +1 at every transition and assignment.
    version: Mapped[int] = mapped_column(default=1)
    #: Intake fields as canonical JSON.
    fields_json: Mapped[str] = mapped_column(sa.Text, default="{}")
    #: Copied from the workflow's access rules, so lists can filter without reading definitions.
    confidential: Mapped[bool] = mapped_column(default=False, index=True)
    subject_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    reporter_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Copies of intake fields that lists show and filter on.
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    branch: Mapped[str | None] = mapped_column(sa.String(200))
    #: The text free-text search looks at (fields and notes).
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the current state's deadline passes; None when the state has none.
    due_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: The audit chain's head: sequence and hash of the last event, kept with every event.
    head_seq: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS_HASH)

    definition: Mapped[WorkflowDefinition] = relationship()
    subject: Mapped[Person | None] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    @property
    def fields(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.fields_json)
        return value

    def is_overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at < now


class CaseLink(Base):
    """Two related cases; stored once, with the lower id first."""

    __tablename__ = "case_links"
    __table_args__ = (
        sa.UniqueConstraint("case_a_id", "case_b_id"),
        sa.CheckConstraint("case_a_id < case_b_id", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_a_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    case_b_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class CaseCounter(Base):
    """The last number given per prefix and year."""

    __tablename__ = "case_counters"

    prefix: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class CaseTally(Base):
    """How many cases there are of each workflow, state, branch, assigned or not, open or closed,
    and with a due date or without: kept by the database's own triggers in the transaction that
    opens a case or changes any of these (migration 0016), so that a list counts these few rows,
    not a case at a time."""

    __tablename__ = "case_tallies"

    workflow_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The case's branch; empty when it has none.
    branch: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    unassigned: Mapped[bool] = mapped_column(primary_key=True)
    open: Mapped[bool] = mapped_column(primary_key=True)
    #: Whether the case has a due date (the overdue ones are counted from the others).
    due: Mapped[bool] = mapped_column(primary_key=True)
    cases: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class DeniedAuthor(Base):
    """A member of the public denied access to one of the library's accounts.

    Rows are kept when a denial ends: lifted (restored access) or past its end. An author has at
    most one denial in force per account at a time.
    """

    __tablename__ = "denied_authors"
    __table_args__ = (sa.Index("ix_denied_authors_account", "account_case_id", "author"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    author: Mapped[str] = mapped_column(sa.String(500))
    #: The moderation case that decided it.
    moderation_case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When the denial ends by itself; None: permanent (until lifted).
    until: Mapped[datetime | None]
    #: When the library looks at the denial again.
    review_on: Mapped[date | None]
    #: When and by whom access was restored, and the case that restored it.
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lifted_by_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))

    @classmethod
    def in_force(cls, now: datetime) -> sa.ColumnElement[bool]:
        """SQL condition: the denial stops the author now (not lifted, not past its end)."""
        return sa.and_(cls.lifted_at.is_(None), sa.or_(cls.until.is_(None), cls.until > now))
