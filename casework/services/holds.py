"""Legal holds: a case under one may not be disposed of, whatever its retention period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from casework.errors import Forbidden, InvalidFields, NotFound
from casework.extensions import db
from casework.models import HOLD_KINDS, Case, LegalHold, User, utcnow
from casework.services.access import CaseAccess, visible_clause
from casework.services.audit import append_event
from casework.services.loading import LoadedCase
from casework.workflow.fields import clean_text

#: The roles that place and lift holds on a case (a trustee holds `director` on a case about
#: the Director: `access.case_access` gives stand-in roles).
HOLD_ROLES = frozenset({"director", "hr"})


def may_hold(access: CaseAccess) -> bool:
    return access.full and bool(access.roles & HOLD_ROLES)


def holds_in_force(case_id: int) -> list[LegalHold]:
    return list(
        db.session.execute(
            sa.select(LegalHold)
            .where(LegalHold.case_id == case_id, LegalHold.lifted_at.is_(None))
            .order_by(LegalHold.placed_at, LegalHold.id)
        ).scalars()
    )


#: Every hold of one case, the newest first, with who placed and lifted each (built once:
#: every case page and every case the API returns asks).
_CASE_HOLDS = (
    sa.select(LegalHold)
    .where(LegalHold.case_id == sa.bindparam("case_id"))
    .options(selectinload(LegalHold.placed_by), selectinload(LegalHold.lifted_by))
    .order_by(LegalHold.placed_at.desc(), LegalHold.id.desc())
)


def case_holds(case_id: int) -> list[LegalHold]:
    """Every hold the case has had, the newest first."""
    return list(db.session.execute(_CASE_HOLDS, {"case_id": case_id}).scalars())


def on_hold() -> sa.ColumnElement[bool]:
    """SQL condition on `Case`: a hold is in force."""
    return sa.exists().where(LegalHold.case_id == Case.id, LegalHold.lifted_at.is_(None))


def _reason(value: Any) -> str:
    try:
        clean = clean_text(value, multiline=True, max_length=2000)
    except ValueError as exc:
        raise InvalidFields({"reason": [str(exc)]}) from None
    if not clean:
        raise InvalidFields({"reason": ["Say why (the matter, its reference)."]})
    return clean


def place_hold(
    actor: User,
    loaded: LoadedCase,
    kind: Any,
    reason: Any,
    *,
    now: datetime | None = None,
) -> LegalHold:
    """Place a hold on a case the caller holds for writing; an event in its trail records it."""
    case, _, access = loaded
    if not may_hold(access):
        raise Forbidden("Only the Library Director or Human Resources place a legal hold.")
    problems: dict[str, list[str]] = {}
    if kind not in HOLD_KINDS:
        problems["kind"] = [f"Choose one of: {', '.join(HOLD_KINDS.values())}."]
    try:
        clean = _reason(reason)
    except InvalidFields as exc:
        problems.update(exc.fields)
    if problems:
        raise InvalidFields(problems)
    now = now or utcnow()
    hold = LegalHold(case_id=case.id, kind=kind, reason=clean, placed_by_id=actor.id, placed_at=now)
    db.session.add(hold)
    db.session.flush()
    append_event(
        case,
        actor.username,
        "hold",
        {"hold": hold.id, "kind": kind, "reason": clean},
        at=now,
        changes={"updated_at": now},
    )
    return hold


def lift_hold(
    actor: User,
    loaded: LoadedCase,
    hold_id: Any,
    reason: Any,
    *,
    now: datetime | None = None,
) -> LegalHold:
    """Lift a hold in force; an event in the case's trail records it."""
    case, _, access = loaded
    if not may_hold(access):
        raise Forbidden("Only the Library Director or Human Resources lift a legal hold.")
    hold = next((h for h in holds_in_force(case.id) if str(h.id) == str(hold_id)), None)
    if hold is None:
        raise NotFound("The case has no such hold in force.")
    clean = _reason(reason)
    now = now or utcnow()
    hold.lifted_at = now
    hold.lifted_by_id = actor.id
    hold.lift_reason = clean
    db.session.flush()
    append_event(
        case,
        actor.username,
        "hold_lifted",
        {"hold": hold.id, "kind": hold.kind, "reason": clean},
        at=now,
        changes={"updated_at": now},
    )
    return hold


def visible_holds(user: User, *, in_force_only: bool = False) -> list[tuple[LegalHold, Case]]:
    """Every hold on a case the user may see in full, the newest first."""
    stmt = (
        sa.select(LegalHold, Case)
        .join(Case, Case.id == LegalHold.case_id)
        .where(visible_clause(user, receipts=False))
        .options(selectinload(LegalHold.placed_by), selectinload(LegalHold.lifted_by))
        .order_by(LegalHold.placed_at.desc(), LegalHold.id.desc())
    )
    if in_force_only:
        stmt = stmt.where(LegalHold.lifted_at.is_(None))
    return [(hold, case) for hold, case in db.session.execute(stmt).all()]
