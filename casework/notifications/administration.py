"""Telling the Director, HR and the trustees of every change to a user account, at once.

These e-mails cannot be turned off: they are how the people who read personnel cases learn
that somebody was given, or took, the roles that read them. The account's owner is told too,
and when an e-mail address changes, the old address as well.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from werkzeug.routing import BuildError

from casework.extensions import db
from casework.library import library
from casework.models import AdministrationEvent, OutboxMessage, User, UserRole
from casework.models.user import ADDRESS
from casework.notifications.render import page_link
from casework.presenting.words import local_time

#: The outbox kind of these messages.
KIND = "administration"
TRAIL_ENDPOINT = "administration.trail"


def active_overseers() -> list[User]:
    """Active users holding the Director's, HR's or a trustee's role."""
    from casework.services.administration_reading import OVERSEERS

    return list(
        db.session.execute(
            sa.select(User)
            .where(
                User.id.in_(sa.select(UserRole.user_id).where(UserRole.role.in_(OVERSEERS))),
                User.active.is_(True),
                User.email.is_not(None),
            )
            .order_by(User.username)
        ).scalars()
    )


def tell_overseers(
    event: AdministrationEvent,
    subject: User,
    *,
    also_tell: tuple[str, ...] = (),
    overseers: bool = True,
) -> list[OutboxMessage]:
    """Queue one e-mail about `event` to each overseer (unless `overseers` is False), the
    account's owner and `also_tell`."""
    recipients: dict[str, User | None] = {}
    for user in active_overseers() if overseers else []:
        if user.email and ADDRESS.match(user.email):
            recipients.setdefault(user.email.lower(), user)
    if subject.email and ADDRESS.match(subject.email):
        recipients.setdefault(subject.email.lower(), subject)
    for address in also_tell:
        if address and ADDRESS.match(address):
            recipients.setdefault(address.lower(), None)
    if not recipients:
        return []
    from casework.services.administration_reading import ACTIONS, describe

    try:
        link = page_link(TRAIL_ENDPOINT)
    except BuildError:  # the pages are not loaded (a bare app): the address below BASE_URL
        link = str(current_app.config["BASE_URL"]).rstrip("/") + "/administration-trail"
    context = {
        "library": library().name,
        "what": describe(event.action, event.subject, event.data),
        "actor": event.actor,
        "when": local_time(event.at),
        "seq": event.seq,
        "link": link,
    }
    subject_line = f"Casework administration: {ACTIONS[event.action]} ({event.subject})"
    env = current_app.jinja_env
    rows = []
    for address, told in recipients.items():
        named = {**context, "recipient": told.name if told is not None else "colleague"}
        row = OutboxMessage(
            kind=KIND,
            case_id=None,
            user_id=told.id if told is not None else None,
            recipient=address,
            subject=subject_line[:300],
            body_text=env.get_template("mail/administration.txt").render(named),
            body_html=env.get_template("mail/administration.html").render(named),
            status="pending",
            attempts=0,
            next_attempt_at=event.at,
            last_error="",
            created_at=event.at,
        )
        db.session.add(row)
        rows.append(row)
    return rows
