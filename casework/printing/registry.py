"""The account registry: the library's social media accounts, their administrators and denied
authors, and the requests not yet decided; the print recorded on every account case listed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casework.errors import Forbidden, NotFound
from casework.extensions import db
from casework.library import library
from casework.models import Case, DeniedAuthor, Event, User, utcnow
from casework.presenting.words import file_date
from casework.printing import accounts, content
from casework.printing.cache import cached, document_key, keep
from casework.printing.documents import (
    Printed,
    clock,
    document_date,
    file_name,
    generated_line,
    render_pdf,
    setting_parts,
)
from casework.printing.stamp import stamp
from casework.services.access import readable_by, visible_clause
from casework.services.activity import record_access
from casework.services.db import begin_write
from casework.services.definitions import workflow_of
from casework.services.registry import account_histories
from casework.services.watches import Standings, flags
from casework.workflow import Workflow

REGISTRY_WORKFLOW = "account"
#: Account states the registry lists: active accounts, and requests not yet decided or activated.
LISTED_STATES = ("active", "requested", "approved")


def _registry_cases(actor: User, *, write: bool) -> list[tuple[Case, Workflow]]:
    lib = library()
    if REGISTRY_WORKFLOW not in lib.workflows:
        raise NotFound("There is no account registry.")
    workflow = lib.workflow(REGISTRY_WORKFLOW)
    system = "system" in actor.roles
    if not system and not actor.roles & set(workflow.access.readers):
        raise Forbidden("Only library staff may print the account registry.")
    if write:
        begin_write()
    stmt = (
        sa.select(Case)
        .where(
            Case.workflow_key == REGISTRY_WORKFLOW,
            Case.state.in_(LISTED_STATES),
            sa.true() if system else visible_clause(actor, receipts=False),
        )
        .order_by(Case.id)
    )
    if write:
        stmt = stmt.with_for_update(of=Case).execution_options(populate_existing=True)
    return [(case, workflow_of(case)) for case in db.session.execute(stmt).scalars()]


def _registry_facts(actor: User, cases: Sequence[tuple[Case, Workflow]]) -> accounts.Registry:
    ids = [case.id for case, _ in cases]
    moderation = sa.orm.aliased(Case)
    denied: dict[int, list[tuple[DeniedAuthor, str]]] = {}
    rows = db.session.execute(
        sa.select(DeniedAuthor, moderation.number)
        .join(moderation, moderation.id == DeniedAuthor.moderation_case_id)
        .where(
            DeniedAuthor.account_case_id.in_(ids),
            DeniedAuthor.in_force(utcnow()),
            # A denied author is a member of the public: named only to those who may read the
            # post that decided it.
            sa.true() if "system" in actor.roles else moderation.id.in_(readable_by(actor)),
        )
        .order_by(DeniedAuthor.created_at, DeniedAuthor.id)
    )
    for row, number in rows:
        denied.setdefault(row.account_case_id, []).append((row, number))
    approvals: dict[int, list[tuple[str, str]]] = {}
    pending = [case.id for case, _ in cases if case.state != "active"]
    for case_id, approver, data_json in db.session.execute(
        sa.select(Event.case_id, Event.actor, Event.data_json)
        .where(Event.case_id.in_(pending), Event.action == "transition")
        .order_by(Event.case_id, Event.seq)
    ):
        role = json.loads(data_json).get("approved_as")
        if role:
            approvals.setdefault(case_id, []).append((approver, role))
    names = {str(n) for case, _ in cases for n in case.fields.get("administrators") or ()}
    users: dict[str, tuple[str, frozenset[str]]] = {}
    if names:
        found = db.session.execute(sa.select(User).where(User.username.in_(names))).scalars()
        users = {u.username: (u.display_name, u.roles) for u in found}
    now = utcnow()
    today = now.astimezone(library().tz).date()
    active = [case for case, _ in cases if case.state == "active"]
    histories = account_histories(case.id for case in active)
    standings = Standings(today)
    flagged = {
        case.id: [f"{f.watch.label}: {f.reason}" for f in flags(case, workflow_of(case), standings)]
        for case in active
    }
    return accounts.build_registry(
        cases, denied, approvals, users, clock(), histories=histories, flagged=flagged
    )


@dataclass(frozen=True)
class RegistryPlan:
    cases: tuple[tuple[Case, Workflow], ...]
    registry: accounts.Registry
    #: (case, workflow, chain head printed) for each account case listed.
    heads: tuple[tuple[Case, Workflow, dict[str, Any]], ...]
    latest: datetime | None
    key: str


def plan_registry(actor: User, cases: Sequence[tuple[Case, Workflow]]) -> RegistryPlan:
    registry = _registry_facts(actor, cases)
    heads = []
    latest: datetime | None = None
    for case, workflow in cases:
        seq, digest, at = content.content_head(case)
        heads.append((case, workflow, {"seq": seq, "hash": digest}))
        if at is not None and (latest is None or at > latest):
            latest = at
    key = document_key(
        kind="registry",
        registry=dataclasses.asdict(registry),
        heads=[[case.number, head["seq"], head["hash"]] for case, _, head in heads],
        **setting_parts(),
    )
    return RegistryPlan(tuple(cases), registry, tuple(heads), latest, key)


def render_registry(plan: RegistryPlan) -> bytes:
    return render_pdf(
        "registry.html",
        plan.key,
        registry=plan.registry,
        created=document_date(plan.latest),
        title="Social media account registry",
        subject="The library's official social media accounts, administrators and denied lists",
    )


def account_registry_pdf(actor: User, *, now: datetime | None = None) -> Printed:
    """The registry of accounts; the print is recorded on every account case it lists.

    Raises `Forbidden` for a user who may not read account cases (IT administrators).
    """
    plan = plan_registry(actor, _registry_cases(actor, write=False))
    pdf = cached(plan.key) or render_registry(plan)
    locked = plan_registry(actor, _registry_cases(actor, write=True))
    if locked.key != plan.key:
        pdf = cached(locked.key) or render_registry(locked)
    keep(locked.key, "registry", pdf)
    now = now or utcnow()
    recorded = []
    for case, workflow, head in locked.heads:
        data = {"document": "registry", "redacted": False, "chain_head": head}
        record_access(actor, case, workflow, "print", data, at=now)
        recorded.append((case.number, case.head_seq))
    return Printed(
        stamp(pdf, generated_line(actor, now)),
        file_name("account-registry", file_date(now)),
        tuple(recorded),
    )
