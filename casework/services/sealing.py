"""Sealing short payloads a client carries (the case list's cursors): encrypted and signed with
keys drawn from the secret key, so a client can neither read one nor make one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app

_NONCE = 16
_TAG = 16


def _keys(purpose: str) -> tuple[bytes, bytes]:
    """Keys for sealing, derived from the secret key (one to encrypt, one to sign)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return (
        hmac.new(secret, f"{purpose}: encrypt".encode(), hashlib.sha256).digest(),
        hmac.new(secret, f"{purpose}: sign".encode(), hashlib.sha256).digest(),
    )


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (
        hashlib.sha256(key + nonce + counter.to_bytes(4, "big")).digest()
        for counter in range(-(-length // 32))
    )
    return b"".join(blocks)[:length]


def seal(payload: bytes, purpose: str) -> str:
    """`payload` encrypted and signed for `purpose`: a client can neither read it nor forge it."""
    encrypt, sign = _keys(purpose)
    nonce = secrets.token_bytes(_NONCE)
    body = bytes(
        a ^ b for a, b in zip(payload, _keystream(encrypt, nonce, len(payload)), strict=True)
    )
    tag = hmac.new(sign, nonce + body, hashlib.sha256).digest()[:_TAG]
    return base64.urlsafe_b64encode(nonce + body + tag).decode().rstrip("=")


def unseal(token: str, purpose: str) -> bytes | None:
    """The payload of a token `seal` made for `purpose`; None for any other text."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) < _NONCE + _TAG + 1:
        return None
    encrypt, sign = _keys(purpose)
    nonce, body, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    expected = hmac.new(sign, nonce + body, hashlib.sha256).digest()[:_TAG]
    if not hmac.compare_digest(tag, expected):
        return None
    return bytes(a ^ b for a, b in zip(body, _keystream(encrypt, nonce, len(body)), strict=True))
