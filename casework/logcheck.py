"""Checking Casework's audit log with only this file, the standard library and `cryptography`.

    python -m casework.logcheck EXPORT CHECKPOINT PUBKEY
    python -m casework.logcheck --proof PRINTED PUBKEY

EXPORT is what `casework audit export` wrote, CHECKPOINT a signed checkpoint kept outside the
database (an e-mailed one, one from the witness folder or a printed record), PUBKEY the log's
public key as `casework audit key` prints it (or a file holding it). Exit status 0 when the export
is the log the checkpoint was signed over (or grew from it), 1 with every problem named otherwise.
With --proof, PRINTED holds what a printed record shows under "Audit log": the checkpoint, then
the `leaf POSITION SIZE NUMBER/SEQ HASH` line and the proof's hashes; it is checked that the
event with that hash is in the log the checkpoint signs.

Everything here is the public format of the log, usable by an auditor's own tools:

- Leaves and nodes are hashed as RFC 9162 §2.1 says: a leaf is SHA-256(0x00 || entry), a node
  SHA-256(0x01 || left || right), the empty tree SHA-256 of nothing.
- A leaf's entry is `KIND LF REF LF DATA`: for an event of a case, KIND is `case`, REF is
  `NUMBER/SEQ` (the case number and the event's sequence in its case), DATA the 32 bytes of the
  event's SHA-256 (the hash its chain holds). Other trails use their own KIND.
- Checkpoints are C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint): origin,
  tree size, base64 root hash, then a `time` line; a blank line; `— NAME base64(keyhash || sig)`
  with an Ed25519 signature. The public key is the note verifier key
  `NAME+KEYHASH+base64(0x01 || key)`.

This module imports nothing of Casework, so it can be copied and run where Casework is not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

EMPTY_ROOT = hashlib.sha256(b"").digest()
#: The export's first line names its format.
EXPORT_FORMAT = "casework-log-export 1"
#: The signature algorithm byte of an Ed25519 note key.
ED25519 = 1


# --- hashing (RFC 9162 §2.1) ------------------------------------------------------------------


def entry(kind: str, ref: str, data: bytes) -> bytes:
    """A leaf's entry: kind, reference and the trail's own hash of the record."""
    return f"{kind}\n{ref}\n".encode() + data


def leaf_hash(leaf_entry: bytes) -> bytes:
    """RFC 9162: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + leaf_entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 MTH of consecutive leaf hashes that start at a multiple of a power of two at
    least their count (a block, or its start): level by level, a lone last node moving up."""
    sha256 = hashlib.sha256
    level = hashes
    while len(level) > 1:
        up = [
            sha256(b"\x01" + left + right).digest()
            for left, right in zip(level[0::2], level[1::2], strict=False)
        ]
        if len(level) % 2:
            up.append(level[-1])
        level = up
    return level[0] if level else EMPTY_ROOT


class Merkle:
    """RFC 9162 proofs over a tree of `size` leaves, given how to find any of its subtrees.

    `subtree(low, high)` is MTH(D[low:high]) for a range the RFC's recursion reaches: a whole
    node (`low` a multiple of the power of two `high - low`) or a node's part that ends at the
    tree's size. `Tree` holds every level in memory; a database may keep upper levels instead.
    """

    size: int

    def subtree(self, low: int, high: int) -> bytes:
        raise NotImplementedError

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        if size == 0:
            return EMPTY_ROOT
        # The whole subtrees `size` splits into, left to right, folded from the right.
        parts: list[bytes] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                parts.append(self.subtree(start, start + (1 << level)))
                start += 1 << level
        root = parts[-1]
        for part in reversed(parts[:-1]):
            root = node_hash(part, root)
        return root

    def inclusion(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH: the inclusion proof of leaf `index` in the first `size`."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"no leaf {index} in a tree of {size}")
        proof: list[bytes] = []
        low, high = 0, size
        while high - low > 1:
            k = _split(high - low)
            if index - low < k:
                proof.append(self.subtree(low + k, high))
                high = low + k
            else:
                proof.append(self.subtree(low, low + k))
                low += k
        proof.reverse()
        return proof

    def consistency(self, old: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF: that the first `size` leaves extend the first `old`."""
        size = self.size if size is None else size
        if not 0 < old <= size <= self.size:
            raise ValueError(f"no consistency proof from {old} to {size}")
        proof: list[bytes] = []
        low, high, whole = 0, size, True
        m = old
        while m != high - low:
            k = _split(high - low)
            if m <= k:
                proof.append(self.subtree(low + k, high))
                high = low + k
            else:
                proof.append(self.subtree(low, low + k))
                low += k
                m -= k
                whole = False
        if not whole:
            proof.append(self.subtree(low, high))
        proof.reverse()
        return proof


