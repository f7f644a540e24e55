"""Single sign-on: who a provider's sign-on is in Casework, and linking and unlinking identities.

A sign-on names a person by the provider's issuer and subject. The first time, the person is
linked to the one active Casework user whose e-mail address the provider says it has verified;
after that the subject alone finds them, so a changed or reused address never moves an
identity to someone else. Signing on never creates an account, and roles stay Casework's.
Linking and unlinking are events in the administration trail.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casework.errors import CaseworkError, NotFound
from casework.extensions import db
from casework.models import SignOnIdentity, User, utcnow
from casework.services import administration
from casework.services.users import SYSTEM_USERNAME

log = logging.getLogger(__name__)

#: Authentication methods (RFC 8176 `amr` values) by kind of factor: something one knows, has
#: or is. Two kinds, or the provider's own "mfa", make a multi-factor sign-in.
FACTORS = {
    "pwd": "knows",
    "pin": "knows",
    "kba": "knows",
    "otp": "has",
    "hwk": "has",
    "swk": "has",
    "sc": "has",
    "sms": "has",
    "tel": "has",
    "pop": "has",
    "rsa": "has",
    "fpt": "is",
    "face": "is",
    "iris": "is",
    "retina": "is",
    "vbm": "is",
}
#: Values that say on their own that more than one factor was used (Entra's Windows Hello too).
MULTI_FACTOR = frozenset({"mfa", "ngcmfa"})


class SignOnRefused(CaseworkError):
    """The provider signed someone in whom Casework does not let in; `reason` is for the log."""

    status = 403
    code = "sign_on_refused"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


UNKNOWN = (
    "Your sign-on worked, but no Casework account is linked to it or has your verified e-mail "
    "address. Signing on does not create accounts: ask IT to add you to Casework with the "
    "address you sign on with."
)
DISABLED = "Your Casework account is disabled. Ask IT if you should still have access."
UNVERIFIED = (
    "Your sign-on worked, but the provider did not say your e-mail address is verified, so "
    "Casework cannot tell which account is yours. Ask IT to check the sign-on settings."
)
AMBIGUOUS = (
    "More than one Casework account has your e-mail address, so Casework cannot tell which is "
    "yours. Ask IT to give each account its own address."
)
TAKEN = (
    "Your Casework account is already linked to another identity at the provider. Ask IT to "
    "unlink it on your user page if that one is gone."
)
NO_SUBJECT = "The provider's answer did not name who signed in. Ask IT to check the sign-on."


def multi_factor(claims: Mapping[str, Any]) -> bool:
    """Whether the provider says the sign-in used more than one factor (its `amr` claim)."""
    methods = claims.get("amr")
    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, list):
        return False
    values = {m.strip().lower() for m in methods if isinstance(m, str)}
    if values & MULTI_FACTOR:
        return True
    return len({FACTORS[v] for v in values if v in FACTORS}) >= 2


def verified_email(claims: Mapping[str, Any]) -> str | None:
    """The e-mail address the provider vouches for, or None.

    `email_verified` true; where a provider never sends it (Microsoft Entra ID), its
    `xms_edov` claim (the address's domain is verified by the tenant) in its place.
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        return None
    verified = claims.get("email_verified")
    if verified is None:
        verified = claims.get("xms_edov")
    if verified is True or (isinstance(verified, str) and verified.lower() == "true"):
        return email.strip()
    return None


def identity_for(issuer: str, subject: str) -> SignOnIdentity | None:
    found: SignOnIdentity | None = db.session.execute(
        sa.select(SignOnIdentity).where(
            SignOnIdentity.issuer == issuer, SignOnIdentity.subject == subject
        )
    ).scalar_one_or_none()
    return found


def identities_of(user: User) -> list[SignOnIdentity]:
    return list(
        db.session.execute(
            sa.select(SignOnIdentity)
            .where(SignOnIdentity.user_id == user.id)
            .order_by(SignOnIdentity.linked_at)
        ).scalars()
    )


def subject_of(claims: Mapping[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise SignOnRefused(NO_SUBJECT, "no usable subject")
    return subject


def user_for_claims(issuer: str, claims: Mapping[str, Any], now: datetime | None = None) -> User:
    """The active user a sign-on's verified claims belong to, linking them the first time.

    Raises `SignOnRefused` for an unknown or disabled user, an unverified address, an address
    several users share, or a user already linked to another identity at this issuer.
    """
    now = now or utcnow()
    subject = subject_of(claims)
    identity = identity_for(issuer, subject)
    if identity is not None:
        user = identity.user
        if not user.active:
            raise SignOnRefused(DISABLED, f"{user.username} is disabled")
        identity.last_used_at = now
        return user
    email = verified_email(claims)
    if email is None:
        raise SignOnRefused(UNVERIFIED, "the e-mail address is missing or not verified")
    matches = list(
        db.session.execute(
            sa.select(User).where(
                sa.func.lower(User.email) == email.lower(), User.username != SYSTEM_USERNAME
            )
        ).scalars()
    )
    if not matches:
        raise SignOnRefused(UNKNOWN, "no user has this verified address")
    if len(matches) > 1:
        raise SignOnRefused(AMBIGUOUS, f"{len(matches)} users have this address")
    user = matches[0]
    if not user.active:
        raise SignOnRefused(DISABLED, f"{user.username} is disabled")
    if any(i.issuer == issuer for i in identities_of(user)):
        raise SignOnRefused(TAKEN, f"{user.username} is linked to another subject")
    link(user, issuer, subject, email, now)
    return user


def link(user: User, issuer: str, subject: str, email: str, now: datetime) -> SignOnIdentity:
    """Link the identity to the user, recorded in the trail as done by the user signing on."""
    identity = SignOnIdentity(
        user_id=user.id,
        issuer=issuer,
        subject=subject,
        email=email,
        linked_at=now,
        last_used_at=now,
    )
    db.session.add(identity)
    db.session.flush()
    administration.record(
        user,
        "sign_on_linked",
        user,
        {"issuer": issuer, "subject": subject, "email": email},
        at=now,
    )
    log.info("sign-on identity linked to %s by verified address (%s)", user.username, issuer)
    return identity


def unlink(by: User | str, user: User, identity_id: int) -> SignOnIdentity:
    """IT unlinks one of the user's identities: their next sign-on links again by address.

    Raises `NotFound` when the user has no such identity.
    """
    identity = db.session.get(SignOnIdentity, identity_id) if 0 < identity_id < 2**31 else None
    if identity is None or identity.user_id != user.id:
        raise NotFound("This user has no such sign-on identity.")
    data = {"issuer": identity.issuer, "subject": identity.subject, "email": identity.email}
    db.session.delete(identity)
    administration.record(by, "sign_on_unlinked", user, data)
    log.info("sign-on identity of %s unlinked by %s", user.username, administration.actor_label(by))
    return identity
