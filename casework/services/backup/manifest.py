"""A backup's manifest: what the backup holds, written beside it, and checked against the file
before anything is restored from it; and the backups of a folder, listed by their manifests."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from casework.errors import CaseworkError

MANIFEST_SUFFIX = ".manifest.json"
FORMAT = "casework-backup/1"


class BackupError(CaseworkError):
    """A backup or restore that cannot be done; the message says why and what to do."""

    status = 400
    code = "backup_failed"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, written beside it."""

    taken_at: str
    dialect: str
    schema_revision: str | None
    cases: int
    events: int
    checkpoint: str | None
    sha256: str
    size: int
    file: str
    format: str = FORMAT

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "file": self.file,
            "taken_at": self.taken_at,
            "dialect": self.dialect,
            "schema_revision": self.schema_revision,
            "cases": self.cases,
            "events": self.events,
            "checkpoint": self.checkpoint,
            "sha256": self.sha256,
            "size": self.size,
        }


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(backup: Path) -> Manifest:
    """The manifest of a backup after checking the file against it; `BackupError` if damaged."""
    if not backup.is_file():
        raise BackupError(f"There is no backup file {backup}.")
    path = manifest_path(backup)
    if not path.is_file():
        raise BackupError(
            f"{backup} has no manifest beside it ({path.name}); it was not made by "
            "`casework backup`, or the manifest was lost. Nothing was restored."
        )
    try:
        data = json.loads(path.read_text())
        manifest = Manifest(**{k: data[k] for k in Manifest.__dataclass_fields__})
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"The manifest {path.name} is damaged; nothing was restored.") from None
    if manifest.format != FORMAT:
        raise BackupError(f"{path.name} is of an unknown format {manifest.format!r}.")
    actual = file_sha256(backup)
    if actual != manifest.sha256:
        raise BackupError(
            f"{backup.name} is damaged: its SHA-256 is {actual}, the manifest says "
            f"{manifest.sha256}. Nothing was restored; use another backup."
        )
    return manifest


# --- the list of backups --------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedBackup:
    path: Path
    manifest: Manifest | None
    problem: str | None
    #: Disposed cases whose content this backup still holds (numbers).
    holds_disposed: tuple[str, ...] = ()

    def taken(self) -> datetime | None:
        if self.manifest is None:
            return None
        return datetime.fromisoformat(self.manifest.taken_at)


def list_backups(folder: Path, disposed: dict[str, datetime] | None = None) -> list[ListedBackup]:
    """Every backup in `folder` (by its manifest), newest first, each checked against its hash.

    `disposed` maps the numbers of disposed cases to when they were disposed: a backup taken
    before that moment still holds the case's content.
    """
    found: list[ListedBackup] = []
    for path in sorted(folder.glob(f"*{MANIFEST_SUFFIX}")):
        backup = path.with_name(path.name[: -len(MANIFEST_SUFFIX)])
        try:
            manifest = read_manifest(backup)
        except BackupError as exc:
            found.append(ListedBackup(backup, None, exc.message))
            continue
        held: tuple[str, ...] = ()
        if disposed:
            taken = datetime.fromisoformat(manifest.taken_at)
            held = tuple(sorted(n for n, at in disposed.items() if _naive(at) > _naive(taken)))
        found.append(ListedBackup(backup, manifest, None, held))
    found.sort(
        key=lambda b: (b.manifest.taken_at if b.manifest else "", b.path.stat().st_mtime_ns),
        reverse=True,
    )
    return found


def _naive(at: datetime) -> datetime:
    return at.replace(tzinfo=None)