class Tree(Merkle):
    """Every level of the RFC 9162 tree over a list of leaf hashes, built bottom-up.

    Level by level, pairs are hashed left to right and a last node without a partner moves up
    unchanged: the same tree as RFC 9162's split at the largest power of two. Node `j` of level
    `k` covers leaves `j·2^k` up to `(j+1)·2^k` or the end, so any subtree a proof needs is read,
    not computed.
    """

    def __init__(self, leaves: list[bytes]) -> None:
        self.size = len(leaves)
        self.levels = [leaves]
        sha256 = hashlib.sha256
        level = leaves
        while len(level) > 1:
            up = [
                sha256(b"\x01" + left + right).digest()
                for left, right in zip(level[0::2], level[1::2], strict=False)
            ]
            if len(level) % 2:
                up.append(level[-1])
            self.levels.append(up)
            level = up

    def subtree(self, low: int, high: int) -> bytes:
        """MTH of leaves `low` to `high` (excluded), a node of this tree or built from them."""
        span = high - low
        level = (span - 1).bit_length()
        if low % (1 << level) == 0 and (span == 1 << level or high == self.size):
            return self.levels[level][low >> level]
        half = 1 << (level - 1)
        return node_hash(self.subtree(low, low + half), self.subtree(low + half, high))


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: whether `proof` puts `leaf` at `index` in the tree of `size`, `root`."""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: whether `proof` shows the tree (`size`, `root`) extends (`old`,
    `old_root`)."""
    if old > size or old < 0:
        return False
    if old == size:
        return not proof and old_root == root
    if old == 0:
        return False  # every tree extends the empty one: such a proof proves nothing
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old tree is a node of the new one
        path.insert(0, old_root)
    fn, sn = old - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == root and sn == 0


# --- signed notes and checkpoints (C2SP) ------------------------------------------------------


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or whose signature does not verify."""


def key_hash(name: str, public: bytes) -> bytes:
    """The 4-byte key hash of an Ed25519 note key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _valid_name(name: str) -> bool:
    return bool(name) and name.isprintable() and not any(c in name for c in " +\n")


