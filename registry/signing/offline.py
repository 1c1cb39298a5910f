"""Verify a label with nothing but the registry's published keys: no database, no Flask.

The keys are what ``/.well-known/registry-keys.json`` publishes::

    {"keys": [{"kid": "...", "alg": "Ed25519", "public_key": "<base64url 32 bytes>",
               "created": "...", "retired_at": null, "revoked_at": null, "status": "active"}]}

Usage from Python::

    import json, urllib.request
    from registry.signing.offline import verify_label
    keys = json.load(urllib.request.urlopen("https://HOST/.well-known/registry-keys.json"))
    result = verify_label("https://HOST/01/.../10/LOT/21/42?s=...", keys)
    result.status  # valid / invalid / unknown_key / revoked_key

What a valid result proves: the registry issued this serial of this lot of this product. It
cannot prove that the package in hand is the one the label was printed for, nor that the
batch is still certified (that is the online page's job: status, "never printed", copies).
A *retired* key still verifies (its labels stay valid after a rotation); a *revoked* key
does not, except for the labels the registry signed with it before the revocation's effective
time: a revoked entry lists them as ``signed_before_revocation`` ranges ({gtin, lot,
serial_first, serial_last}, from ``revoked_from`` back), and a label inside one is valid, with
a note saying so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry.signing.verifier import VerifyStatus, verify_uri

__all__ = ["EXIT_CODES", "OfflineResult", "keys_of", "verify_label"]

# Exit codes of ``flask --app registry verify-label``.
EXIT_CODES = {
    VerifyStatus.VALID: 0,
    VerifyStatus.INVALID: 1,
    VerifyStatus.UNKNOWN_KEY: 2,
    VerifyStatus.REVOKED_KEY: 3,
}

WORDS = {
    VerifyStatus.VALID: "valid",
    VerifyStatus.INVALID: "invalid",
    VerifyStatus.UNKNOWN_KEY: "unknown key",
    VerifyStatus.REVOKED_KEY: "revoked key",
}


@dataclass(frozen=True, slots=True)
class OfflineResult:
    status: VerifyStatus
    reason: str = ""
    key_id: str | None = None
    key_status: str | None = None  # active / retired / revoked, as published
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status is VerifyStatus.VALID

    @property
    def word(self) -> str:
        return WORDS[self.status]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def describe(self) -> str:
        parts = [self.word]
        if self.gtin:
            parts.append(f"GTIN {self.gtin} lot {self.lot} serial {self.serial}")
        if self.key_id:
            parts.append(f"key {self.key_id}" + (f" ({self.key_status})" if self.key_status
                                                 else ""))
        if self.reason and not self.ok:
            parts.append(self.reason)
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)


def keys_of(keys_document: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> (
    list[Mapping[str, Any]]
):
    """The key entries of a published keys document (or of a bare list of entries)."""
    entries = keys_document.get("keys", []) if isinstance(keys_document, Mapping) \
        else keys_document
    if not isinstance(entries, Sequence) or isinstance(entries, str | bytes):
        return []
    return [entry for entry in entries if isinstance(entry, Mapping)]


def verify_label(uri: str, keys_document: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> (
    OfflineResult
):
    """Check a label URI's signature against the published keys; never raises for bad input."""
    entries = keys_of(keys_document)
    result = verify_uri(uri, entries)
    key_status = None
    entry = next((e for e in entries if result.key_id is not None
                  and e.get("kid") == result.key_id), None)
    if entry is not None:
        key_status = ("revoked" if entry.get("revoked_at")
                      else str(entry.get("status") or "")
                      or ("retired" if entry.get("retired_at") else "active"))
    link = result.link
    status, note = result.status, ""
    if status is VerifyStatus.REVOKED_KEY and entry is not None and link is not None \
            and _signed_before(entry, link.gtin, link.lot, link.serial_number):
        status = VerifyStatus.VALID
        note = (f"signed by the registry before the key's revocation "
                f"(effective {entry.get('revoked_from') or entry.get('revoked_at')})")
    return OfflineResult(
        status=status, reason=result.reason, key_id=result.key_id,
        key_status=key_status,
        gtin=link.gtin if link else None, lot=link.lot if link else None,
        serial=link.serial if link else None, note=note,
    )


def _signed_before(entry: Mapping[str, Any], gtin: str, lot: str, serial: int | None) -> bool:
    """Whether a revoked key's entry lists this label among those the registry signed before
    the revocation took effect. Anything malformed in the list vouches for nothing."""
    ranges = entry.get("signed_before_revocation")
    if serial is None or not isinstance(ranges, Sequence) or isinstance(ranges, str | bytes):
        return False
    for r in ranges:
        if not isinstance(r, Mapping):
            continue
        first, last = r.get("serial_first"), r.get("serial_last")
        if (r.get("gtin") == gtin and r.get("lot") == lot and isinstance(first, int)
                and isinstance(last, int) and first <= serial <= last):
            return True
    return False
