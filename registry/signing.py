"""Ed25519 signing keys for label URIs, and the offline verifier.

A key id is the first 8 bytes of SHA-256 of the raw 32-byte public key, base64url without
padding (11 characters), as the EU Digital COVID Certificate does. Signatures cover the
host-independent canonical form of a label URI (``registry.gs1.digital_link.canonical_path``)
as UTF-8; key id and signature travel together in the URI's ``s`` parameter (see
``registry.gs1.digital_link``).

Key lifecycle: exactly one key is *active* and signs; a rotation makes a new active key and
*retires* the old one, whose labels stay valid; a revocation marks a compromised key, whose
labels then verify as ``revoked_key``, and deletes its private half so it can never sign again.
The registry keeps its keys in the database (``registry.keys``); ``KeyDir`` here is the folder
layout registries used before (``keys.json`` and ``key-*.pem``), kept to read such a folder for
``keys import-dir`` and for standalone keys in tests and benchmarks. ``Verifier`` and
``verify_uri`` need nothing but the published keys, so anyone can verify offline.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from registry.gs1.digital_link import (
    KEY_ID_BYTES,
    SIGNATURE_PARAM,
    DigitalLink,
    Gs1Error,
    canonical_path,
    check_host,
    parse_uri,
)

__all__ = [
    "ALGORITHM",
    "SPECIMEN_DOMAIN",
    "KeyDir",
    "KeyStatus",
    "KeyStoreError",
    "KeyStoreUnavailable",
    "Signer",
    "Verifier",
    "VerifyResult",
    "VerifyStatus",
    "key_id_for",
    "verify_uri",
]

ALGORITHM = "Ed25519"
# Proofs and previews are signed over this prefix and the canonical form, so their codes keep
# a real label's length and shape but can never pass as a label's signature (a label's message
# starts with "/"), and the resolver can still tell "specimen" from "forged".
SPECIMEN_DOMAIN = b"specimen\x00"
METADATA_FILE = "keys.json"
LOCK_FILE = ".lock"
VERIFIER_RECHECK_SECONDS = 1.0


class KeyStoreError(RuntimeError):
    """The key store cannot do what was asked (no active key, unknown key, bad passphrase…)."""


class KeyStoreUnavailable(KeyStoreError):
    """The key store cannot be read at all (database down, table missing, wrong
    key-encryption key): the registry cannot vouch for any label just now, which is never the
    same as "not genuine"."""


class KeyStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


class VerifyStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"  # malformed, unsigned, wrong signature, or a key that is not Ed25519
    UNKNOWN_KEY = "unknown_key"
    REVOKED_KEY = "revoked_key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id_for(public_raw: bytes) -> str:
    """Key id of a raw Ed25519 public key."""
    return _b64(hashlib.sha256(public_raw).digest()[:KEY_ID_BYTES])


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True, eq=False)
class Signer:
    """An unlocked private key. Keep and reuse it: loading a PEM costs far more than signing."""

    kid: str
    private_key: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        """Ed25519 signature as 86 characters of base64url."""
        return _b64(self.private_key.sign(message))

    def sign_label(self, gtin: str, lot: str, serial: str) -> str:
        return self.sign(canonical_path(gtin, lot, serial).encode())

    def label_uri(self, host: str, gtin: str, lot: str, serial: str, scheme: str = "https") -> str:
        """The signed label URI for the QR code (what ``build_uri`` makes, done in one pass)."""
        if scheme not in ("https", "http"):
            raise Gs1Error("scheme must be https or http")
        canonical = canonical_path(gtin, lot, serial)
        field = _b64(_unb64(self.kid) + self.private_key.sign(canonical.encode()))
        return f"{scheme}://{check_host(host)}{canonical}?{SIGNATURE_PARAM}={field}"

    def specimen_uri(self, host: str, gtin: str, lot: str, serial: str,
                     scheme: str = "https") -> str:
        """A proof's code: shaped like a label URI, signed in the specimen domain only."""
        if scheme not in ("https", "http"):
            raise Gs1Error("scheme must be https or http")
        canonical = canonical_path(gtin, lot, serial)
        signature = self.private_key.sign(SPECIMEN_DOMAIN + canonical.encode())
        field = _b64(_unb64(self.kid) + signature)
        return f"{scheme}://{check_host(host)}{canonical}?{SIGNATURE_PARAM}={field}"

    def public_key_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


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


