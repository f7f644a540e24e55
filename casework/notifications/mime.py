"""Outbox messages as MIME e-mails: one message alone (text with an HTML alternative), or several
to one recipient gathered into one."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from casework.models import OutboxMessage


def build_email(message: OutboxMessage, from_header: str) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative."""
    email = _headed(message.subject, from_header, message, message, f"casework.{message.id}")
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def digest_email(messages: list[OutboxMessage], from_header: str) -> EmailMessage:
    """Several messages to one recipient as one e-mail: each one's subject and text in turn.

    Each part is the message as it would have gone alone, so an e-mail about a confidential case
    still says nothing of it.
    """
    first = messages[0]
    email = _headed(
        f"Casework: {len(messages)} notifications",
        from_header,
        first,
        messages[-1],
        f"casework.{first.id}.{len(messages)}",
    )
    parts = [
        f"{len(messages)} notifications, gathered into one e-mail (Casework sends each person "
        "at most one e-mail in a few minutes).\n"
    ]
    for n, message in enumerate(messages, 1):
        parts.append(f"--- {n} of {len(messages)}: {message.subject}\n\n{message.body_text}")
    email.set_content("\n".join(parts))
    return email


def _headed(
    subject: str, from_header: str, to: OutboxMessage, dated: OutboxMessage, idstring: str
) -> EmailMessage:
    """An e-mail with its headers: to `to`'s recipient, dated when `dated` was written."""
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = from_header
    email["To"] = to.recipient
    email["Date"] = format_datetime(dated.created_at)
    domain = parseaddr(from_header)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = make_msgid(idstring=idstring, domain=domain)
    # RFC 3834: no out-of-office replies to a machine.
    email["Auto-Submitted"] = "auto-generated"
    return email
