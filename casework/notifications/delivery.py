"""Delivering the outbox: due messages claimed, sent, and each outcome recorded, with retries and
exponential backoff; failures kept for the admin.

The sender owns its transactions, unlike the services: it must never hold a database lock while
it talks to a mail server. It claims a batch of due messages (pushing their next attempt past a
lease, so a second host skips them), commits, sends with no transaction open, then records each
outcome in a short transaction of its own. A crash between sending and recording can send a
message twice; it never loses one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from casework.extensions import db
from casework.models import OutboxMessage, utcnow
from casework.notifications.smtp import Outcome, Sender, smtp_settings
from casework.services.db import begin_write, is_sqlite

#: How long a claimed message is left alone by other senders.
LEASE = timedelta(minutes=15)
#: The longest wait between two tries.
MAX_DELAY = timedelta(hours=4)
#: Messages claimed at a time.
BATCH = 50


@dataclass
class DeliveryReport:
    """What one run of the sender did."""

    sent: int = 0
    #: Failed this time, to be tried again later.
    retrying: int = 0
    #: Given up on (shown to the admin).
    failed: int = 0
    #: Still pending after the run.
    waiting: int = 0
    #: Why nothing could be sent at all (no server configured, bad URL, server down).
    problem: str | None = None
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"mail: {self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.waiting} waiting"
        )
        return f"{text} ({self.problem})" if self.problem else text


def backoff(attempts: int, first: timedelta) -> timedelta:
    """The wait after the Nth failed try: doubling from `first`, at most MAX_DELAY."""
    return min(first * 2 ** min(max(attempts - 1, 0), 30), MAX_DELAY)


def gather(batch: list[OutboxMessage], held: set[int]) -> list[list[OutboxMessage]]:
    """The batch as e-mails: messages that were held back (`held`, see `outbox.send_time`) go
    together, one e-mail per recipient; every other message goes alone."""
    groups: dict[tuple[int | None, str], list[OutboxMessage]] = {}
    out: list[list[OutboxMessage]] = []
    for message in batch:
        if message.id in held:
            key = (message.user_id, message.recipient)
            if key not in groups:
                groups[key] = []
                out.append(groups[key])
            groups[key].append(message)
        else:
            out.append([message])
    return out


def due_messages(now: datetime, limit: int | None = None) -> list[OutboxMessage]:
    """Pending messages whose next try is due, oldest first."""
    return list(db.session.execute(_due(now, limit)).scalars())


def _due(now: datetime, limit: int | None) -> sa.Select[OutboxMessage]:
    """The pending messages whose next try is due, oldest first."""
    return (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )


def count_pending() -> int:
    found: int = db.session.execute(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == "pending")
    ).scalar_one()
    return found


def _claim(now: datetime) -> tuple[list[OutboxMessage], set[int]]:
    """Take a batch of due messages for this sender and commit, so others leave them alone.

    Also returns the ids of the messages that were held back to be gathered (their first try
    was set after they were written).
    """
    begin_write()
    stmt = _due(now, BATCH)
    if not is_sqlite():
        stmt = stmt.with_for_update(skip_locked=True)
    batch = list(db.session.execute(stmt).scalars())
    held = {m.id for m in batch if m.attempts == 0 and m.next_attempt_at > m.created_at}
    for message in batch:
        message.attempts += 1
        message.next_attempt_at = now + LEASE
    db.session.commit()
    return batch, held


def _record(
    message: OutboxMessage, outcome: Outcome, now: datetime, report: DeliveryReport
) -> None:
    config = current_app.config
    begin_write()
    if outcome.status == "sent":
        message.status = "sent"
        message.sent_at = now
        message.last_error = ""
        report.sent += 1
    elif outcome.status == "failed" or message.attempts >= int(config["MAIL_MAX_ATTEMPTS"]):
        message.status = "failed"
        message.last_error = outcome.error
        report.failed += 1
        report.errors.append(f"{message.recipient}: {outcome.error}")
    else:
        first = timedelta(seconds=float(config["MAIL_RETRY_SECONDS"]))
        message.next_attempt_at = now + backoff(message.attempts, first)
        message.last_error = outcome.error
        report.retrying += 1
    db.session.commit()


def deliver_outbox(now: datetime | None = None) -> DeliveryReport:
    """Send every due message; commits as it goes (see the module's docstring).

    Without a configured mail server (`SMTP_URL`) nothing is tried and nothing is lost: the
    messages wait in the outbox.
    """
    now = now or utcnow()
    report = DeliveryReport()
    config = current_app.config
    url = config.get("SMTP_URL")
    if not url:
        report.problem = "no mail server is set (CASEWORK_SMTP_URL); messages wait in the outbox"
    else:
        try:
            settings = smtp_settings(str(url))
        except ValueError as exc:
            report.problem = f"CASEWORK_SMTP_URL is not usable: {exc}"
        else:
            sender = Sender(settings, str(config["MAIL_FROM"]))
            try:
                while True:
                    batch, held = _claim(now)
                    if not batch:
                        break
                    for group in gather(batch, held):
                        outcome = sender.send(group)
                        for message in group:
                            _record(message, outcome, now, report)
            finally:
                sender.close()
                db.session.rollback()
            report.problem = sender.down
    report.waiting = count_pending()
    db.session.rollback()
    return report


def requeue(message: OutboxMessage, now: datetime) -> None:
    """Put a failed message back in line, to be tried at the next sweep (the admin's retry)."""
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = now
