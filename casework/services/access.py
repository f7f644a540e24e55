"""Who may see and act on which case.

The rules live in each workflow's `[access]` table. They are applied twice, and the two must agree:
as a SQL condition (lists, counts, search, and loading one case, so an unknown case and a hidden
one take the same path to "not found"), and in Python for the case at hand (the user's roles on
it, e.g. a trustee standing in for a director who is the subject).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casework.extensions import db
from casework.library import library
from casework.models import Case, Person, User, UserRole
from casework.workflow import Workflow


class Level(Enum):
    NONE = "none"
    #: Number, date and state only (the reporter of a confidential case).
    RECEIPT = "receipt"
    FULL = "full"


@dataclass(frozen=True)
class CaseAccess:
    level: Level
    #: The user's roles on this case, stand-in roles included.
    roles: frozenset[str]

    @property
    def full(self) -> bool:
        return self.level is Level.FULL


NO_ACCESS = CaseAccess(Level.NONE, frozenset())


_PERSON_ID = "_casework_person_id"


def person_id_of(user: User) -> int | None:
    """The person record of a user, if any (to know when they are a case's subject).

    Looked up once per loaded user object, which lives as long as the request.
    """
    if _PERSON_ID not in user.__dict__:
        user.__dict__[_PERSON_ID] = db.session.execute(
            sa.select(Person.id).where(Person.user_id == user.id)
        ).scalar_one_or_none()
    found: int | None = user.__dict__[_PERSON_ID]
    return found


def remember_person_id(user: User, person_id: int | None) -> None:
    """Keep the person record of a user loaded with it, so `person_id_of` need not look."""
    user.__dict__[_PERSON_ID] = person_id


def subject_holds(case: Case, role: str) -> bool:
    return person_holds(case.subject_person_id, role)


def person_holds(person_id: int | None, role: str) -> bool:
    """Whether the person's own user account holds `role`."""
    if person_id is None:
        return False
    found = db.session.execute(
        sa.select(sa.literal(1))
        .select_from(Person)
        .join(UserRole, UserRole.user_id == Person.user_id)
        .where(Person.id == person_id, UserRole.role == role)
    ).first()
    return found is not None


#: Marks, among the roles visibility is built for, a role held only through an acting term.
ACTING = "acting:"


def access_roles(user: User) -> frozenset[str]:
    """The user's roles as visibility needs them: each role held only through an acting term
    is marked as well (`ACTING`), since it does not reach cases about holders of that role."""
    return user.roles | {ACTING + r for r in user.acting_roles}


def reader_roles(workflow: Workflow, subject_person_id: int | None) -> tuple[str, ...]:
    """The roles that will read a case of `workflow` about this person: its readers, each role
    the subject holds replaced by the role that stands in for it (the trustees for a Director)."""
    out: list[str] = []
    for role in workflow.access.readers:
        deputy = workflow.access.stand_in.get(role)
        chosen = deputy if deputy and person_holds(subject_person_id, role) else role
        if chosen not in out:
            out.append(chosen)
    return tuple(out)


def case_access(
    user: User, case: Case, workflow: Workflow, person_id: int | None = None
) -> CaseAccess:
    """What `user` may do with `case`; `person_id` is the user's person record if known."""
    rules = workflow.access
    roles = user.roles
    if rules.subject_field is not None and case.subject_person_id is not None:
        if person_id is None:
            person_id = person_id_of(user)
        if person_id is not None and case.subject_person_id == person_id:
            return NO_ACCESS
    on_case = set(roles)
    for role, deputy in rules.stand_in.items():
        if deputy in roles and subject_holds(case, role):
            on_case.add(role)
        # Whoever holds a role only while acting for its holder (named by them) does not take
        # that role on a case about one of its holders: its deputies do.
        elif role in user.acting_roles and subject_holds(case, role):
            on_case.discard(role)
    if on_case & set(rules.readers):
        return CaseAccess(Level.FULL, frozenset(on_case))
    if rules.reporter_reads and case.reporter_id == user.id:
        return CaseAccess(Level.FULL, frozenset(on_case))
    if rules.confidential and rules.reporter_receipt and case.reporter_id == user.id:
        return CaseAccess(Level.RECEIPT, frozenset())
    return NO_ACCESS


def may_work(access: CaseAccess, workflow: Workflow) -> bool:
    """Whether the holder of `access` works cases of this kind: sees the case in full and may
    take some step of the workflow (in some state). Only they are given cases."""
    return access.full and any(access.roles & set(t.roles) for t in workflow.transitions.values())


def visible_clause(
    user: User,
    person_id: int | None = None,
    *,
    receipts: bool = True,
    workflows: Iterable[Workflow] | None = None,
) -> ColumnElement[bool]:
    """SQL condition on `Case`: cases `user` may see in full and, with `receipts`, as receipts.

    `workflows` narrows the condition to cases of those workflows.
    """
    parts = visible_parts(user, person_id, receipts=receipts, workflows=workflows)
    return sa.or_(*parts) if parts else sa.false()


def visible_parts(
    user: User,
    person_id: int | None = None,
    *,
    receipts: bool = True,
    workflows: Iterable[Workflow] | None = None,
) -> list[ColumnElement[bool]]:
    """`visible_clause` as conditions no case meets two of (see `visibility_parts`)."""
    return visible_reach(user, person_id, receipts=receipts, workflows=workflows).parts()


def visible_reach(
    user: User,
    person_id: int | None = None,
    *,
    receipts: bool = True,
    workflows: Iterable[Workflow] | None = None,
) -> Reach:
    """What `user` may see, as a `Reach`."""
    chosen = list(library().workflows if workflows is None else workflows)
    if person_id is None and any(w.access.subject_field for w in chosen):
        person_id = person_id_of(user)
    return reach(access_roles(user), user.id, person_id, chosen, receipts=receipts)


@functools.lru_cache(maxsize=512)
def bound_visibility(
    digests: tuple[str, ...], roles: frozenset[str], has_person: bool, receipts: bool = True
) -> ColumnElement[bool]:
    """`visibility` for holders of `roles` of cases of these workflow definitions, with the
    user's ids as the bound parameters `user_id` and (with `has_person`) `person_id`.

    Built once per set of roles, so statements that every page runs need not build it again.
    """
    workflows = [library().workflows.definition(d, _loaded_only) for d in digests]
    person: Any = sa.bindparam("person_id") if has_person else None
    return visibility(roles, sa.bindparam("user_id"), person, workflows, receipts=receipts)


def _loaded_only() -> str:
    raise KeyError("definitions named here are those already loaded")


def visibility(
    roles: frozenset[str],
    user_id: Any,
    person_id: Any,
    workflows: Iterable[Workflow],
    *,
    receipts: bool = True,
) -> ColumnElement[bool]:
    """The visibility condition for a holder of `roles`; the ids may be values or bind parameters.

    `person_id` is the holder's person record (None when they have none).
    """
    parts = visibility_parts(roles, user_id, person_id, workflows, receipts=receipts)
    return sa.or_(*parts) if parts else sa.false()


def visibility_parts(
    roles: frozenset[str],
    user_id: Any,
    person_id: Any,
    workflows: Iterable[Workflow],
    *,
    receipts: bool = True,
) -> list[ColumnElement[bool]]:
    """`visibility` as conditions no case meets two of (see `Reach.parts`)."""
    return reach(roles, user_id, person_id, workflows, receipts=receipts).parts()


@dataclass(frozen=True)
class Reach:
    """What a holder of some roles may see, in three kinds of part that no case meets two of:
    workflows seen whole, workflows seen whole but for the cases about the holder, and
    narrower conditions (what they reported, what they stand in for).

    Lists count the first two kinds from the tallies the database keeps (`CaseTally`), and
    only the narrower parts case by case.
    """

    whole: tuple[str, ...]
    #: Workflows seen whole except the cases whose subject is `person_id`.
    but_own: tuple[str, ...]
    person_id: Any
    narrower: tuple[ColumnElement[bool], ...]

    def parts(self) -> list[ColumnElement[bool]]:
        """The reach as SQL conditions on `Case`: workflows seen whole first, in one `IN` an
        index answers; a count is the sum of the counts of the parts, each an index range."""
        parts: list[ColumnElement[bool]] = []
        if len(self.whole) == 1:  # as when one case is loaded: plain SQL, no list to expand
            parts.append(Case.workflow_key == self.whole[0])
        elif self.whole:
            parts.append(Case.workflow_key.in_(self.whole))
        for key in self.but_own:
            parts.append(sa.and_(Case.workflow_key == key, not_about(self.person_id)))
        return parts + list(self.narrower)


def not_about(person_id: Any) -> ColumnElement[bool]:
    """SQL condition on `Case`: not a case whose subject is `person_id`."""
    return sa.or_(Case.subject_person_id.is_(None), Case.subject_person_id != person_id)


def reach(
    roles: frozenset[str],
    user_id: Any,
    person_id: Any,
    workflows: Iterable[Workflow],
    *,
    receipts: bool = True,
) -> Reach:
    """The `Reach` of a holder of `roles`; the ids may be values or bind parameters.

    `person_id` is the holder's person record (None when they have none).
    """
    narrower: list[ColumnElement[bool]] = []
    whole: list[str] = []
    but_own: list[str] = []
    for workflow in workflows:
        rules = workflow.access
        in_workflow = Case.workflow_key == workflow.key
        subject_rule = rules.subject_field is not None and person_id is not None
        not_subject = not_about(person_id) if subject_rule else sa.true()
        readers = roles & set(rules.readers)
        # Reader roles held only while acting, that have deputies for cases about their holders.
        acting = {r for r in readers if ACTING + r in roles and r in rules.stand_in}
        if readers and acting == readers:
            holders = (
                sa.select(Person.id)
                .join(UserRole, UserRole.user_id == Person.user_id)
                .where(UserRole.role.in_(sorted(acting)))
            )
            not_about_holders = sa.or_(
                Case.subject_person_id.is_(None), Case.subject_person_id.not_in(holders)
            )
            narrower.append(sa.and_(in_workflow, not_subject, not_about_holders))
            # What they reported about a holder stays theirs to see, as it would be unnamed.
            if rules.reporter_reads or (receipts and rules.confidential and rules.reporter_receipt):
                narrower.append(
                    sa.and_(
                        in_workflow,
                        not_subject,
                        Case.subject_person_id.in_(holders),
                        Case.reporter_id == user_id,
                    )
                )
            continue
        if readers:
            (but_own if subject_rule else whole).append(workflow.key)
            continue
        clauses: list[ColumnElement[bool]] = []
        for role, deputy in rules.stand_in.items():
            if deputy in roles and role in rules.readers:
                subjects_with_role = (
                    sa.select(Person.id)
                    .join(UserRole, UserRole.user_id == Person.user_id)
                    .where(UserRole.role == role)
                )
                clauses.append(
                    sa.and_(
                        in_workflow, not_subject, Case.subject_person_id.in_(subjects_with_role)
                    )
                )
        if rules.reporter_reads:
            clauses.append(sa.and_(in_workflow, not_subject, Case.reporter_id == user_id))
        if receipts and rules.confidential and rules.reporter_receipt:
            clauses.append(sa.and_(in_workflow, not_subject, Case.reporter_id == user_id))
        if clauses:
            narrower.append(sa.or_(*clauses) if len(clauses) > 1 else clauses[0])
    return Reach(tuple(whole), tuple(but_own), person_id, tuple(narrower))


def readable_by(user: User) -> sa.Select[Any]:
    """The ids of the cases `user` may read in full, as a subquery to filter other rows by."""
    return sa.select(Case.id).where(visible_clause(user, receipts=False))
