"""Generate ``label-vectors.json``: published test vectors for offline label verification.

Run once (``.venv/bin/python tests/vectors/make_vectors.py``); the output is committed and
must not change, so the keys come from fixed seeds and Ed25519 signatures are deterministic:
running the script again reproduces the file byte for byte.

The keys document in the file has the shape ``/.well-known/registry-keys.json`` publishes:
an active key, a retired key (its labels stay valid) and a revoked key (its labels do not).
A fourth key, "unpublished", signs the wrong-key vectors and is deliberately left out. A fifth,
"revoked-from", was revoked with an effective time (issue 12): its entry lists the label ranges
the registry signed with it before then (``signed_before_revocation``), which stay valid. It
and its two vectors come last, so the earlier entries keep their bytes.
The seeds are public: these keys are for tests only, never for a registry.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from registry.gs1.digital_link import canonical_path, pack_signature
from registry.signing.signer import Signer, _b64, key_id_for

OUT = Path(__file__).resolve().parents[2] / "registry" / "verify" / "label-vectors.json"
HOST = "verify.example"
GTIN = "00490000000016"  # registry-issued identifier of product 1 (prefix 04, check digit 6)
REAL_GTIN = "08991234567891"  # a company GTIN (GS1 Indonesia prefix 899)


def _signer(name: str) -> Signer:
    seed = hashlib.sha256(f"made-in-bali-ntb-ntt test vector key {name}".encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    return Signer(key_id_for(raw), key)


def _entry(signer: Signer, created: str, retired: str | None, revoked: str | None) -> (
    dict[str, Any]
):
    status = "revoked" if revoked else "retired" if retired else "active"
    return {"kid": signer.kid, "alg": "Ed25519", "public_key": _b64(signer.public_key_raw()),
            "created": created, "retired_at": retired, "revoked_at": revoked, "status": status}


def _uri(signer: Signer, gtin: str, lot: str, serial: str) -> str:
    return signer.label_uri(HOST, gtin, lot, serial)


def _with_path(uri: str, old: str, new: str) -> str:
    path, _, query = uri.partition("?")
    return path.replace(old, new) + "?" + query


def build() -> dict[str, Any]:
    active, retired, revoked, stranger, revoked_from = (
        _signer(n) for n in ("active", "retired", "revoked", "unpublished", "revoked-from"))
    keys = {"keys": [
        _entry(retired, "2025-01-06T02:00:00Z", "2026-01-05T02:00:00Z", None),
        _entry(revoked, "2025-06-02T02:00:00Z", "2025-09-01T02:00:00Z", "2025-09-01T02:00:00Z"),
        _entry(active, "2026-01-05T02:00:00Z", None, None),
        {**_entry(revoked_from, "2025-03-03T02:00:00Z", "2025-12-01T02:00:00Z",
                  "2025-12-01T02:00:00Z"),
         "revoked_from": "2025-11-20T00:00:00Z",
         "signed_before_revocation": [{"gtin": GTIN, "lot": "A-LOT-3", "serial_first": 1,
                                       "serial_last": 500}]},
    ]}
    valid = _uri(active, GTIN, "A-LOT-1", "42")
    field = valid.rsplit("=", 1)[1]
    # The same canonical form signed by the unpublished key, but under the active key's id.
    forged = pack_signature(active.kid, stranger.sign(canonical_path(GTIN, "A-LOT-1", "42")
                                                      .encode()))
    flipped = field[:40] + ("A" if field[40] != "A" else "B") + field[41:]
    vectors: list[dict[str, Any]] = [
        {"name": "valid", "uri": valid, "expected": "valid",
         "note": "signed by the active key"},
        {"name": "valid-company-gtin", "uri": _uri(active, REAL_GTIN, "KOPI/2026%07", "1"),
         "expected": "valid",
         "note": "a lot with a slash and a percent sign, percent-encoded in the canonical form"},
        {"name": "valid-gtin13-spelling",
         "uri": _with_path(_uri(active, REAL_GTIN, "L1", "7"), f"/01/{REAL_GTIN}/",
                           f"/01/{REAL_GTIN[1:]}/"),
         "expected": "valid",
         "note": "GTIN-13 spelling of the same GTIN-14: the canonical form pads it"},
        {"name": "valid-other-host",
         "uri": valid.replace(f"https://{HOST}/", "http://127.0.0.1:5000/"),
         "expected": "valid", "note": "the host is not signed"},
        {"name": "retired-key", "uri": _uri(retired, GTIN, "A-LOT-0", "7"), "expected": "valid",
         "note": "labels of a retired key stay valid after a rotation"},
        {"name": "revoked-key", "uri": _uri(revoked, GTIN, "A-LOT-1", "9"),
         "expected": "revoked_key", "note": "a compromised key's labels no longer verify"},
        {"name": "wrong-key-unpublished", "uri": _uri(stranger, GTIN, "A-LOT-1", "42"),
         "expected": "unknown_key", "note": "signed by a key the registry never published"},
        {"name": "wrong-key-same-kid", "uri": valid.rsplit("=", 1)[0] + "=" + forged,
         "expected": "invalid",
         "note": "another key's signature under the active key's id"},
        {"name": "tampered-serial", "uri": _with_path(valid, "/21/42", "/21/43"),
         "expected": "invalid", "note": "serial changed after signing"},
        {"name": "tampered-lot", "uri": _with_path(valid, "/10/A-LOT-1/", "/10/A-LOT-2/"),
         "expected": "invalid", "note": "lot changed after signing"},
        {"name": "tampered-gtin",
         "uri": _with_path(_uri(active, REAL_GTIN, "L1", "7"), REAL_GTIN, "08991234567907"),
         "expected": "invalid", "note": "another valid GTIN, same lot and serial"},
        {"name": "tampered-signature", "uri": valid.rsplit("=", 1)[0] + "=" + flipped,
         "expected": "invalid", "note": "one character of the signature changed"},
        {"name": "unsigned", "uri": valid.split("?", 1)[0], "expected": "invalid",
         "note": "no s parameter"},
        {"name": "malformed-check-digit", "uri": _with_path(valid, GTIN, GTIN[:-1] + "7"),
         "expected": "invalid", "note": "GTIN check digit wrong"},
        {"name": "specimen-proof", "uri": active.specimen_uri(HOST, GTIN, "A-LOT-1", "00"),
         "expected": "invalid", "note": "a proof's code: serial 0…0 signed over "
                                        "'specimen\\0' + the canonical form, never a label"},
        {"name": "malformed-order",
         "uri": f"https://{HOST}/01/{GTIN}/21/42/10/A-LOT-1?s={field}",
         "expected": "invalid", "note": "serial before lot"},
        {"name": "revoked-from-signed-before", "uri": _uri(revoked_from, GTIN, "A-LOT-3", "250"),
         "expected": "valid",
         "note": "a key revoked with an effective time: this label lies in a range the "
                 "registry signed before then (signed_before_revocation)"},
        {"name": "revoked-from-not-signed-before",
         "uri": _uri(revoked_from, GTIN, "A-LOT-3", "501"), "expected": "revoked_key",
         "note": "the same revoked key, a serial outside the ranges signed before the "
                 "effective time: what a thief holding the key would make"},
    ]
    return {
        "description": "Test vectors for offline verification of Made in Bali–NTB–NTT label "
                       "URIs. Verify each uri against keys (the document the registry "
                       "publishes at /.well-known/registry-keys.json) and compare with "
                       "expected: valid, invalid, unknown_key or revoked_key. Test keys "
                       "only; generated by tests/vectors/make_vectors.py.",
        "canonical_form": "/01/{gtin14}/10/{lot}/21/{serial}",
        "signature_parameter": "s = base64url(key_id[8] || ed25519_sig[64])",
        "keys": keys["keys"],
        "vectors": vectors,
    }


def main() -> None:
    OUT.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