@dataclass(frozen=True)
class VerifierKey:
    """A note verifier key: the name the log signs as and its Ed25519 public key."""

    name: str
    public: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """`NAME+HASH+base64(0x01 || key)`; raises NoteError when it is not one."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or not _valid_name(parts[0]):
            raise NoteError("a public key reads NAME+KEYHASH+KEY (as `casework audit key` prints)")
        name, hint, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError("the public key's last part is not base64") from exc
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("the public key is not an Ed25519 note key")
        if hint.lower() != key_hash(name, raw[1:]).hex():
            raise NoteError("the public key's hash does not match its name and key")
        return cls(name, raw[1:])

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public).decode()
        return f"{self.name}+{key_hash(self.name, self.public).hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SignerKey:
    """The private half: a note signer key, `PRIVATE+KEY+NAME+HASH+base64(0x01 || seed)`."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> SignerKey:
        if not _valid_name(name):
            raise NoteError(f"{name!r} cannot name a key (no spaces, no '+')")
        from cryptography.hazmat.primitives import serialization

        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return cls(name, seed)

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _valid_name(parts[2]):
            raise NoteError("not a signing key (PRIVATE+KEY+NAME+KEYHASH+KEY)")
        try:
            raw = base64.b64decode(parts[4], validate=True)
        except binascii.Error as exc:
            raise NoteError("the signing key's last part is not base64") from exc
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("the signing key is not an Ed25519 note key")
        key = cls(parts[2], raw[1:])
        if parts[3].lower() != key_hash(key.name, key.verifier.public).hex():
            raise NoteError("the signing key's hash does not match its name and key")
        return key

    @property
    def verifier(self) -> VerifierKey:
        from cryptography.hazmat.primitives import serialization

        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return VerifierKey(self.name, public)

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return (
            f"PRIVATE+KEY+{self.name}+{key_hash(self.name, self.verifier.public).hex()}+{encoded}"
        )

    def sign(self, text: str) -> str:
        """The signed note: `text` (ending in a newline), a blank line, one signature line."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("a note's text ends with one newline and holds no blank line")
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text.encode())
        hint = key_hash(self.name, self.verifier.public)
        return f"{text}\n\u2014 {self.name} {base64.b64encode(hint + signature).decode()}\n"


def open_note(note: str, key: VerifierKey) -> str:
    """The text of a signed note whose signature by `key` verifies; raises NoteError otherwise."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("a note holds no control characters")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note (text, a blank line, signature lines)")
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    for line in lines:
        if not line.startswith("\u2014 "):
            raise NoteError("a signature line begins with an em dash and a space")
        name, _, encoded = line[2:].rpartition(" ")
        if name != key.name:
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError("a signature is not base64") from exc
        if raw[:4] != key_hash(key.name, key.public):
            continue
        if len(raw) != 68 or not key.verify(text.encode(), raw[4:]):
            raise NoteError(f"the signature by {key.name} does not verify: the note was changed")
        return text
    raise NoteError(f"the note is not signed by {key.name} with this key")


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's text: origin, tree size, root hash, time."""

    origin: str
    size: int
    root: bytes
    time: str

    def text(self) -> str:
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\ntime {self.time}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash, one per line")
        origin, size, root = lines[0], lines[1], lines[2]
        if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"a checkpoint's size is a decimal number, not {size!r}")
        try:
            digest = base64.b64decode(root, validate=True)
        except binascii.Error as exc:
            raise NoteError("a checkpoint's root hash is not base64") from exc
        if len(digest) != 32:
            raise NoteError("a checkpoint's root hash is not 32 bytes")
        time = next((line[5:] for line in lines[3:] if line.startswith("time ")), "")
        return cls(origin, int(size), digest, time)


def read_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """A signed checkpoint, its signature checked and its origin the key's name."""
    found = Checkpoint.parse(open_note(note, key))
    if found.origin != key.name:
        raise NoteError(f"the checkpoint is of log {found.origin!r}, not {key.name!r}")
    return found


# --- an export, checked -----------------------------------------------------------------------


