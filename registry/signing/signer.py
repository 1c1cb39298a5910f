"""Ed25519 signing of label URIs, and what signer, verifier and key stores share: the key id,
the key statuses and the key store's errors.

A key id is the first 8 bytes of SHA-256 of the raw 32-byte public key, base64url without
padding (11 characters), as the EU Digital COVID Certificate does. Signatures cover the
host-independent canonical form of a label URI (``registry.gs1.digital_link.canonical_path``)
as UTF-8; key id and signature travel together in the URI's ``s`` parameter (see
``registry.gs1.digital_link``).

Key lifecycle: exactly one key is *active* and signs; a rotation makes a new active key and
*retires* the old one, whose labels stay valid; a revocation marks a compromised key, whose
labels then verify as ``revoked_key``, and deletes its private half so it can never sign again.
The registry keeps its keys in the database (``registry.signing.store``); ``keydir`` reads
the folder layout registries used before; ``verifier`` needs nothing but the published keys,
so anyone can verify offline.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.gs1.digital_link import (
    KEY_ID_BYTES,
    SIGNATURE_PARAM,
    Gs1Error,
    canonical_path,
    check_host,
)

ALGORITHM = "Ed25519"
# Proofs and previews are signed over this prefix and the canonical form, so their codes keep
# a real label's length and shape but can never pass as a label's signature (a label's message
# starts with "/"), and the resolver can still tell "specimen" from "forged".
SPECIMEN_DOMAIN = b"specimen\x00"


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id_for(public_raw: bytes) -> str:
    """Key id of a raw Ed25519 public key."""
    return _b64(hashlib.sha256(public_raw).digest()[:KEY_ID_BYTES])


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
