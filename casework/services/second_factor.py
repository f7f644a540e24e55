"""Two-factor sign-in: a TOTP authenticator app, and ten single-use recovery codes.

The TOTP secret is stored as it is (the app needs it to make codes, and so does the check);
recovery codes are stored argon2-hashed, as passwords are. A code is accepted once: the time
step it was made for is kept, and a code of that step or an earlier one is refused, so a code
read over someone's shoulder cannot be used again within its window. Enrolling, replacing the
device, using a recovery code and an administrator's reset are administration events, which
also e-mail the user.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup
from pyotp.utils import strings_equal

from casework.errors import Forbidden, InvalidFields
from casework.extensions import db
from casework.models import RecoveryCode, SecondFactor, User, utcnow
from casework.services import administration
from casework.services.passwords import check_secret, hash_password

RECOVERY_CODES = 10
#: Codes of the step before and after now are accepted too: phone clocks drift.
DRIFT_STEPS = 1
#: Letters and digits a person reads back without confusing them (no 0/o, 1/l/i).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

OWN_RESET = (
    "Nobody resets their own second factor here: another administrator must. To change your "
    "authenticator app, replace it on your account page. Nothing was changed."
)


def required_roles() -> frozenset[str]:
    """The roles that must sign in with a second factor (`CASEWORK_SECOND_FACTOR_ROLES`)."""
    setting = current_app.config.get("SECOND_FACTOR_ROLES") or ""
    if isinstance(setting, str):
        setting = setting.split(",")
    return frozenset(r.strip() for r in setting if r.strip())


def required(user: User) -> bool:
    """Whether the user must have a second factor before doing anything else."""
    return bool(user.roles & required_roles())


def must_enrol(user: User) -> bool:
    return required(user) and user.second_factor is None


def new_secret() -> str:
    return pyotp.random_base32()


def issuer() -> str:
    return str(current_app.config.get("TOTP_ISSUER") or current_app.config["LIBRARY_NAME"])


def provisioning_uri(user: User, secret: str) -> str:
    """The `otpauth://` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer())


def qr_svg(user: User, secret: str) -> Markup:
    """The QR code of the app's address as inline SVG, drawn here: no script, no image host."""
    label = "QR code to scan with your authenticator app"
    svg = segno.make(provisioning_uri(user, secret), error="m").svg_inline(
        scale=5, title=label, svgclass="qr-code"
    )
    # The address is drawn as modules, never written out: the markup is segno's and the label's.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # nosec B704


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean(code: Any) -> str:
    if not isinstance(code, str):
        return ""
    return "".join(code.split()).replace("-", "").lower()[:40]


def _step(moment: datetime) -> int:
    return int(moment.timestamp()) // 30


def matching_step(secret: str, code: Any, now: datetime, after: int | None) -> int | None:
    """The time step whose code `code` is, within the drift allowed and later than `after`."""
    digits = _clean(code)
    if len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = _step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if strings_equal(totp.generate_otp(step), digits):
            return step
    return None


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh recovery codes for the user (shown once); the old ones stop working."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(raw)))
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    found: int = db.session.execute(
        sa.select(sa.func.count()).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).scalar_one()
    return found


def enrol(user: User, secret: str, code: Any, *, now: datetime | None = None) -> list[str]:
    """Make `secret` the user's TOTP secret once `code` from the app proves it is set up; the
    new recovery codes. Replacing a device works the same way (the old secret stops working).

    Raises `InvalidFields` naming `code` when the code is not the app's current one.
    """
    now = now or utcnow()
    step = matching_step(secret, code, now, None)
    if step is None:
        raise InvalidFields(
            {
                "code": [
                    "That is not the code your app shows now: check the phone's clock, and "
                    "type the six digits it shows for Casework."
                ]
            }
        )
    replacing = user.second_factor is not None
    if user.second_factor is None:
        user.second_factor = SecondFactor(secret=secret, enrolled_at=now, last_step=step)
    else:
        user.second_factor.secret = secret
        user.second_factor.enrolled_at = now
        user.second_factor.last_step = step
    codes = new_recovery_codes(user)
    action = "second_factor_replaced" if replacing else "second_factor_enrolled"
    administration.record(user, action, user, at=now)
    return codes


def check_code(user: User, code: Any, *, now: datetime | None = None) -> str | None:
    """How `code` proves the second factor: "app", "recovery" (that code is used up, and the
    use recorded), or None when it does not. An app code is accepted once."""
    now = now or utcnow()
    app = user.second_factor
    if app is None:
        return None
    step = matching_step(app.secret, code, now, app.last_step)
    if step is not None:
        app.last_step = step
        return "app"
    cleaned = _clean(code)
    if len(cleaned) != 10:
        return None
    unused = db.session.execute(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).scalars()
    for row in unused:
        if check_secret(row.code_hash, cleaned):
            row.used_at = now
            db.session.flush()
            left = recovery_codes_left(user)
            administration.record(user, "recovery_code_used", user, {"left": left}, at=now)
            return "recovery"
    return None


def reset(by: User | str, user: User) -> None:
    """An administrator removes a user's second factor (a lost phone): they enrol again at their
    next sign-in if their roles require it. Recorded and e-mailed to the user.

    Raises `Forbidden` for one's own second factor.
    """
    if isinstance(by, User) and by.id == user.id:
        raise Forbidden(OWN_RESET)
    had = user.second_factor is not None
    user.second_factor = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    administration.record(by, "second_factor_reset", user, {"had_second_factor": had})