@dataclass(frozen=True, slots=True)
class VerifyResult:
    status: VerifyStatus
    link: DigitalLink | None = None
    key_id: str | None = None
    reason: str = ""
    # The signature is a registry key's, over the specimen domain: a proof, not a label.
    specimen: bool = False

    @property
    def ok(self) -> bool:
        return self.status is VerifyStatus.VALID


class Verifier:
    """Published keys made ready to check signatures: entries whose kid does not match their
    key are dropped, and each key is loaded once instead of on every verification.

    Checking uses libsodium (PyNaCl), which verifies Ed25519 about twice as fast as OpenSSL
    here; every scan pays for one check, so it is the largest single cost of a verification.
    Both follow RFC 8032, and libsodium is the stricter (it refuses small-order keys)."""

    def __init__(self, public_keys: Sequence[Mapping[str, Any]]) -> None:
        self._keys: dict[str, tuple[VerifyKey | None, bool]] = {}
        for entry in public_keys:
            try:
                raw = _unb64(str(entry["public_key"]))
                kid = str(entry["kid"])
            except (KeyError, ValueError, TypeError):
                continue
            # An entry whose kid does not match its key is ignored rather than trusted.
            if len(raw) != 32 or key_id_for(raw) != kid:
                continue
            revoked = bool(entry.get("revoked_at")) or entry.get("status") == KeyStatus.REVOKED
            # A key of another algorithm is known but cannot vouch for anything.
            usable = entry.get("alg", ALGORITHM) == ALGORITHM
            self._keys[kid] = (VerifyKey(raw) if usable else None, revoked)

    def verify(self, uri_or_parsed: str | DigitalLink) -> VerifyResult:
        """Check a label URI; never raises for bad input."""
        if isinstance(uri_or_parsed, DigitalLink):
            link = uri_or_parsed
        else:
            try:
                link = parse_uri(uri_or_parsed)
            except Gs1Error as exc:
                return VerifyResult(VerifyStatus.INVALID, reason=f"malformed: {exc}")
        if link.signature is None or link.key_id is None:
            return VerifyResult(VerifyStatus.INVALID, link, reason="unsigned")
        known = self._keys.get(link.key_id)
        if known is None:
            return VerifyResult(VerifyStatus.UNKNOWN_KEY, link, link.key_id, "key not published")
        public, revoked = known
        if public is None:
            return VerifyResult(VerifyStatus.INVALID, link, link.key_id, "unsupported algorithm")
        try:
            public.verify(link.canonical.encode(), _unb64(link.signature))
        except (BadSignatureError, ValueError, TypeError):
            if is_specimen_serial(link.serial) and _verifies(
                    public, SPECIMEN_DOMAIN + link.canonical.encode(), link.signature):
                return VerifyResult(VerifyStatus.INVALID, link, link.key_id,
                                    "specimen from a proof sheet, not a label", specimen=True)
            return VerifyResult(VerifyStatus.INVALID, link, link.key_id, "bad signature")
        if revoked:
            return VerifyResult(VerifyStatus.REVOKED_KEY, link, link.key_id, "key revoked")
        return VerifyResult(VerifyStatus.VALID, link, link.key_id)


def is_specimen_serial(serial: str) -> bool:
    """Proofs carry serial 0…0, which no print job ever allocates (serials start at 1 and
    have no leading zeros); only such codes are worth a second, specimen-domain check."""
    return bool(serial) and serial.strip("0") == ""


def _verifies(public: VerifyKey, message: bytes, signature: str) -> bool:
    try:
        public.verify(message, _unb64(signature))
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


def verify_uri(
    uri_or_parsed: str | DigitalLink, public_keys: Sequence[Mapping[str, Any]]
) -> VerifyResult:
    """Check a label URI against published keys only; never raises for bad input."""
    return Verifier(public_keys).verify(uri_or_parsed)
