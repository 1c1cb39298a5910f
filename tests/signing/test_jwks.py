"""The public keys as a JWK Set (RFC 7517, OKP/Ed25519 per RFC 8037) that a standard JOSE
library reads, and the published test vectors under /.well-known/."""

from __future__ import annotations

import base64
import tomllib
from pathlib import Path

from flask import Flask
from jwcrypto import jwk
from keys_support import approved, cli, download, order, printer
from sqlmodel import Session

from conftest import World
from registry.gs1.digital_link import parse_uri

ROOT = Path(__file__).resolve().parents[2]


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_jose_library_verifies_a_printed_label_with_the_published_jwk(
        app: Flask, world: World, db: Session) -> None:
    retired = cli(app, "keys", "ensure")[1].split()[-1]
    approved(world)
    old_label = download(printer(app), order(world, db, 1))[0]
    cli(app, "keys", "rotate")
    revoked = cli(app, "keys", "rotate")[1].split()[-1]
    active = cli(app, "keys", "revoke", revoked, "--with-successor")[1].split()[-1]
    label = download(printer(app), order(world, db, 1))[0]

    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.mimetype == "application/jwk-set+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    keyset = jwk.JWKSet.from_json(response.get_data(as_text=True))
    kids = {k.get("kid") for k in keyset}
    assert revoked not in kids and {retired, active} <= kids  # revoked keys are left out
    for entry in response.get_json()["keys"]:
        assert entry["kty"] == "OKP" and entry["crv"] == "Ed25519"
        assert entry["alg"] == "EdDSA" and entry["use"] == "sig" and "d" not in entry

    for uri in (label, old_label):
        link = parse_uri(uri)
        key = keyset.get_key(link.key_id)
        assert key is not None and not key.has_private
        signature = _unb64(link.signature or "")
        # The signature covers the host-independent canonical path (README, Labels).
        key.get_op_key("verify").verify(signature, link.canonical.encode())
        tampered = link.canonical.replace(f"/21/{link.serial}", "/21/999")
        try:
            key.get_op_key("verify").verify(signature, tampered.encode())
        except Exception:  # cryptography's InvalidSignature
            pass
        else:
            raise AssertionError("a changed serial verified")


def test_the_test_vectors_are_served_as_committed(app: Flask) -> None:
    response = app.test_client().get("/.well-known/label-vectors.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_data() == (ROOT / "registry" / "verify" / "label-vectors.json").read_bytes()
    # Shipped with the package, not only present in a checkout.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "verify/label-vectors.json" in project["tool"]["setuptools"]["package-data"]["registry"]
