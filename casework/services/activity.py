"""Around a case besides transitions: notes, assignment, links, the reporter's history and
the records of who read, printed or exported it (evidence files: `evidence`)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from casework.errors import Forbidden, InvalidFields, NotFound
from casework.extensions import db
from casework.library import library
from casework.models import Case, CaseLink, Event, User, utcnow
from casework.services.access import (
    CaseAccess,
    access_roles,
    bound_visibility,
    case_access,
    may_work,
    person_id_of,
    visible_clause,
)
from casework.services.audit import append_event
from casework.services.firing import store_link
from casework.services.loading import LoadedCase, load_case, require_full
from casework.workflow import Workflow
from casework.workflow.fields import clean_text

#: The longest note, unless CASEWORK_NOTE_MAX_CHARS says otherwise.
NOTE_MAX = 4_000
#: What a stored note adds to its text: `{"text":""}`.
_NOTE_JSON_OVERHEAD = 11


def note_max() -> int:
    return int(current_app.config.get("NOTE_MAX_CHARS") or NOTE_MAX)


def add_note(actor: User, loaded: LoadedCase, text: Any, *, now: datetime | None = None) -> None:
    """Append a note to the case's trail (notes are never edited or removed).

    Raises `InvalidFields` for a note that is empty or too long, or that would take the case
    past the notes it may hold (CASEWORK_NOTES_PER_CASE notes, CASEWORK_NOTE_TEXT_PER_CASE
    characters in all: what a record can carry and still print within the render limit).
    """
    case, _, access = loaded
    require_full(access)
    most = note_max()
    try:
        clean = clean_text(text, multiline=True, max_length=most)
    except ValueError as exc:
        raise InvalidFields(
            {
                "text": [
                    f"{exc} A note holds at most {most:,} characters; attach longer text as "
                    "a plain-text evidence file."
                ]
            }
        ) from None
    if not clean:
        raise InvalidFields({"text": ["Write the note."]})
    _check_case_notes(case, len(clean))
    now = now or utcnow()
    append_event(case, actor.username, "note", {"text": clean}, at=now, changes={"updated_at": now})


def _check_case_notes(case: Case, adding: int) -> None:
    """Refuse a note that would take the case past the notes one record can carry."""
    config = current_app.config
    most_notes = int(config["NOTES_PER_CASE"])
    most_text = int(config["NOTE_TEXT_PER_CASE"])
    notes, stored = db.session.execute(
        sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(sa.func.length(Event.data_json)), 0)
        ).where(Event.case_id == case.id, Event.action == "note")
    ).one()
    text = int(stored) - _NOTE_JSON_OVERHEAD * int(notes)
    why = (
        "so that its printed record stays complete and still prints; attach further material "
        "as a plain-text evidence file, or open a linked case."
    )
    if notes >= most_notes:
        raise InvalidFields(
            {"text": [f"This case holds {notes:,} notes, the most one case may hold, {why}"]}
        )
    if text + adding > most_text:
        raise InvalidFields(
            {
                "text": [
                    f"This case's notes hold {text:,} characters; with this one they would pass "
                    f"{most_text:,}, the most one case may hold, {why}"
                ]
            }
        )


def may_manage(access: CaseAccess, workflow: Workflow) -> bool:
    """Whether a user may assign and link the case: anyone who may act on it in some state."""
    return may_work(access, workflow)


def assignable_users(case: Case, workflow: Workflow) -> list[User]:
    """Active users who may work the case (see it in full and take some step of its workflow):
    the only ones it is offered to."""
    users = db.session.execute(
        sa.select(User)
        .where(User.active.is_(True), User.username != "system")
        .order_by(User.display_name, User.username)
    ).scalars()
    return [u for u in users if may_work(case_access(u, case, workflow), workflow)]


def assign(actor: User, loaded: LoadedCase, username: Any, *, now: datetime | None = None) -> None:
    """Give the case to a user who can see it in full (None or "" to unassign)."""
    case, workflow, access = loaded
    require_full(access)
    if not may_manage(access, workflow):
        raise Forbidden("Your role may not assign this case.")
    assignee = None
    if username not in (None, ""):
        if not isinstance(username, str) or len(username) > 64 or "\x00" in username:
            raise InvalidFields({"username": ["Must be a user name."]})
        assignee = db.session.execute(
            sa.select(User).where(User.username == username.strip().lower(), User.active.is_(True))
        ).scalar_one_or_none()
        if assignee is None:
            raise InvalidFields({"username": ["No active user has that name."]})
        if not case_access(assignee, case, workflow).full:
            raise InvalidFields({"username": [f"{assignee.username} may not see this case."]})
    before = case.assignee.username if case.assignee else None
    after = assignee.username if assignee else None
    if before == after:
        return
    now = now or utcnow()
    changes = {
        "assignee_id": assignee.id if assignee else None,
        "version": case.version + 1,
        "updated_at": now,
    }
    append_event(
        case, actor.username, "assign", {"from": before, "to": after}, at=now, changes=changes
    )
    set_committed_value(case, "assignee", assignee)


def link(actor: User, loaded: LoadedCase, number: Any, *, now: datetime | None = None) -> Case:
    """Link two cases the actor can see; both trails record it. Returns the other case."""
    case, workflow, access = loaded
    require_full(access)
    if not may_manage(access, workflow):
        raise Forbidden("Your role may not link this case.")
    try:
        other, _, other_access = load_case(actor, number, write=True)
    except NotFound:
        raise InvalidFields(
            {"number": ["There is no case with that number that you can see."]}
        ) from None
    if not other_access.full:
        raise InvalidFields({"number": ["There is no case with that number that you can see."]})
    if other.id == case.id:
        raise InvalidFields({"number": ["A case cannot be linked to itself."]})
    if other.confidential != case.confidential:
        raise InvalidFields(
            {"number": ["A confidential case can only be linked to other confidential cases."]}
        )
    low, high = sorted((case.id, other.id))
    exists = db.session.execute(
        sa.select(CaseLink.id).where(CaseLink.case_a_id == low, CaseLink.case_b_id == high)
    ).first()
    if exists:
        return other
    now = now or utcnow()
    store_link(case, other, actor, now)
    append_event(
        case, actor.username, "link", {"case": other.number}, at=now, changes={"updated_at": now}
    )
    append_event(
        other, actor.username, "link", {"case": case.number}, at=now, changes={"updated_at": now}
    )
    return other


#: How many of a reporter's other cases a case page lists.
REPORTER_HISTORY = 20


def reporter_history(actor: User, case: Case) -> list[Case]:
    """The other cases whoever opened `case` has opened, newest first, as far as `actor` may see
    them in full (a case they may not see is never named or counted)."""
    return list(
        db.session.execute(
            sa.select(Case)
            .where(
                Case.reporter_id == case.reporter_id,
                Case.id != case.id,
                visible_clause(actor, receipts=False),
            )
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(REPORTER_HISTORY)
        ).scalars()
    )


def linked_numbers(actor: User, case: Case) -> list[str]:
    """Numbers of the cases linked to `case` that `actor` can see in full (a case they see only
    as a receipt, or not at all, is left out: never named, numbered or counted)."""
    person_id = person_id_of(actor)
    digests = tuple(w.digest for w in library().workflows)
    statement = _linked_statement(digests, access_roles(actor), person_id is not None)
    rows = db.session.execute(
        statement, {"case_id": case.id, "user_id": actor.id, "person_id": person_id}
    )
    return list(rows.scalars())


@functools.lru_cache(maxsize=256)
def _linked_statement(
    digests: tuple[str, ...], roles: frozenset[str], has_person: bool
) -> sa.CompoundSelect[str]:
    """The linked cases' numbers, for holders of `roles` under these workflow definitions.

    Every case page and case in the API asks, so the statement (with its visibility rule) is
    built once per set of roles; the case and the user are bound parameters. Each side of a
    link is read from its own index and joined to its case by key: a plan the database takes
    even without statistics (asked as one condition, SQLite without them reads every visible
    case and looks each one up among the links).
    """
    case_id: Any = sa.bindparam("case_id")
    visible = bound_visibility(digests, roles, has_person, receipts=False)
    sides = [
        sa.select(Case.number).join(CaseLink, Case.id == other).where(mine == case_id, visible)
        for mine, other in (
            (CaseLink.case_a_id, CaseLink.case_b_id),
            (CaseLink.case_b_id, CaseLink.case_a_id),
        )
    ]
    return sa.union_all(*sides).order_by(sa.column("number"))


# --- access records ---------------------------------------------------------------------------


def record_access(
    actor: User,
    case: Case,
    workflow: Workflow,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """Record a view, print, export or download in the case's trail.

    Views are recorded for workflows that ask for it (confidential ones); prints, exports and
    downloads always are. The caller loaded the case for writing. `at` is when it happened
    (a print passes the time it stamps on its pages).
    """
    if action == "view" and not workflow.access.record_views:
        return
    append_event(case, actor.username, action, data or {}, at=at)
