"""Talking to the mail server: the settings an SMTP URL gives, one connection reused for a run,
and what became of each e-mail sent over it (sent, to retry, or failed for good)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from casework.models import OutboxMessage
from casework.notifications.mime import build_email, digest_email

#: The longest error kept for the admin.
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
