"""The offline verifier: the published test vectors, real labels, and the CLI command."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from conftest import World
from registry.clock import utcnow
from registry.signing import keys
from registry.signing.offline import EXIT_CODES, verify_label
from registry.signing.verifier import VerifyStatus
from tests.verify.verify_support import path_of, printed_labels

ROOT = Path(__file__).resolve().parents[2]
VECTORS_FILE = ROOT / "registry" / "verify" / "label-vectors.json"
VECTORS = json.loads(VECTORS_FILE.read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_published_vectors(vector: dict[str, Any]) -> None:
    result = verify_label(vector["uri"], VECTORS)
    assert result.status.value == vector["expected"], result.describe()
    assert result.ok is (vector["expected"] == "valid")


def test_vectors_cover_what_the_issue_asks() -> None:
    expected = {v["expected"] for v in VECTORS["vectors"]}
    assert expected == {"valid", "invalid", "unknown_key", "revoked_key"}
    names = {v["name"] for v in VECTORS["vectors"]}
    assert {"valid", "retired-key", "revoked-key", "wrong-key-unpublished",
            "tampered-signature", "tampered-serial"} <= names
    statuses = {k["status"] for k in VECTORS["keys"]}
    assert statuses == {"active", "retired", "revoked"}


def test_vectors_file_is_reproducible() -> None:
    script = ROOT / "tests" / "vectors" / "make_vectors.py"
    sys.path.insert(0, str(script.parent))
    try:
        import make_vectors
    finally:
        sys.path.remove(str(script.parent))
    assert make_vectors.build() == VECTORS


def test_bare_key_list_and_junk_keys_documents() -> None:
    valid = next(v for v in VECTORS["vectors"] if v["name"] == "valid")["uri"]
    assert verify_label(valid, VECTORS["keys"]).ok
    for junk in ({}, {"keys": "nope"}, {"keys": [1, "x", None]}, []):
        assert verify_label(valid, junk).status is VerifyStatus.UNKNOWN_KEY
    # A key entry whose kid does not belong to its public key is ignored, not trusted.
    swapped = [{**VECTORS["keys"][2], "public_key": VECTORS["keys"][0]["public_key"]}]
    assert verify_label(valid, {"keys": swapped}).status is VerifyStatus.UNKNOWN_KEY
    assert verify_label("not a uri at all", VECTORS).status is VerifyStatus.INVALID
    assert verify_label("", VECTORS).status is VerifyStatus.INVALID


def test_real_printed_labels_verify_offline(app: Flask, make_client: Any, world: World,
                                            db: Session, tmp_path: Path) -> None:
    labels = printed_labels(make_client, world, db, quantity=2)
    published = app.test_client().get("/.well-known/registry-keys.json").get_json()
    for uri in labels:
        result = verify_label(uri, published)
        assert result.ok and result.key_status == "active" and result.lot == "A-LOT-1"
    assert not verify_label(labels[0].replace("/21/1?", "/21/2?"), published).ok


def _cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["verify-label", *args])


def test_cli_exit_codes_with_a_keys_file(app: Flask, tmp_path: Path) -> None:
    keys_file = tmp_path / "registry-keys.json"
    keys_file.write_text(json.dumps({"keys": VECTORS["keys"]}), "utf-8")
    words = {"valid": "valid", "invalid": "invalid", "unknown_key": "unknown key",
             "revoked_key": "revoked key"}
    for vector in VECTORS["vectors"]:
        result = _cli(app, vector["uri"], "--keys", str(keys_file))
        expected = VerifyStatus(vector["expected"])
        assert result.exit_code == EXIT_CODES[expected], (vector["name"], result.output)
        assert result.output.startswith(words[vector["expected"]]), result.output
    assert {EXIT_CODES[s] for s in VerifyStatus} == {0, 1, 2, 3}


def test_cli_defaults_to_the_registry_keys(app: Flask, make_client: Any, world: World,
                                           db: Session) -> None:
    labels = printed_labels(make_client, world, db, quantity=1)
    result = _cli(app, labels[0])
    assert result.exit_code == 0, result.output
    assert "serial 1" in result.output and "(active)" in result.output
    # The path alone (what a phone's address bar shows) works too.
    assert _cli(app, path_of(labels[0])).exit_code == 0
    with app.app_context():
        kid = keys.keystore().active_signer().kid
        keys.keystore().rotate()
        # Leaked before this label was printed: the registry cannot tell it from a forgery.
        keys.keystore().revoke(kid, effective=utcnow() - dt.timedelta(hours=1))
    result = _cli(app, labels[0])
    assert result.exit_code == 3 and result.output.startswith("revoked key"), result.output


def test_cli_bad_keys_file(app: Flask, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    result = _cli(app, VECTORS["vectors"][0]["uri"], "--keys", str(bad))
    assert result.exit_code not in (0, 2, 3)
    assert "not JSON" in result.output


def test_cli_runs_without_a_database(tmp_path: Path) -> None:
    """The real command line, with a database URL that cannot be opened."""
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(VECTORS), "utf-8")
    env = {"PATH": "/usr/bin:/bin", "REGISTRY_INSTANCE": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/none.sqlite3",
           "SECRET_KEY": "x" * 48, "KEY_DIR": str(tmp_path / "keys"),
           "UPLOAD_DIR": str(tmp_path / "uploads")}
    flask = Path(sys.executable).parent / "flask"
    for vector in (VECTORS["vectors"][0], VECTORS["vectors"][5]):
        done = subprocess.run(
            [str(flask), "--app", "registry", "verify-label", vector["uri"], "--keys",
             str(keys_file)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
            check=False)
        assert done.returncode == EXIT_CODES[VerifyStatus(vector["expected"])], done.stderr
