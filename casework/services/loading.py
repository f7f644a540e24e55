"""Loading a case as a user may see it, and viewing one (the view recorded where it must be)."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from casework.errors import Forbidden, NotFound
from casework.extensions import db
from casework.library import library
from casework.models import Case, User
from casework.services import reads
from casework.services.access import (
    NO_ACCESS,
    CaseAccess,
    Level,
    access_roles,
    bound_visibility,
    case_access,
    person_id_of,
)
from casework.services.db import begin_write
from casework.services.definitions import workflow_of
from casework.services.tombstone import DISPOSED, refuse_disposed
from casework.workflow import Workflow
from casework.workflow.fields import CASE_NUMBER

#: What a system actor holds on any case (the deadline sweep).
SYSTEM_ACCESS = CaseAccess(Level.FULL, frozenset({"system"}))


class LoadedCase(NamedTuple):
    """A case as one user may see it: the case, the workflow it lives under, and that user's
    access to it."""

    case: Case
    workflow: Workflow
    access: CaseAccess


def normalize_number(number: Any) -> str | None:
    if not isinstance(number, str):
        return None
    number = number.strip().upper()
    return number if CASE_NUMBER.match(number) else None


def records_views(number: str) -> bool:
    """Whether looking at this case is itself recorded (decides if a read must be able to write)."""
    workflow = library().workflows.by_prefix(number.split("-", 1)[0])
    return bool(workflow and workflow.access.record_views)


def not_found(number: Any) -> NotFound:
    shown = number if isinstance(number, str) and len(number) <= 32 else "that number"
    return NotFound(f"There is no case {shown} that you can see.")


def load_case(
    actor: User,
    number: Any,
    *,
    write: bool = False,
    shows: bool = True,
    tombstones: bool = False,
) -> LoadedCase:
    """Load a case as `actor` may see it; `NotFound` whether it is unknown or hidden.

    With `write`, the case is loaded in a write transaction and locked, for changing it.
    A case whose workflow records views, loaded in full, is taken as shown to the actor: the
    request's end records the view (`reads`), whatever the answer. `shows=False` only where the
    answer can carry nothing of the case beyond its number, state and version. A disposed
    case answers `Gone` with its tombstone (after the access check), unless `tombstones`.
    """
    clean = normalize_number(number)
    workflow = library().workflows.by_prefix(clean.split("-", 1)[0]) if clean else None
    if clean is None or workflow is None:
        raise not_found(number)
    if write:
        begin_write()
    system = "system" in actor.roles
    params: dict[str, Any] = {"number": clean}
    if system:
        stmt = _load_statement(workflow.digest, None, False, write)
    else:
        person_id = person_id_of(actor) if workflow.access.subject_field else None
        stmt = _load_statement(workflow.digest, access_roles(actor), person_id is not None, write)
        params.update(user_id=actor.id, person_id=person_id)
    row = db.session.execute(stmt, params).one_or_none()
    if row is None:
        raise not_found(clean)
    case, disposed = row
    workflow = workflow_of(case)
    access = SYSTEM_ACCESS if system else case_access(actor, case, workflow)
    if access is NO_ACCESS:
        raise not_found(clean)
    if disposed and not tombstones:
        refuse_disposed(case)
    if shows and access.full and not system and workflow.access.record_views:
        reads.owe_view(actor, case)
    return LoadedCase(case, workflow, access)


def view_case(actor: User, number: Any) -> LoadedCase:
    """Open a case to show it whole to `actor`, for the web page and the API alike.

    `NotFound` whether it is unknown or hidden. A case whose workflow records views is loaded
    in a write transaction, and the view is recorded when the request ends, whatever the answer.
    """
    return load_case(actor, number, write=records_views(number))


@functools.lru_cache(maxsize=512)
def _load_statement(
    digest: str, roles: frozenset[str] | None, has_person: bool, write: bool
) -> sa.Select[Case, bool]:
    """The statement loading one case by number for a holder of `roles` (None: the system),
    with whether it was disposed of.

    Built once per workflow definition and role set; the number and the user's ids are bound
    parameters. The condition names workflows by key, so the current definition of the case's
    workflow stands for all of its versions.
    """
    # Pages and the API show the reporter's and assignee's names, not their roles.
    people = [lazyload(c).lazyload(User.role_rows) for c in (Case.reporter, Case.assignee)]
    stmt = sa.select(Case, DISPOSED).where(Case.number == sa.bindparam("number")).options(*people)
    if roles is not None:
        stmt = stmt.where(bound_visibility((digest,), roles, has_person))
    if write:
        stmt = stmt.with_for_update(of=Case).execution_options(populate_existing=True)
    return stmt


#: Users by id, without their roles (names are what is shown).
_USERS_BY_ID = (
    sa.select(User)
    .where(User.id.in_(sa.bindparam("ids", expanding=True)))
    .options(lazyload(User.role_rows))
)


def load_people(case: Case) -> None:
    """Give the case its reporter and assignee with one query at most (pages show their names),
    taking users the session already holds, such as the one signed in."""
    session = db.session()
    ids = {name: getattr(case, f"{name}_id") for name in ("reporter", "assignee")}
    found: dict[int, User] = {}
    for user_id in set(ids.values()) - {None}:
        known = session.identity_map.get(identity_key(User, user_id))
        if isinstance(known, User):
            found[user_id] = known
    missing = set(ids.values()) - set(found) - {None}
    if missing:
        rows = session.execute(_USERS_BY_ID, {"ids": list(missing)}).scalars()
        found.update((u.id, u) for u in rows)
    for name, user_id in ids.items():
        set_committed_value(case, name, found.get(user_id) if user_id is not None else None)


def require_full(access: CaseAccess) -> None:
    if not access.full:
        raise Forbidden("You can see only the receipt of this case.")
