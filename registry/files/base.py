"""The interface every file store keeps, and the errors a read or write can end in.

A store holds objects under the generated names ``catalog.storage.new_name`` makes. It knows
nothing of the database: the rows record each file's SHA-256, and ``get`` checks the bytes
against it so a damaged object is never served.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StoredFile:
    name: str
    content_type: str
    size: int
    sha256: str


class FileStoreError(Exception):
    """A file the registry recorded could not be read or written; ``name`` is the object."""

    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(f"{name}: {detail}" if detail else name)
        self.name = name
        self.detail = detail


class FileMissing(FileStoreError):
    """No object under this name (never written, deleted, or lost by the store)."""


class FileDamaged(FileStoreError):
    """The object's bytes do not hash to the SHA-256 the database recorded."""


class StoreUnavailable(FileStoreError):
    """The store did not answer (unreachable, timed out, refused the credentials)."""


class FileStore(Protocol):
    def put(self, name: str, data: bytes, content_type: str) -> StoredFile:
        """Write ``data`` under ``name`` all at once: a reader sees the old object or the
        whole new one, never part of it."""
        ...

    def get(self, name: str, expected_sha256: str | None) -> bytes:
        """The object's bytes, checked against ``expected_sha256`` when there is one.
        Raises ``FileMissing``, ``FileDamaged`` or ``StoreUnavailable``."""
        ...

    def put_path(self, name: str, path: str, content_type: str, sha256: str) -> StoredFile:
        """Write the file at ``path`` (too large to hold in memory: rendered label jobs are
        tens of MB) under ``name``, all at once, recording the ``sha256`` its writer
        computed."""
        ...

    def read_range(self, name: str, start: int, stop: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``stop`` (exclusive) of the object in chunks, for downloads with
        HTTP Range. Nothing is checked here: the caller hashes what it serves. Raises
        ``FileMissing`` or ``StoreUnavailable`` before the first chunk."""
        ...

    def delete(self, name: str) -> None:
        """Remove the object; no error if it is already gone."""
        ...

    def exists(self, name: str) -> bool: ...

    def check(self) -> str | None:
        """None when the store can be used, else a short problem text without secrets."""
        ...

    def describe(self) -> str:
        """Where the files go, for logs and command output (no credentials)."""
        ...


# Names are generated (32 hex digits and an extension); anything else, such as a path
# separator or "..", could reach outside the folder or the prefix and is refused.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,126}(\.[A-Za-z0-9]{1,8})?")


def check_name(name: str) -> str:
    if not _SAFE_NAME.fullmatch(name):
        raise FileMissing(name, "not a stored file name")
    return name


# Reads of large objects go out in chunks of this size (a download holds one at a time).
CHUNK = 1 << 20


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verified(name: str, data: bytes, expected_sha256: str | None) -> bytes:
    # A NULL digest (a file stored before digests were kept for it) is served unchecked until
    # ``files import`` records it; every file stored since has one.
    if expected_sha256 is not None and sha256_hex(data) != expected_sha256.lower():
        raise FileDamaged(name, f"SHA-256 {sha256_hex(data)} where {expected_sha256} was "
                                "recorded")
    return data