def check_export(lines: Iterable[str], checkpoint_note: str, key: VerifierKey) -> list[str]:
    """Every problem with an exported log, checked against a checkpoint kept elsewhere.

    Positions run 0, 1, 2 … without a gap; each leaf's hash is that of its entry; the root of
    the leaves matches every checkpoint in the export and the one given; each checkpoint in the
    export is signed by `key` and extends the one before it.
    """
    problems: list[str] = []
    try:
        given = read_checkpoint(checkpoint_note, key)
    except NoteError as exc:
        return [f"the checkpoint given: {exc}"]
    rows = iter(lines)
    header = json.loads(next(rows, "{}") or "{}")
    if header.get("format") != EXPORT_FORMAT:
        return [f"not a Casework log export (its first line names {header.get('format')!r})"]
    leaves: list[bytes] = []
    notes: list[str] = []
    for line in rows:
        if not line.strip():
            continue
        row = json.loads(line)
        if isinstance(row, dict):
            notes.append(str(row.get("checkpoint", "")))
            continue
        position, kind, ref, data, digest = row
        if position != len(leaves):
            problems.append(f"position {len(leaves)}: the export jumps to position {position}")
            return problems
        stored = bytes.fromhex(digest)
        if leaf_hash(entry(kind, ref, bytes.fromhex(data))) != stored:
            problems.append(f"position {position} ({kind} {ref}): the leaf hash is not its entry's")
        leaves.append(stored)
    tree = Tree(leaves)
    previous: Checkpoint | None = None
    for note in notes:
        try:
            found = read_checkpoint(note, key)
        except NoteError as exc:
            problems.append(f"a checkpoint in the export: {exc}")
            continue
        problems.extend(compare(tree, found, "a checkpoint in the export"))
        if previous is not None and found.size < previous.size:
            problems.append(
                f"the checkpoint of size {found.size} follows one of size {previous.size}"
            )
        previous = found
    problems.extend(compare(tree, given, "the checkpoint given"))
    return problems


def compare(tree: Merkle, checkpoint: Checkpoint, where: str) -> list[str]:
    """Whether the tree holds, as its first records, the log a checkpoint was signed over."""
    if checkpoint.size > tree.size:
        return [
            f"{where}, signed {checkpoint.time}: it covers {checkpoint.size} records, the log "
            f"holds only {tree.size}: the database was rolled back or its log cut short"
        ]
    if tree.root(checkpoint.size) != checkpoint.root:
        return [
            f"{where}, signed {checkpoint.time}: the log's first {checkpoint.size} records do "
            "not have its root: the log was changed, reordered or forked after it was signed"
        ]
    return []


def check_printed(text: str, key: VerifierKey) -> list[str]:
    """A printed record's checkpoint and inclusion proof: signed, and the event in the log."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    try:
        start = next(n for n, line in enumerate(lines) if line.startswith("leaf "))
    except StopIteration:
        return ["no `leaf POSITION SIZE REF HASH` line"]
    note = "\n".join(line for line in lines[:start]).strip("\n") + "\n"
    note = note.replace("\n\u2014", "\n\n\u2014", 1) if "\n\n" not in note else note
    try:
        checkpoint = read_checkpoint(note, key)
        _, position, size, ref, digest = lines[start].split()
        proof = [bytes.fromhex(h) for h in lines[start + 1 :] if h]
        leaf = leaf_hash(entry("case", ref, bytes.fromhex(digest)))
    except (NoteError, ValueError) as exc:
        return [f"the printed proof cannot be read: {exc}"]
    if int(size) != checkpoint.size:
        return [f"the proof is for a log of {size}, the checkpoint of {checkpoint.size}"]
    if not verify_inclusion(int(position), checkpoint.size, leaf, proof, checkpoint.root):
        return [f"event {ref} with hash {digest} is not in the log the checkpoint signs"]
    return []


def _read_key(value: str) -> VerifierKey:
    path = Path(value)
    text = path.read_text() if "+" not in value and path.is_file() else value
    return VerifierKey.parse(text)


def main(argv: list[str] | None = None) -> int:
    """`python -m casework.logcheck EXPORT CHECKPOINT PUBKEY`: 0 when sound, 1 otherwise."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "--proof":
        try:
            problems = check_printed(Path(args[1]).read_text(encoding="utf-8"), _read_key(args[2]))
        except (OSError, NoteError) as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2
        for problem in problems:
            print(f"BROKEN {problem}")
        print("ok: the printed event is in the signed log" if not problems else "1 problem(s)")
        return 1 if problems else 0
    if len(args) != 3:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    export, checkpoint, public = args
    try:
        key = _read_key(public)
        note = Path(checkpoint).read_text()
        with open(export, encoding="utf-8") as lines:
            problems = check_export(lines, note, key)
    except (OSError, NoteError, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"BROKEN {problem}")
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
