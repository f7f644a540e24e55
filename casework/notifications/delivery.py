"""Sending the outbox over SMTP, with retries and exponential backoff; failures kept for the admin.

The sender owns its transactions, unlike the services: it must never hold a database lock while
it talks to a mail server. It claims a batch of due messages (pushing their next attempt past a
lease, so a second host skips them), commits, sends with no transaction open, then records each
outcome in a short transaction of its own. A crash between sending and recording can send a
message twice; it never loses one.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from flask import current_app

from casework.extensions import db
from casework.models import OutboxMessage, utcnow
from casework.services.db import begin_write, is_sqlite

#: How long a claimed message is left alone by other senders.
LEASE = timedelta(minutes=15)
#: The longest wait between two tries.
MAX_DELAY = timedelta(hours=4)
#: Messages claimed at a time.
BATCH = 50
ERROR_MAX = 1000


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: parsed from `smtp://user:pass@host:587?starttls=1`."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    #: Implicit TLS from the first byte (`smtps://`, usually port 465).
    tls: bool = False
    timeout: float = 20.0

    def describe(self) -> str:
        """The settings as the admin may see them (no password)."""
        scheme = "smtps" if self.tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        extra = " with STARTTLS" if self.starttls else ""
        return f"{scheme}://{user}{self.host}:{self.port}{extra}"


TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def smtp_settings(url: str) -> SmtpSettings:
    """Parse an SMTP URL; `ValueError` says what is wrong with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("it must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("it names no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("its port is not a number") from None
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(query) - {"starttls", "timeout"}
    if unknown:
        raise ValueError(f"unknown option {sorted(unknown)[0]!r} (use starttls, timeout)")
    starttls_text = query.get("starttls", "0").lower()
    if starttls_text not in TRUE | FALSE:
        raise ValueError("starttls must be 1 or 0")
    try:
        timeout = float(query.get("timeout", "20"))
    except ValueError:
        raise ValueError("timeout must be a number of seconds") from None
    if not 0 < timeout <= 600:
        raise ValueError("timeout must be between 0 and 600 seconds")
    tls = parts.scheme == "smtps"
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=starttls_text in TRUE and not tls,
        tls=tls,
        timeout=timeout,
    )


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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()]
        text = "recipient refused: " + "; ".join(parts)
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"the mail server answered {exc.smtp_code} {_text(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        text = f"the mail server does not support it: {exc}"
    elif isinstance(exc, ssl.SSLError):
        text = f"TLS failed: {exc}"
    elif isinstance(exc, OSError):
        text = f"could not reach the mail server: {exc.strerror or exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:ERROR_MAX]


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Outcome:
    #: sent, retry or failed.
    status: str
    error: str = ""


SENT = Outcome("sent")


def build_email(message: OutboxMessage, from_header: str) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = from_header
    email["To"] = message.recipient
    email["Date"] = format_datetime(message.created_at)
    domain = parseaddr(from_header)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = make_msgid(idstring=f"casework.{message.id}", domain=domain)
    # RFC 3834: no out-of-office replies to a machine.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


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


def digest_email(messages: list[OutboxMessage], from_header: str) -> EmailMessage:
    """Several messages to one recipient as one e-mail: each one's subject and text in turn.

    Each part is the message as it would have gone alone, so an e-mail about a confidential case
    still says nothing of it.
    """
    first = messages[0]
    email = EmailMessage()
    email["Subject"] = f"Casework: {len(messages)} notifications"
    email["From"] = from_header
    email["To"] = first.recipient
    email["Date"] = format_datetime(messages[-1].created_at)
    domain = parseaddr(from_header)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = make_msgid(idstring=f"casework.{first.id}.{len(messages)}", domain=domain)
    email["Auto-Submitted"] = "auto-generated"
    parts = [
        f"{len(messages)} notifications, gathered into one e-mail (Casework sends each person "
        "at most one e-mail in a few minutes).\n"
    ]
    for n, message in enumerate(messages, 1):
        parts.append(f"--- {n} of {len(messages)}: {message.subject}\n\n{message.body_text}")
    email.set_content("\n".join(parts))
    return email


class Sender:
    """One SMTP connection, opened on first use and reused for a run."""

    def __init__(self, settings: SmtpSettings, from_header: str) -> None:
        self.settings = settings
        self.from_header = from_header
        self.envelope_from = parseaddr(from_header)[1]
        self.connection: smtplib.SMTP | None = None
        #: Set when the server cannot be reached: the rest of the run does not try again.
        self.down: str | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        connection: smtplib.SMTP
        if s.tls:
            connection = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            connection.ehlo()
            if s.starttls:
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if s.username:
                connection.login(s.username, s.password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message: OutboxMessage | list[OutboxMessage]) -> Outcome:
        """Try to send one message, or several to one recipient as one e-mail: sent, retry later
        (server or connection trouble), or failed (the server refused this message for good, a
        5xx answer to its recipient or content)."""
        if self.down:
            return Outcome("retry", self.down)
        group = message if isinstance(message, list) else [message]
        message = group[0]
        try:
            if len(group) == 1:
                email = build_email(message, self.from_header)
            else:
                email = digest_email(group, self.from_header)
        except (ValueError, TypeError) as exc:
            return Outcome("failed", f"the message cannot be built: {exc}"[:ERROR_MAX])
        for attempt in (1, 2):
            try:
                if self.connection is None:
                    self.connection = self._connect()
            except (OSError, smtplib.SMTPException) as exc:
                self.down = _describe(exc)
                return Outcome("retry", self.down)
            try:
                self.connection.send_message(
                    email, from_addr=self.envelope_from, to_addrs=[message.recipient]
                )
                return SENT
            except smtplib.SMTPRecipientsRefused as exc:
                permanent = all(code >= 500 for code, _ in exc.recipients.values())
                return Outcome("failed" if permanent else "retry", _describe(exc))
            except smtplib.SMTPDataError as exc:
                return Outcome("failed" if exc.smtp_code >= 500 else "retry", _describe(exc))
            except smtplib.SMTPServerDisconnected as exc:
                # A reused connection the server has closed: open a new one, once.
                self.close()
                if attempt == 2:
                    return Outcome("retry", _describe(exc))
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                return Outcome("retry", _describe(exc))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                self.connection.close()
            self.connection = None


def due_messages(now: datetime, limit: int | None = None) -> list[OutboxMessage]:
    """Pending messages whose next try is due, oldest first."""
    stmt = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


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
    stmt = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(BATCH)
    )
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
