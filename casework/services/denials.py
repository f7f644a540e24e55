"""The accounts' denied lists as people read them: who is denied access, from when, until when,
when it is reviewed and when access was restored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from casework.extensions import db
from casework.models import Case, DeniedAuthor, User, utcnow
from casework.presenting.words import local_date
from casework.services.access import readable_by


def dates_in_words(row: DeniedAuthor) -> str:
    """ "from 3 December 2026, until 3 March 2027, review on 15 January 2027" (and when it was
    lifted), as every page, paper and e-mail write days."""
    parts = [f"from {local_date(row.created_at)}"]
    parts.append(f"until {local_date(row.until)}" if row.until else "permanent")
    if row.review_on:
        parts.append(f"review on {local_date(row.review_on)}")
    if row.lifted_at:
        parts.append(f"lifted on {local_date(row.lifted_at)}")
    return ", ".join(parts)


def already_denied(author: str, account: str, row: DeniedAuthor, decided_by: str) -> str:
    """The refusal of a second denial while one is in force, naming it and its dates."""
    return (
        f"{author} is already denied access to {account} ({decided_by}: "
        f"{dates_in_words(row)}). A denial is not added twice: restore access first if it "
        "should change."
    )


@dataclass(frozen=True)
class Denial:
    """One denial as a page lists it."""

    author: str
    #: The account it applies to, and the moderation case that decided it.
    account: str
    moderation: str
    created_at: datetime
    until: datetime | None
    review_on: date | None
    lifted_at: datetime | None
    in_force: bool
    #: Its dates in words (see `dates_in_words`).
    dates: str


def denials(
    user: User, *, accounts: Iterable[int] = (), case_id: int | None = None
) -> list[Denial]:
    """Denials on the given account cases, or decided or held by one case, in force first and then
    newest first. A denied author is a member of the public: only denials whose moderation case
    `user` may read are listed."""
    account, moderation = aliased(Case), aliased(Case)
    query = (
        sa.select(
            DeniedAuthor,
            account.number,
            moderation.number,
            DeniedAuthor.in_force(utcnow()).label("in_force"),
        )
        .join(account, account.id == DeniedAuthor.account_case_id)
        .join(moderation, moderation.id == DeniedAuthor.moderation_case_id)
        .where(DeniedAuthor.moderation_case_id.in_(readable_by(user)))
        .order_by(DeniedAuthor.created_at.desc(), DeniedAuthor.id.desc())
    )
    if case_id is not None:
        query = query.where(
            sa.or_(
                DeniedAuthor.account_case_id == case_id, DeniedAuthor.moderation_case_id == case_id
            )
        )
    else:
        query = query.where(DeniedAuthor.account_case_id.in_(list(accounts)))
    rows = [
        Denial(
            author=row.author,
            account=account_number,
            moderation=moderation_number,
            created_at=row.created_at,
            until=row.until,
            review_on=row.review_on,
            lifted_at=row.lifted_at,
            in_force=bool(in_force),
            dates=dates_in_words(row),
        )
        for row, account_number, moderation_number, in_force in db.session.execute(query)
    ]
    return sorted(rows, key=lambda d: not d.in_force)
