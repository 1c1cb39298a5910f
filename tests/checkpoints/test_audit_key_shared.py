"""The audit checkpoint key lives in the database, sealed under the key-encryption key, so every
app server signs checkpoints with the one key and publishes the same verifier key. Before, it
was a PEM file in one host's AUDIT_KEY_DIR: a second server answered 404 at
/.well-known/audit-key, or made and published a key of its own."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlmodel import Session, select

from conftest import TEST_KEK, World, world_kek
from registry import create_app
from registry.audit.models import AuditEvent
from registry.checkpoints.keydir import AuditKeyFolder
from registry.checkpoints.keys import AuditKeyError, AuditKeyExists, AuditKeyStore
from registry.checkpoints.models import AuditKey
from registry.checkpoints.note import VerifierKey, open_checkpoint
from registry.checkpoints.services import make_checkpoint
from registry.signing.kek import KekError

ORIGIN = "registry.test/audit-log"
OTHER_KEK = base64.b64encode(b"another-key-encryption-key-32-by").decode()


def server(database_url: str, tmp_path: Path, name: str, **overrides: Any) -> Flask:
    """Another app server: its own instance and key folders, the same database and KEK."""
    config = {
        "DATABASE_URL": database_url, "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "INSTANCE_PATH": str(tmp_path / f"{name}-instance"),
        "UPLOAD_DIR": str(tmp_path / f"{name}-uploads"), "KEY_DIR": str(tmp_path / f"{name}-keys"),
        "AUDIT_KEY_DIR": str(tmp_path / f"{name}-audit-keys"),
        "KEY_ENCRYPTION_KEY": TEST_KEK, "RATELIMIT_STORAGE_URI": "memory://",
        "AUDIT_ORIGIN": ORIGIN,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def servers(app: Flask, database_url: str, tmp_path: Path) -> Iterator[list[Flask]]:
    made = [server(database_url, tmp_path, name) for name in ("a", "b")]
    yield made
    for other in made:
        other.extensions["engine"].dispose()


def audit(app: Flask, *args: str) -> tuple[int, str, str]:
    result = app.test_cli_runner().invoke(args=["audit", *args])
    return result.exit_code, result.stdout, result.stderr


def published_key(app: Flask) -> tuple[int, str]:
    response = app.test_client().get("/.well-known/audit-key")
    return response.status_code, response.get_data(as_text=True)


def published_checkpoint(app: Flask) -> str:
    response = app.test_client().get("/.well-known/audit-checkpoint")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def events(db: Session, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_two_servers_publish_one_audit_key_and_either_signs_a_checkpoint_that_verifies(
        servers: list[Flask], world: World, db: Session) -> None:
    a, b = servers
    assert published_key(a)[0] == published_key(b)[0] == 404
    code, out, err = audit(a, "checkpoint")
    assert code == 0, out + err
    assert "made the audit key" in err
    status_a, key_a = published_key(a)
    status_b, key_b = published_key(b)
    assert status_a == status_b == 200 and key_a == key_b
    verifier = VerifierKey.parse(key_a)
    assert verifier.name == ORIGIN
    assert open_checkpoint(published_checkpoint(b), verifier).size == \
        open_checkpoint(out, verifier).size

    # More events, then B signs: the same key, a larger checkpoint either server publishes.
    world.submit(world.batch_a, world.exporter_a)
    code, out, err = audit(b, "checkpoint")
    assert code == 0, out + err
    assert "audit key" not in err  # B neither made nor imported one
    for other in servers:
        assert published_key(other) == (200, key_a)
        note = published_checkpoint(other)
        assert note == out
        assert open_checkpoint(note, verifier).size > 1
    code, out, _err = audit(b, "key")
    assert (code, out) == (0, key_a)
    # Nothing in the servers' folders: the key is the database's.
    for other in servers:
        folder = Path(other.config["AUDIT_KEY_DIR"])
        assert not folder.exists() or not any(folder.iterdir())
    assert len(events(db, "key.audit_create")) == 1


def test_the_private_half_is_stored_only_sealed_and_never_opens_as_a_label_key(
        servers: list[Flask], db: Session) -> None:
    a, _b = servers
    with a.app_context():
        signer, made = AuditKeyStore.for_app(a).ensure(ORIGIN)
    assert made
    seed = signer.private_key.private_bytes_raw()
    row = db.exec(select(AuditKey)).one()
    assert row.kek_id == world_kek().id and seed not in row.private_key
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode()
                      for table in ("audit_key", "audit_event")
                      for r in db.execute(text(f"SELECT * FROM {table}")) for v in r)
    assert seed not in stored and base64.b64encode(seed) not in stored
    # Another kind of secret: it does not open as a label key, nor as a user's seed.
    with pytest.raises(KekError):
        world_kek().unwrap(ORIGIN, row.private_key, row.kek_id)
    with pytest.raises(KekError):
        world_kek().open("totp:1", row.private_key, row.kek_id)
    # Nor is it ever published among the label keys.
    keys = a.test_client().get("/.well-known/registry-keys.json").get_json()["keys"]
    assert all(base64.urlsafe_b64decode(k["public_key"] + "=") != signer.public_raw
               for k in keys)


@pytest.mark.parametrize("how", ["create", "ensure"])
def test_two_servers_making_the_key_at_once_keep_exactly_one(
        app: Flask, database_url: str, tmp_path: Path, db: Session, how: str) -> None:
    made = [server(database_url, tmp_path, f"s{n}") for n in range(2)]
    barrier = threading.Barrier(len(made))
    results: list[Any] = []
    refused: list[BaseException] = []

    def make(other: Flask) -> None:
        store = AuditKeyStore.for_app(other)
        barrier.wait()
        try:
            results.append(store.create(ORIGIN) if how == "create" else store.ensure(ORIGIN))
        except BaseException as exc:  # reported below
            refused.append(exc)

    threads = [threading.Thread(target=make, args=(s,)) for s in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for other in made:
        other.extensions["engine"].dispose()
    row = db.exec(select(AuditKey)).one()
    stored = VerifierKey(row.name, row.public_key)
    if how == "create":  # one made it, the other is told
        assert len(results) == 1 and results[0].verifier == stored
        assert len(refused) == 1 and isinstance(refused[0], AuditKeyExists), refused
    else:  # both get the one key, made by one of them
        assert refused == []
        assert [s.verifier for s, _made in results] == [stored, stored]
        assert sorted(m for _s, m in results) == [False, True]
    assert len(events(db, "key.audit_create")) == 1


def test_a_folder_key_imported_keeps_the_offices_verifier_key(
        app: Flask, database_url: str, tmp_path: Path, world: World, db: Session) -> None:
    # The old way: a passphrase-protected PEM in one host's folder, a checkpoint it signed,
    # kept by an office.
    folder = AuditKeyFolder(tmp_path / "old-audit", "folder passphrase")
    old = folder.create(ORIGIN)
    old_verifier = VerifierKey.parse(str(old.verifier))
    with Session(app.extensions["engine"], expire_on_commit=False) as session:
        kept = make_checkpoint(session, old)[0].note
        session.commit()
    host = server(database_url, tmp_path, "host", KEY_PASSPHRASE="folder passphrase")
    other = server(database_url, tmp_path, "other")
    try:
        # Before the import the other server refuses to make a key of its own: checkpoints
        # signed by a key it does not have exist.
        code, out, err = audit(other, "checkpoint")
        assert code == 1 and "audit key import-dir" in out + err
        assert db.exec(select(AuditKey)).first() is None

        code, out, err = audit(host, "key", "import-dir", str(folder.directory))
        assert code == 0, out + err
        assert out.splitlines() == [f"imported the audit key from {folder.directory}",
                                    str(old_verifier)]
        imported = events(db, "key.audit_import")
        assert len(imported) == 1 and str(folder.directory) in (imported[0].after or "")
        assert "folder passphrase" not in (imported[0].after or "")
        # Once only.
        code, out, err = audit(host, "key", "import-dir", str(folder.directory))
        assert code == 0 and out.startswith("the audit key is in the database already")
        assert len(events(db, "key.audit_import")) == 1

        # The other server, which never had the folder, signs what the office's key verifies,
        # and the new checkpoint extends the one the office kept.
        world.submit(world.batch_a, world.exporter_a)
        code, out, err = audit(other, "checkpoint")
        assert code == 0, out + err
        assert published_key(other) == (200, f"{old_verifier}\n")
        assert open_checkpoint(out, old_verifier).size > open_checkpoint(kept,
                                                                          old_verifier).size
        office = tmp_path / "office"
        office.mkdir()
        (office / "1.txt").write_text(kept)
        (office / "2.txt").write_text(out)
        code, out, err = audit(other, "verify", "--checkpoint", str(office),
                               "--key", str(old_verifier))
        assert code == 0, out + err
    finally:
        host.extensions["engine"].dispose()
        other.extensions["engine"].dispose()


def test_the_first_checkpoint_on_an_upgraded_server_imports_its_folder_key(
        app: Flask, database_url: str, tmp_path: Path, db: Session) -> None:
    host = server(database_url, tmp_path, "host")
    try:
        old = AuditKeyFolder(host.config["AUDIT_KEY_DIR"]).create(ORIGIN)
        code, out, err = audit(host, "checkpoint")
        assert code == 0, out + err
        assert f"imported the audit key from {host.config['AUDIT_KEY_DIR']}" in err
        assert open_checkpoint(out, old.verifier).size >= 1
        assert len(events(db, "key.audit_import")) == 1
        assert events(db, "key.audit_create") == []
    finally:
        host.extensions["engine"].dispose()


def test_the_key_in_the_database_is_never_replaced(
        servers: list[Flask], tmp_path: Path, db: Session) -> None:
    a, b = servers
    assert audit(a, "checkpoint")[0] == 0
    before = published_key(a)
    other = AuditKeyFolder(tmp_path / "another").create(ORIGIN)
    code, out, err = audit(b, "key", "import-dir", str(tmp_path / "another"))
    assert code == 1 and "another audit key already" in out + err
    code, out, err = audit(b, "key", "create")
    assert code == 1 and "has an audit key already" in out + err
    assert published_key(b) == before != (200, f"{other.verifier}\n")
    assert len(db.exec(select(AuditKey)).all()) == 1
    # An empty or missing folder is a clear message, not a traceback.
    code, out, err = audit(b, "key", "import-dir", str(tmp_path / "nothing-here"))
    assert code == 1 and "holds no audit key" in out + err


def test_a_server_with_another_kek_publishes_the_key_but_cannot_sign(
        servers: list[Flask], database_url: str, tmp_path: Path, db: Session) -> None:
    a, _b = servers
    assert audit(a, "checkpoint")[0] == 0
    wrong = server(database_url, tmp_path, "wrong", KEY_ENCRYPTION_KEY=OTHER_KEK)
    try:
        assert published_key(wrong) == published_key(a)  # the verifier needs no KEK
        code, out, err = audit(wrong, "checkpoint")
        assert code == 1 and "KEY_ENCRYPTION_KEY" in out + err and OTHER_KEK not in out + err
        with wrong.app_context(), pytest.raises(AuditKeyError):
            AuditKeyStore.for_app(wrong).signer()
    finally:
        wrong.extensions["engine"].dispose()
