"""Choosing who is told, and writing their e-mails to the outbox in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app

from casework.extensions import db
from casework.models import Case, OutboxMessage, User
from casework.models.user import ADDRESS
from casework.notifications.render import render_mail
from casework.notifications.rules import Kind, kinds
from casework.presenting.people import staff_titles
from casework.services.access import case_access
from casework.services.acting import holders_of
from casework.services.users import SYSTEM_USERNAME
from casework.workflow import Workflow

if TYPE_CHECKING:
    from casework.services.audit import AppendedEvent


def optouts(user: User) -> set[str]:
    """The kinds of notification a user has turned off."""
    return {k.strip() for k in (user.mail_optout or "").split(",") if k.strip()}


def mailable(user: User, kind: str) -> bool:
    """Whether an e-mail of this kind can and may go to the user."""
    return (
        user.active
        and user.username != SYSTEM_USERNAME
        and bool(user.email and ADDRESS.match(user.email))
        and kind not in optouts(user)
    )


def may_be_told(
    user: User, kind: str, case: Case, workflow: Workflow, roles: Iterable[str]
) -> bool:
    """Whether the user may be told about the case: mailable, and sees it in full holding one of
    `roles` on it (any role when `roles` is empty). The subject of a case never sees it, so is
    never told."""
    if not mailable(user, kind):
        return False
    access = case_access(user, case, workflow)
    if not access.full:
        return False
    wanted = set(roles)
    return not wanted or bool(access.roles & wanted)


def people_to_tell(
    kind: str,
    case: Case,
    workflow: Workflow,
    roles: Iterable[str],
    *,
    exclude: str | None = None,
) -> list[User]:
    """Users holding one of `roles` on the case (stand-ins included) who may be told of it.

    `exclude` names the user whose action it was: nobody is told of what they did themselves.
    """
    wanted = set(roles)
    holders = wanted | {
        deputy for role, deputy in workflow.access.stand_in.items() if role in wanted
    }
    if not holders:
        return []
    users = db.session.execute(
        sa.select(User)
        .where(
            holders_of(holders),
            User.active.is_(True),
            User.email.is_not(None),
        )
        .order_by(User.username)
    ).scalars()
    return [
        u for u in users if u.username != exclude and may_be_told(u, kind, case, workflow, wanted)
    ]


def queue(
    kind: Kind,
    case: Case,
    workflow: Workflow,
    recipients: Iterable[User],
    *,
    at: datetime,
    facts: dict[str, Any] | None = None,
) -> list[OutboxMessage]:
    """Write one e-mail per recipient to the outbox, rendered now, to be sent by the sweep.

    A flood is gathered: past CASEWORK_MAIL_BURST messages to one recipient within
    CASEWORK_MAIL_GATHER_MINUTES, further ones wait for the window's end and the sender sends
    them as one e-mail (see `delivery.gather`). Each message keeps its own row, so the record of
    who was told of what is unchanged.
    """
    rows = []
    for user in recipients:
        assert user.email is not None
        mail = render_mail(kind, case, workflow, user, facts or {})
        send_at = send_time(user, at)
        row = OutboxMessage(
            kind=kind.key,
            case_id=case.id,
            user_id=user.id,
            recipient=user.email,
            subject=mail.subject,
            body_text=mail.text,
            body_html=mail.html,
            status="pending",
            attempts=0,
            next_attempt_at=send_at,
            last_error="",
            created_at=at,
        )
        db.session.add(row)
        rows.append(row)
    return rows


def gather_window() -> timedelta:
    return timedelta(minutes=float(current_app.config.get("MAIL_GATHER_MINUTES") or 0))


def send_time(user: User, at: datetime) -> datetime:
    """When a new message to `user` may go: at once, unless they were sent their share of
    e-mails (CASEWORK_MAIL_BURST) within the window; then it waits for the window's end with
    every other message held for them, and goes with those as one e-mail."""
    window = gather_window()
    burst = int(current_app.config.get("MAIL_BURST") or 0)
    if window <= timedelta(0) or burst <= 0:
        return at
    held = db.session.execute(
        sa.select(sa.func.max(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.user_id == user.id,
            OutboxMessage.status == "pending",
            OutboxMessage.attempts == 0,
            OutboxMessage.next_attempt_at > at,
            OutboxMessage.created_at > at - window,
        )
    ).scalar_one()
    if held is not None:
        return max(at, held)
    recent = db.session.execute(
        sa.select(sa.func.count()).where(
            OutboxMessage.user_id == user.id,
            OutboxMessage.status != "failed",
            OutboxMessage.created_at > at - window,
        )
    ).scalar_one()
    return at if recent < burst else at + window


def actor_name(username: str) -> str:
    """How an e-mail names whoever did something: "Dana Whitfield, Library Director"."""
    return staff_titles([username])[username]


def queue_for_event(kind: Kind, case: Case, workflow: Workflow, event: AppendedEvent) -> None:
    """Queue a notification of `kind` about an event to everyone it is for."""
    recipients = people_to_tell(kind.key, case, workflow, kind.roles, exclude=event.actor)
    if not recipients:
        return
    facts = {"by": actor_name(event.actor), "automatic": event.actor == SYSTEM_USERNAME}
    queue(kind, case, workflow, recipients, at=event.at, facts=facts)


def told_about(case: Case, at: datetime) -> list[str]:
    """Usernames of those an e-mail about the case was queued for at `at` (in this transaction
    or before)."""
    rows = db.session.execute(
        sa.select(User.username)
        .join(OutboxMessage, OutboxMessage.user_id == User.id)
        .where(OutboxMessage.case_id == case.id, OutboxMessage.created_at == at)
        .order_by(User.username)
    ).scalars()
    return list(dict.fromkeys(rows))


@dataclass(frozen=True)
class OutboxRow:
    """A pending or failed message as the administrator sees it (no case content)."""

    message: OutboxMessage
    #: The kind, unless the case is confidential: even that would say what kind of case it is.
    kind_label: str


def undelivered(limit: int = 200) -> tuple[list[OutboxRow], dict[str, int]]:
    """Failed messages, then pending ones, newest first; and how many there are of each status."""
    counts = {
        status: int(n)
        for status, n in db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        )
    }
    failed_first = sa.case((OutboxMessage.status == "failed", 0), else_=1)
    rows = db.session.execute(
        sa.select(OutboxMessage, Case.confidential)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.status.in_(("pending", "failed")))
        .order_by(failed_first, OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    out = []
    known = kinds()
    for message, confidential in rows:
        kind = known.get(message.kind)
        label = "—" if confidential or kind is None else kind.label
        out.append(OutboxRow(message, label))
    return out, counts
