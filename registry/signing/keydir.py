"""The legacy key folder: Ed25519 keys as ``key-{kid}.pem`` files beside a ``keys.json``.

The registry keeps its keys in the database (``registry.signing.store``); this reads such a
folder for ``keys import-dir`` and makes standalone keys for tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.signing.signer import (
    ALGORITHM,
    KeyStatus,
    KeyStoreError,
    Signer,
    _b64,
    key_id_for,
)
from registry.signing.verifier import Verifier

METADATA_FILE = "keys.json"
LOCK_FILE = ".lock"
VERIFIER_RECHECK_SECONDS = 1.0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KeyDir:
    """The legacy layout: Ed25519 keys in one directory, ``key-{kid}.pem`` (0600) and
    ``keys.json`` metadata. The registry no longer signs from such a folder; it is read by
    ``keys import-dir`` and makes standalone keys for tests and benchmarks.

    Several processes may share the directory (web workers, the CLI): mutations take an
    exclusive ``flock``, and ``active_signer`` notices a rotation done elsewhere by the
    metadata file's change.
    """

    def __init__(self, directory: str | os.PathLike[str], passphrase: bytes | str | None = None):
        self.directory = Path(directory)
        if isinstance(passphrase, str):
            passphrase = passphrase.encode()
        self._passphrase = passphrase or None
        self._signers: dict[str, Signer] = {}
        self._meta_stamp: tuple[int, int] | None = None
        self._meta: list[dict[str, Any]] = []
        self._verifier: tuple[list[dict[str, Any]], Verifier] | None = None
        self._verifier_checked = float("-inf")

    # -- metadata ------------------------------------------------------------------------------

    @property
    def _meta_path(self) -> Path:
        return self.directory / METADATA_FILE

    def _pem_path(self, kid: str) -> Path:
        return self.directory / f"key-{kid}.pem"

    def _ensure_dir(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dir()
        fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._meta_stamp = None  # re-read under the lock
            self._load_meta()
            yield
        finally:
            os.close(fd)

    def _load_meta(self) -> list[dict[str, Any]]:
        try:
            st = self._meta_path.stat()
        except FileNotFoundError:
            self._meta, self._meta_stamp = [], None
            return self._meta
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._meta_stamp:
            try:
                data = json.loads(self._meta_path.read_text("utf-8"))
                keys = list(data["keys"])
            except (ValueError, KeyError, TypeError) as exc:
                raise KeyStoreError(f"{self._meta_path} is damaged: {exc}") from None
            self._meta = keys
            self._meta_stamp = stamp
        return self._meta

    def _save_meta(self) -> None:
        tmp = self._meta_path.with_suffix(".json.tmp")
        payload = json.dumps({"version": 1, "keys": self._meta}, indent=2, sort_keys=True)
        tmp.write_text(payload + "\n", "utf-8")
        os.replace(tmp, self._meta_path)
        self._meta_stamp = None
        self._verifier_checked = float("-inf")

    @staticmethod
    def _status(entry: Mapping[str, Any]) -> KeyStatus:
        if entry.get("revoked_at"):
            return KeyStatus.REVOKED
        if entry.get("retired_at"):
            return KeyStatus.RETIRED
        return KeyStatus.ACTIVE

    def _find(self, kid: str) -> dict[str, Any]:
        for entry in self._meta:
            if entry["kid"] == kid:
                return entry
        raise KeyStoreError(f"no key {kid!r} in {self.directory}")

    def _active_entry(self) -> dict[str, Any] | None:
        for entry in self._meta:
            if self._status(entry) is KeyStatus.ACTIVE:
                return entry
        return None

    # -- mutations -----------------------------------------------------------------------------

    def _new_key(self) -> str:
        key = Ed25519PrivateKey.generate()
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        kid = key_id_for(raw)
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(self._passphrase)
            if self._passphrase
            else serialization.NoEncryption()
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        # O_EXCL: never overwrite a key file; 0600 from the start, not chmod-ed afterwards.
        fd = os.open(self._pem_path(kid), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        self._meta.append(
            {"kid": kid, "alg": ALGORITHM, "public_key": _b64(raw), "created": _now(),
             "retired_at": None, "revoked_at": None}
        )
        self._signers[kid] = Signer(kid, key)
        return kid

    def create_key(self) -> str:
        """Create the first active key. Use ``rotate`` once one exists."""
        with self._locked():
            if self._active_entry() is not None:
                raise KeyStoreError("an active key exists already; use rotate()")
            kid = self._new_key()
            self._save_meta()
        return kid

    def rotate(self) -> str:
        """Make a new active key; the previous one is retired and still verifies."""
        with self._locked():
            previous = self._active_entry()
            kid = self._new_key()
            if previous is not None:
                previous["retired_at"] = _now()
            self._save_meta()
        return kid

    def revoke(self, kid: str, *, with_successor: bool = False) -> str | None:
        """Mark a key compromised: its labels stop verifying and it never signs again.

        The active key is revoked only together with making its successor, in the same
        locked step: a registry without an active key cannot print (and a production one does
        not make keys on demand). Returns the successor's key id, if one was made."""
        successor = None
        with self._locked():
            entry = self._find(kid)
            if entry.get("revoked_at"):
                return None
            if self._status(entry) is KeyStatus.ACTIVE:
                if not with_successor:
                    raise KeyStoreError(
                        f"{kid} is the only active signing key: revoking it alone would stop "
                        f"all label printing. Make its successor in the same step: "
                        f"keys revoke {kid} --with-successor")
                successor = self._new_key()
            entry["revoked_at"] = _now()
            entry["retired_at"] = entry.get("retired_at") or entry["revoked_at"]
            self._save_meta()
            self._signers.pop(kid, None)
            with contextlib.suppress(FileNotFoundError):
                self._pem_path(kid).unlink()
        return successor

    # -- use -----------------------------------------------------------------------------------

    def active_signer(self) -> Signer:
        entry = self._active_entry() if self._load_meta() else None
        if entry is None:
            raise KeyStoreError(f"no active signing key in {self.directory}")
        kid = entry["kid"]
        signer = self._signers.get(kid)
        if signer is None:
            signer = self._signers[kid] = Signer(kid, self.load_private(kid))
        return signer

    def load_private(self, kid: str) -> Ed25519PrivateKey:
        try:
            pem = self._pem_path(kid).read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"private key file for {kid} is missing") from None
        try:
            key = serialization.load_pem_private_key(pem, password=self._passphrase)
        except (TypeError, ValueError) as exc:
            raise KeyStoreError(f"cannot unlock key {kid}: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"key {kid} is not an Ed25519 key")
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        if key_id_for(raw) != kid:
            raise KeyStoreError(f"key file for {kid} holds a different key")
        return key

    def verifier(self) -> Verifier:
        """A verifier of the published keys, made again only when the key file changes.

        The file is looked at once a second at most, not on every scan: a rotation or
        revocation by this store shows at once, one by another process within a second."""
        now = time.monotonic()
        if self._verifier is not None and now - self._verifier_checked < VERIFIER_RECHECK_SECONDS:
            return self._verifier[1]
        meta = self._load_meta()
        if self._verifier is None or self._verifier[0] is not meta:
            self._verifier = (meta, Verifier(self.public_keys()))
        self._verifier_checked = now
        return self._verifier[1]

    def public_keys(self) -> list[dict[str, Any]]:
        """The published key list: kid, alg, public_key, created, retired_at, revoked_at, status."""
        return [
            {
                "kid": e["kid"],
                "alg": e.get("alg", ALGORITHM),
                "public_key": e["public_key"],
                "created": e["created"],
                "retired_at": e.get("retired_at"),
                "revoked_at": e.get("revoked_at"),
                "status": str(self._status(e)),
            }
            for e in self._load_meta()
        ]
