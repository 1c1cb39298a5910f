"""C2SP signed notes and transparency-log checkpoints (c2sp.org/signed-note,
c2sp.org/tlog-checkpoint), Ed25519 only. Pure: no Flask, no database.

A checkpoint's note text is three lines: the origin (the log's name), the tree size (the number
of audit events) and a base64 hash. Here that hash is the head of the audit log's hash chain
after ``size`` events, not an RFC 6962 Merkle root: the registry's log is a chain, so a checkpoint
commits to every event up to its size, but consistency between two checkpoints is proven by
recomputing the chain from the events, not by a Merkle consistency proof.

    origin\\nsize\\nbase64(hash)\\n\\n— <key name> base64(key id[4] || Ed25519 signature)\\n

The key id is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key). A verifier
key is written as in Go's ``golang.org/x/mod/sumdb/note``: ``name+hex(key id)+base64(0x01 ||
public key)``, so the same string works with Go's note tooling.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 16
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, checkpoint or key that is malformed or not signed by the expected key."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("bad base64") from None


def check_key_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError("a key name must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, public_raw: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 note key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_raw).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    name: str
    public_raw: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public_raw)

    def __str__(self) -> str:
        return f"{self.name}+{self.id.hex()}+{_b64(bytes([ED25519]) + self.public_raw)}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # the base64 key may hold "+" itself
        if len(parts) != 3:
            raise NoteError("a verifier key reads name+hash+key")
        name, hash_hex, key_b64 = parts
        check_key_name(name)
        raw = _unb64(key_b64)
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("not an Ed25519 verifier key")
        key = cls(name, raw[1:])
        if len(hash_hex) != 8 or hash_hex.lower() != key.id.hex():
            raise NoteError("the verifier key's hash does not match its name and key")
        return key

    def verify(self, note: str) -> str:
        """The note's text if a signature of this key verifies; else NoteError."""
        text, signatures = parse_note(note)
        public = Ed25519PublicKey.from_public_bytes(self.public_raw)
        for name, kid, signature in signatures:
            if name != self.name or kid != self.id:
                continue  # another key's signature (a witness, a rotated key): ignored
            try:
                public.verify(signature, text.encode())
            except InvalidSignature:
                raise NoteError(f"the signature of {self.name} does not verify") from None
            return text
        raise NoteError(f"not signed by {self.name}")


@dataclass(frozen=True)
class NoteSigner:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.public_raw)

    def sign(self, text: str) -> str:
        """The signed note: text, blank line, this key's signature line."""
        _check_text(text)
        signature = self.private_key.sign(text.encode())
        line = f"{SIG_PREFIX}{self.name} {_b64(key_id(self.name, self.public_raw) + signature)}\n"
        return f"{text}\n{line}"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("control characters in a note")


def parse_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """(text, [(key name, key id, signature)]); the text is separated from the signature
    lines by the note's last blank line."""
    if not note.endswith("\n"):
        raise NoteError("a note ends with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("no signature block")
    text, block = note[:split + 1], note[split + 2:]
    _check_text(text)
    signatures = []
    for line in block.splitlines():
        if not line.startswith(SIG_PREFIX) or line.count(" ") != 2:
            raise NoteError("malformed signature line")
        name, sig_b64 = line[len(SIG_PREFIX):].split(" ")
        raw = _unb64(sig_b64)
        if len(raw) < 5:
            raise NoteError("signature too short")
        signatures.append((check_key_name(name), raw[:4], raw[4:]))
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise NoteError("a note carries 1 to 16 signatures")
    return text, signatures


def split_notes(text: str) -> list[str]:
    """The notes of a file holding one or many (concatenated, blank lines between allowed)."""
    notes: list[str] = []
    current: list[str] = []
    in_signatures = False
    for line in text.splitlines(keepends=True):
        if line.startswith(SIG_PREFIX):
            in_signatures = True
        elif in_signatures:  # the first line after a signature block starts the next note
            notes.append("".join(current))
            current, in_signatures = [], False
        if not current and not line.strip():
            continue
        if not line.endswith("\n"):
            line += "\n"
        current.append(line)
    if current:
        notes.append("".join(current))
    return notes


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    hash: bytes  # the chain head after ``size`` events, 32 bytes

    @property
    def hash_hex(self) -> str:
        return self.hash.hex()

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{_b64(self.hash)}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint is three or more non-empty lines")
        origin, size, hash_b64 = lines[:3]
        if not _SIZE_RE.fullmatch(size):
            raise NoteError("bad tree size")
        digest = _unb64(hash_b64)
        if len(digest) != 32:
            raise NoteError("the hash is not 32 bytes")
        return cls(origin, int(size), digest)


def open_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint of a note signed by ``key`` for the log named like the key."""
    checkpoint = Checkpoint.parse(key.verify(note))
    if checkpoint.origin != key.name:
        raise NoteError(f"a checkpoint of another log ({checkpoint.origin})")
    return checkpoint
