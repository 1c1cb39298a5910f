"""Private signing keys are stored only sealed under the key-encryption key, and a server that
cannot read or open the key store says so (503, readiness) instead of answering "not genuine"
or failing with a 500. Before: private keys were PEM files in clear unless KEY_PASSPHRASE was
set, and with KEY_DIR missing every genuine label read "not a genuine label"."""

from __future__ import annotations

import base64
import stat
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from flask import Flask
from keys_support import JSON, approved, cli, download, order, path_of, printer, server, verdict
from sqlalchemy import text
from sqlmodel import Session, select

from conftest import World
from registry.printing.models import LabelFile
from registry.signing.kek import DEV_FILE
from registry.signing.keys import store_for

OTHER_KEK = base64.b64encode(b"another-key-encryption-key-32-by").decode()


def _secret_forms(app: Flask) -> list[bytes]:
    with app.app_context():
        key = store_for(app).active_signer().private_key
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return [raw, der, pem, base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"=")]


def test_private_keys_are_stored_only_sealed(app: Flask, db: Session, database_url: str,
                                             tmp_path: Path) -> None:
    cli(app, "keys", "ensure")
    cli(app, "keys", "rotate")
    secrets = _secret_forms(app)
    stored = b""
    for table in ("signing_key", "audit_event"):
        for row in db.execute(text(f"SELECT * FROM {table}")):
            stored += b"|".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    assert stored and not any(secret in stored for secret in secrets)
    if database_url.startswith("sqlite"):  # the whole database file and its log
        path = Path(database_url.removeprefix("sqlite:///"))
        # Read by another process: opening and closing the file here would drop this
        # process's POSIX locks on it (SQLite's "how to corrupt a database" §2.2), and the next
        # process to open the database (a gunicorn worker in a later test) could then reset
        # its WAL index under this process's connections: "disk I/O error".
        files = b"".join(subprocess.run(["cat", str(p)], capture_output=True, check=True).stdout
                         for p in (path, Path(f"{path}-wal")) if p.exists())
        assert not any(secret in files for secret in secrets)
    # Nothing in clear in the instance folder or the old key folder either.
    for folder in (Path(app.instance_path), Path(app.config["KEY_DIR"])):
        for file in folder.rglob("*") if folder.exists() else []:
            if file.is_file():
                assert not any(secret in file.read_bytes() for secret in secrets), file


def test_a_development_registry_makes_its_own_key_encryption_key(
        app: Flask, database_url: str, tmp_path: Path) -> None:
    dev = server(database_url, tmp_path, "dev", KEY_ENCRYPTION_KEY=None)
    try:
        code, output = cli(dev, "keys", "ensure")
        assert code == 0, output
        kek_file = Path(dev.instance_path) / DEV_FILE
        assert stat.S_IMODE(kek_file.stat().st_mode) == 0o600
        assert len(base64.b64decode(kek_file.read_text())) == 32
        assert dev.extensions["readiness"]["keys"]() is None
    finally:
        dev.extensions["engine"].dispose()


def test_a_wrong_key_encryption_key_is_a_clear_error_never_not_genuine(
        app: Flask, world: World, db: Session, database_url: str, tmp_path: Path) -> None:
    cli(app, "keys", "ensure")
    approved(world)
    label = download(printer(app), order(world, db, 1))[0]
    wrong = server(database_url, tmp_path, "wrong", KEY_ENCRYPTION_KEY=OTHER_KEK)
    try:
        problem = wrong.extensions["readiness"]["keys"]()
        assert problem is not None and "KEY_ENCRYPTION_KEY" in problem
        assert OTHER_KEK not in problem
        # Its render fails at the key store, is kept for another try and signs nothing; the
        # print shop is told the try failed, not a 500.
        job = order(world, db, 1)
        shop = printer(wrong)
        assert shop.get(f"/print-shop/jobs/{job.id}.pdf").status_code == 303
        db.expire_all()
        row = db.exec(select(LabelFile).where(LabelFile.job_id == job.id)).one()
        assert row.state == "queued" and row.object_name is None
        assert row.error is not None and "KeyStoreUnavailable" in row.error
        page = shop.get(f"/print-shop/jobs/{job.id}").get_data(as_text=True)
        assert "The last try failed; the worker tries again shortly." in page
        # A buyer still gets the truth: verifying needs only the public keys.
        assert verdict(wrong, label)["verdict"] == "genuine"
        # It may not make a key only it could open.
        code, output = cli(wrong, "keys", "rotate")
        assert code != 0 and "not the one the registry's keys are sealed with" in output
        assert store_for(app).check() is None
    finally:
        wrong.extensions["engine"].dispose()


def test_a_malformed_or_missing_key_encryption_key_names_the_setting(
        app: Flask, database_url: str, tmp_path: Path) -> None:
    cli(app, "keys", "ensure")
    kek_file = tmp_path / "kek"
    kek_file.write_text("not base64 at all")
    cases = [
        ({"KEY_ENCRYPTION_KEY": "dG9vIHNob3J0"}, "KEY_ENCRYPTION_KEY must be the base64 of 32"),
        ({"KEY_ENCRYPTION_KEY": None, "KEY_ENCRYPTION_KEY_FILE": str(kek_file)},
         "KEY_ENCRYPTION_KEY_FILE"),
        ({"KEY_ENCRYPTION_KEY": None, "KEY_ENCRYPTION_KEY_FILE": str(tmp_path / "missing")},
         "cannot be read"),
        ({"KEY_ENCRYPTION_KEY": None, "ENV": "production", "PUBLIC_HOST": "registry.test",
          "SECRET_KEY": "a-production-secret-key-of-sufficient-length-0123456789"},
         "KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE must be set in production"),
    ]
    for n, (overrides, expected) in enumerate(cases):
        other = server(database_url, tmp_path, f"bad{n}", **overrides)
        try:
            problem = store_for(other).check()
            assert problem is not None and expected in problem, problem
            code, output = cli(other, "keys", "rotate")
            assert code == 1 and expected in output and "Traceback" not in output
        finally:
            other.extensions["engine"].dispose()
    assert not (Path(tmp_path / "bad3-instance") / DEV_FILE).exists()  # never in production


def test_an_unreadable_key_store_answers_503_not_not_genuine(
        app: Flask, world: World, db: Session, tmp_path: Path) -> None:
    cli(app, "keys", "ensure")
    approved(world)
    label = download(printer(app), order(world, db, 1))[0]
    # A server whose database has no key table (not migrated, or the wrong database).
    empty = server(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path, "empty")
    try:
        http = empty.test_client()
        response = http.get(path_of(label), headers=JSON)
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        body = response.get_json()
        assert body["status"] == 503 and "temporarily unavailable" in body["detail"]
        assert "verdict" not in body
        page = http.get(path_of(label))
        assert page.status_code == 503 and page.headers["Retry-After"]
        html = page.get_data(as_text=True)
        assert "Verification is temporarily unavailable" in html
        assert "not a genuine" not in html.lower()
        assert http.get("/.well-known/registry-keys.json").status_code == 503
        problem = store_for(empty).check()
        assert problem is not None and "cannot be read from the database" in problem
        code, output = cli(empty, "verify-label", label)
        assert code == 1 and "cannot be read" in output
    finally:
        empty.extensions["engine"].dispose()
    assert verdict(app, label)["verdict"] == "genuine"
