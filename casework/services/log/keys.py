"""The log's keys: the signing key kept outside the database, and the public key checkpoints
are checked with."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

from casework.logcheck import NoteError, SignerKey, VerifierKey
from casework.services.log import LogError

#: The signing key's file in the instance folder, unless SIGNING_KEY_FILE names one.
KEY_FILE = "log_signing_key"


def key_path() -> Path:
    configured = current_app.config.get("SIGNING_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / KEY_FILE


def ensure_signing_key() -> tuple[Path, VerifierKey, bool]:
    """The signing key's file, its public key, and whether it was made now (`casework init`)."""
    path = key_path()
    if path.is_file():
        return path, signing_key().verifier, False
    origin = current_app.config.get("LOG_ORIGIN") or f"casework.log/{os.urandom(4).hex()}"
    key = SignerKey.generate(str(origin))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(f"{key}\n")
    return path, key.verifier, True


def signing_key() -> SignerKey:
    """The log's signing key, read from its file; LogError when there is none."""
    path = key_path()
    try:
        return SignerKey.parse(path.read_text())
    except OSError as exc:
        raise LogError(
            f"no signing key at {path} ({exc.strerror}): run `casework init`, or set "
            "CASEWORK_SIGNING_KEY_FILE"
        ) from exc
    except NoteError as exc:
        raise LogError(f"{path}: {exc}") from exc


def public_key() -> VerifierKey | None:
    """The key checkpoints are checked with: CASEWORK_LOG_PUBLIC_KEY, else the signing key's."""
    configured = current_app.config.get("LOG_PUBLIC_KEY")
    if configured:
        return VerifierKey.parse(str(configured))
    try:
        return signing_key().verifier
    except LogError:
        return None
