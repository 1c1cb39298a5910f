"""Checking label signatures with nothing but the published keys (no private key, no
database): what the resolver does on every scan, and what anyone can do offline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from registry.gs1.digital_link import DigitalLink, Gs1Error, parse_uri
from registry.signing.signer import ALGORITHM, SPECIMEN_DOMAIN, KeyStatus, _unb64, key_id_for


class VerifyStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"  # malformed, unsigned, wrong signature, or a key that is not Ed25519
    UNKNOWN_KEY = "unknown_key"
    REVOKED_KEY = "revoked_key"


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
