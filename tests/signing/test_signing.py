"""Ed25519 key store and the offline label verifier."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest

from registry.gs1 import digital_link as gs1
from registry.signing.keydir import KeyDir
from registry.signing.signer import KeyStoreError, key_id_for
from registry.signing.verifier import VerifyStatus, verify_uri

GTIN = gs1.registry_gtin(12)


@pytest.fixture
def store(tmp_path: Path) -> KeyDir:
    ks = KeyDir(tmp_path / "keys", passphrase="correct horse")
    ks.create_key()
    return ks


def test_key_id_is_first_8_bytes_of_sha256_base64url(store: KeyDir) -> None:
    signer = store.active_signer()
    raw = signer.public_key_raw()
    digest = hashlib.sha256(raw).digest()[:8]
    assert signer.kid == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert key_id_for(raw) == signer.kid and len(signer.kid) == 11
    assert len(signer.sign(b"x")) == 86


def test_signed_uri_verifies_with_published_keys_only(store: KeyDir) -> None:
    uri = store.active_signer().label_uri("mib.id", GTIN, "LOT-1", "42")
    assert len(uri) < 160
    published = json.loads(json.dumps(store.public_keys()))  # what an offline verifier has
    result = verify_uri(uri, published)
    assert result.status is VerifyStatus.VALID and result.ok
    assert result.link is not None and result.link.serial == "42"
    assert verify_uri(gs1.parse_uri(uri), published).ok
    # The host is not signed: the same label on another host name still verifies.
    assert verify_uri(uri.replace("mib.id", "other.example"), published).ok


def test_signer_label_uri_matches_build_uri(store: KeyDir) -> None:
    signer = store.active_signer()
    uri = signer.label_uri("mib.id", GTIN, "L/1 2"[:3], "7")
    sig = signer.sign_label(GTIN, "L/1", "7")
    assert uri == gs1.build_uri("mib.id", GTIN, "L/1", "7", key_id=signer.kid, signature=sig)


def test_any_single_character_tamper_breaks_verification(store: KeyDir) -> None:
    keys = store.public_keys()
    uri = store.active_signer().label_uri("mib.id", GTIN, "LOT%7", "123")
    original = gs1.parse_uri(uri)
    start = uri.index("/01/")  # the host is deliberately unsigned
    replacements = "0179AZaz_-%/?=&."
    checked = 0
    for pos in range(start, len(uri)):
        for ch in replacements:
            if ch == uri[pos]:
                continue
            tampered = uri[:pos] + ch + uri[pos + 1 :]
            result = verify_uri(tampered, keys)
            if result.ok:
                # Only a different spelling of the very same label may still verify
                # (e.g. lower-case hex in a percent-escape).
                assert result.link == original, tampered
            checked += 1
    assert checked > 1500


def test_rotation_keeps_retired_key_valid_and_revocation_kills_it(store: KeyDir) -> None:
    old = store.active_signer()
    old_uri = old.label_uri("mib.id", GTIN, "LOT-1", "1")
    new_kid = store.rotate()
    assert store.active_signer().kid == new_kid != old.kid
    keys = {k["kid"]: k for k in store.public_keys()}
    assert keys[old.kid]["status"] == "retired" and keys[old.kid]["retired_at"]
    assert keys[new_kid]["status"] == "active"
    assert verify_uri(old_uri, store.public_keys()).ok

    new_uri = store.active_signer().label_uri("mib.id", GTIN, "LOT-1", "2")
    store.revoke(old.kid)
    assert verify_uri(old_uri, store.public_keys()).status is VerifyStatus.REVOKED_KEY
    assert verify_uri(new_uri, store.public_keys()).ok
    assert not (store.directory / f"key-{old.kid}.pem").exists()
    entry = next(k for k in store.public_keys() if k["kid"] == old.kid)
    assert entry["status"] == "revoked" and entry["revoked_at"]


def test_revoking_the_active_key_needs_its_successor(store: KeyDir) -> None:
    kid = store.active_signer().kid
    with pytest.raises(KeyStoreError, match="--with-successor"):
        store.revoke(kid)
    assert store.active_signer().kid == kid  # refused: nothing changed
    successor = store.revoke(kid, with_successor=True)
    assert successor and store.active_signer().kid == successor != kid
    statuses = {k["kid"]: k["status"] for k in store.public_keys()}
    assert statuses == {kid: "revoked", successor: "active"}


def test_unknown_key_and_bad_input(store: KeyDir, tmp_path: Path) -> None:
    other = KeyDir(tmp_path / "other")
    other.create_key()
    uri = other.active_signer().label_uri("mib.id", GTIN, "L", "1")
    assert verify_uri(uri, store.public_keys()).status is VerifyStatus.UNKNOWN_KEY
    unsigned = gs1.build_uri("mib.id", GTIN, "L", "1")
    assert verify_uri(unsigned, store.public_keys()).status is VerifyStatus.INVALID
    assert verify_uri("not a uri", store.public_keys()).status is VerifyStatus.INVALID
    # A published entry whose kid does not belong to its key is not trusted.
    forged = [dict(k, kid=other.active_signer().kid) for k in store.public_keys()]
    assert verify_uri(uri, forged).status is VerifyStatus.UNKNOWN_KEY


def test_private_keys_are_0600_and_encrypted(store: KeyDir, tmp_path: Path) -> None:
    kid = store.active_signer().kid
    pem = store.directory / f"key-{kid}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in pem.read_bytes()
    with pytest.raises(KeyStoreError):
        KeyDir(store.directory, passphrase="wrong").active_signer()
    plain = KeyDir(tmp_path / "plain")
    plain.create_key()
    assert b"BEGIN PRIVATE KEY" in next((tmp_path / "plain").glob("key-*.pem")).read_bytes()


def test_create_key_twice_is_refused(store: KeyDir) -> None:
    with pytest.raises(KeyStoreError):
        store.create_key()


def test_other_process_sees_rotation_and_signer_is_reused(store: KeyDir) -> None:
    signer = store.active_signer()
    assert store.active_signer() is signer  # not re-loaded per label
    elsewhere = KeyDir(store.directory, passphrase="correct horse")
    new_kid = elsewhere.rotate()
    assert store.active_signer().kid == new_kid


def test_public_keys_shape(store: KeyDir) -> None:
    (entry,) = store.public_keys()
    assert set(entry) == {
        "kid", "alg", "public_key", "created", "retired_at", "revoked_at", "status",
    }
    assert entry["alg"] == "Ed25519" and entry["status"] == "active"
    assert len(base64.urlsafe_b64decode(entry["public_key"] + "=")) == 32
