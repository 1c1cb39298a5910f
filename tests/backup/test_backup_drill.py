"""Issue 13 §3, acceptance 3: the backup → restore drill.

A registry with users, evidence, an approved batch, labels printed and downloaded and a
product photo is backed up with the CLI and restored into a fresh database and a fresh S3
store (a second app with its own instance folder and the same KEK). Where PostgreSQL is
available the restore goes across dialects (SQLite → PostgreSQL, PostgreSQL → SQLite), so the
archive's neutral format is proved both ways."""

from __future__ import annotations

import io
import json
import os
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from conftest import (
    TEST_BUCKET,
    TEST_KEK,
    Client,
    World,
    decode_qr_codes,
    order_and_download,
    stored_objects,
)
from registry import create_app
from registry.audit.models import AuditEvent
from registry.backup.archive import file_digest, write_archive
from registry.catalog.certification import Action
from registry.catalog.models import Document
from registry.db import make_engine, migrate
from registry.figures.models import ExportFile
from registry.files import store_for
from registry.files.importer import references
from registry.gs1.digital_link import parse_uri
from registry.printing.models import LabelFile, PrintJob
from tests.figures.export_support import ask_xlsx, export_id
from tests.verify.verify_support import path_of

JSON = {"Accept": "application/json"}


@pytest.fixture
def file_store_kind() -> str:
    return "s3"  # the drill's store is the S3 test server


def _fresh_postgres(source_url: str) -> str:
    """The restore target beside the test database (``<name>_restore``), created once and
    emptied to a bare schema."""
    url = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{url.database}_restore"
    server = make_engine(url.set(database="postgres").render_as_string(hide_password=False),
                         isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    target = url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(target)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return target


@pytest.fixture
def target_url(database_url: str, tmp_path: Path) -> str:
    """An empty database migrated to head, of the other dialect when PostgreSQL is here."""
    if database_url.startswith("sqlite") and os.environ.get("TEST_DATABASE_URL"):
        url = _fresh_postgres(database_url)
    else:
        url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def restored(target_url: str, tmp_path: Path, s3_endpoint: str) -> Iterator[Flask]:
    """The second registry: another instance folder, another (empty) store, the same KEK."""
    app = create_app({
        "DATABASE_URL": target_url, "TESTING": True,
        "SECRET_KEY": "another-secret-key-for-the-restored-registry-0123456789",
        "INSTANCE_PATH": str(tmp_path / "restored-instance"),
        "UPLOAD_DIR": str(tmp_path / "restored-uploads"),
        "KEY_DIR": str(tmp_path / "restored-keys"),
        "KEY_ENCRYPTION_KEY": TEST_KEK, "RATELIMIT_STORAGE_URI": "memory://",
        "FILE_STORE": "s3", "S3_BUCKET": TEST_BUCKET, "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1", "S3_PREFIX": f"restored-{uuid.uuid4().hex}/",
    })
    yield app
    app.extensions["engine"].dispose()


def cli(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def login(app: Flask, email: str) -> Client:
    client = Client(app.test_client())
    client.login(email)
    return client


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables}


def verdict(app: Flask, uri: str) -> str:
    response = app.test_client().get(path_of(uri), headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["verdict"]  # type: ignore[no-any-return]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def build_registry(app: Flask, world: World, db: Session, tmp_path: Path) -> list[str]:
    """Users, evidence (one public), a product photo, an approved batch, labels printed and
    downloaded, and a signed audit checkpoint; returns the printed labels' URIs."""
    code, output = cli(app, "keys", "ensure")
    assert code == 0, output
    exporter, printer = login(app, "a@test.id"), login(app, "printer@test.id")
    response = exporter.post(f"/products/{world.product_a.id}/photo",
                             {"photo": (io.BytesIO(png()), "p.png")},
                             content_type="multipart/form-data")
    assert response.status_code == 302
    world.attach_evidence(world.batch_a, world.exporter_a, is_public=True)
    world.submit(world.batch_a, world.exporter_a)
    world.submit(world.batch_b, world.exporter_b)  # submitted, not decided
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    labels = decode_qr_codes(order_and_download(exporter, printer, world, db, world.batch_a))
    assert len(labels) == 3 and all(verdict(app, uri) == "genuine" for uri in labels)
    export_id(ask_xlsx(login(app, "officer.ntb@test.id"), ""))  # an XLSX export, written
    code, output = cli(app, "audit", "checkpoint")
    assert code == 0, output
    return labels


def test_backup_restore_drill(app: Flask, world: World, db: Session, tmp_path: Path,
                              restored: Flask) -> None:
    labels = build_registry(app, world, db, tmp_path)
    source_engine = app.extensions["engine"]
    before = counts(source_engine)
    assert before["label_signature"] > 0 and before["signing_key"] == 1
    # What an office keeps outside the registry: the verifier key and a checkpoint.
    code, verifier_key = cli(app, "audit", "key")
    assert code == 0
    note = tmp_path / "kept-checkpoint.txt"
    note.write_text(db.exec(text("SELECT note FROM audit_checkpoint")).one()[0])  # type: ignore[call-overload]

    archive = tmp_path / "registry-backup.tar"
    code, output = cli(app, "backup", str(archive))
    assert code == 0, output
    assert "does NOT contain the key-encryption key" in output

    code, output = cli(restored, "restore", str(archive))
    assert code == 0, output
    assert "warning" not in output  # the KEK opens the restored signing key

    # Counts match table by table; the restore itself is the one event added to the log.
    after = counts(restored.extensions["engine"])
    assert after == {**before, "audit_event": before["audit_event"] + 1}
    with Session(restored.extensions["engine"]) as session:
        last = session.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()  # type: ignore[call-overload]
        assert last[0].action == "backup.restore"

    # The audit log verifies, and extends the checkpoint kept outside before the backup.
    code, output = cli(restored, "audit", "verify", "--checkpoint", str(note),
                       "--key", verifier_key.strip())
    assert code == 0, output
    assert f"audit log intact: {after['audit_event']} events" in output

    # A label printed before verifies genuine through the restored registry's resolver.
    assert [verdict(restored, uri) for uri in labels] == ["genuine"] * 3

    # Every stored file came across with the same bytes, and is served with them.
    source_store, restored_store = store_for(app), store_for(restored)
    with Session(source_engine) as session:
        refs = references(session)
    assert len(refs) >= 3  # the evidence, B's evidence, the photo (frozen with the batch too)
    assert stored_objects(restored) == sorted(refs)
    for name, rows in refs.items():
        assert restored_store.get(name, rows[0].sha256) == source_store.get(name, None)
    doc = db.exec(select(Document).where(Document.is_public)).one()[0]  # type: ignore[call-overload, arg-type]
    buyer_before, buyer_after = app.test_client(), restored.test_client()
    for path in (f"/verify/documents/{doc.id}", f"/verify/batches/{world.batch_a.id}/photo"):
        served = buyer_after.get(path)
        assert served.status_code == 200, path
        assert served.get_data() == buyer_before.get(path).get_data()

    # Rendered label files are not in the archive: the restored registry renders the job's
    # file again when the print shop next asks, with the same labels.
    with Session(restored.extensions["engine"]) as session:
        assert set(session.execute(select(LabelFile.state)).scalars()) == {"expired"}
        # Nor are the figures' XLSX exports: their askers ask for them again.
        assert set(session.execute(select(ExportFile.state)).scalars()) == {"expired"}
        first_job = session.execute(select(PrintJob.id).order_by(PrintJob.id)).scalars().first()
    again = login(restored, "printer@test.id").download(f"/print-shop/jobs/{first_job}.pdf")
    assert again.status_code == 200
    assert sorted(decode_qr_codes(again.get_data())) == sorted(labels)

    # The restored key signs new labels, and they verify (the sequences moved past the ids
    # restored, or this order would collide with the archived print job).
    with Session(restored.extensions["engine"]) as session:
        new_labels = decode_qr_codes(order_and_download(
            login(restored, "a@test.id"), login(restored, "printer@test.id"), world,
            session, world.batch_a))
    assert len(new_labels) == 3
    assert {parse_uri(u).key_id for u in new_labels} == {parse_uri(labels[0]).key_id}
    assert set(new_labels).isdisjoint(labels)
    assert [verdict(restored, uri) for uri in new_labels] == ["genuine"] * 3


def _flip_byte(archive: Path, member: str, copy: Path) -> None:
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        info = tar.getmember(member)
    data[info.offset_data + info.size // 2] ^= 0x01
    copy.write_bytes(bytes(data))


def _is_empty(app: Flask) -> bool:
    """Nothing but what the migrations write: the audit head and the two default certificate
    rules (0027)."""
    rows = counts(app.extensions["engine"])
    return rows == {**dict.fromkeys(rows, 0), "audit_head": 1, "certificate_rule": 2}


def test_a_damaged_archive_is_refused_naming_the_member_before_anything_is_written(
        app: Flask, world: World, db: Session, tmp_path: Path, restored: Flask) -> None:
    world.submit(world.batch_a, world.exporter_a)
    archive = tmp_path / "b.tar"
    assert cli(app, "backup", str(archive))[0] == 0
    with tarfile.open(archive) as tar:
        evidence = next(n for n in tar.getnames() if n.startswith("files/"))
    for member in ("db/audit_event.jsonl", evidence):
        damaged = tmp_path / f"damaged-{member.replace('/', '-')}.tar"
        _flip_byte(archive, member, damaged)
        code, output = cli(restored, "restore", str(damaged))
        assert code == 1
        assert f"member {member} is damaged" in output, output
        assert "nothing restored" in output
        assert _is_empty(restored) and stored_objects(restored) == []
    # The undamaged archive still restores: the refusals left nothing behind.
    code, output = cli(restored, "restore", str(archive))
    assert code == 0, output


def test_a_non_empty_target_is_refused(app: Flask, world: World, db: Session,
                                       tmp_path: Path, restored: Flask) -> None:
    world.submit(world.batch_a, world.exporter_a)
    archive = tmp_path / "b.tar"
    assert cli(app, "backup", str(archive))[0] == 0
    before = counts(app.extensions["engine"])
    # The registry's own database is not empty: refused, nothing written to the empty store.
    with server(restored, app.config["DATABASE_URL"]) as same_db:
        code, output = cli(same_db, "restore", str(archive))
        assert code == 1
        assert "the target database is not empty (table audit_event has rows)" in output
        assert stored_objects(same_db) == []
    assert counts(app.extensions["engine"]) == before

    # Restored once; a second restore over it is refused and changes nothing.
    assert cli(restored, "restore", str(archive))[0] == 0
    restored_counts = counts(restored.extensions["engine"])
    code, output = cli(restored, "restore", str(archive))
    assert code == 1 and "the target database is not empty" in output
    assert counts(restored.extensions["engine"]) == restored_counts

    # An empty database with a store that already holds files is refused too.
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    migrate.upgrade(fresh)
    with server(restored, fresh) as fresh_db:
        code, output = cli(fresh_db, "restore", str(archive))
        assert code == 1 and "already holds" in output, output
        assert _is_empty(fresh_db)

    # A database not migrated to the archive's revision is refused, naming what to run.
    bare = f"sqlite:///{tmp_path / 'bare.sqlite3'}"
    with server(restored, bare) as bare_db:
        code, output = cli(bare_db, "restore", str(archive))
        assert code == 1
        with tarfile.open(archive) as tar:
            manifest = tar.extractfile("manifest.json")
            assert manifest is not None
            revision = json.loads(manifest.read())["schema_revision"]
        assert f"run `flask --app registry db upgrade {revision}`" in output, output


@contextmanager
def server(like: Flask, database_url: str) -> Iterator[Flask]:
    """An app like ``like`` (its store, its instance folder) on another database."""
    other = create_app({**{k: like.config[k] for k in (
        "TESTING", "SECRET_KEY", "INSTANCE_PATH", "UPLOAD_DIR", "KEY_DIR",
        "KEY_ENCRYPTION_KEY", "RATELIMIT_STORAGE_URI", "FILE_STORE", "S3_BUCKET",
        "S3_ENDPOINT_URL", "S3_REGION", "S3_PREFIX")}, "DATABASE_URL": database_url})
    try:
        yield other
    finally:
        other.extensions["engine"].dispose()


def test_a_restore_the_database_refuses_leaves_no_file_and_no_row(
        app: Flask, world: World, db: Session, tmp_path: Path, restored: Flask) -> None:
    """A well-formed archive (every checksum right) whose rows the database refuses: here a
    user twice, as a hand-edited or buggy archive might hold. The files were written first;
    they are removed again and the database is left empty, with a clear message."""
    world.submit(world.batch_a, world.exporter_a)
    archive = tmp_path / "b.tar"
    assert cli(app, "backup", str(archive))[0] == 0
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    users = unpacked / "db" / "user.jsonl"
    users.write_bytes(users.read_bytes() + users.read_bytes().splitlines(True)[0])
    manifest = json.loads((unpacked / "manifest.json").read_text())
    manifest["tables"]["user"]["rows"] += 1
    members = [(name, unpacked / name) for name in manifest["members"]]
    for name, path in members:
        digest = file_digest(path)
        manifest["members"][name] = {"size": digest.size, "sha256": digest.sha256}
    edited = tmp_path / "edited.tar"
    with open(edited, "wb") as out:
        write_archive(out, manifest, members)

    code, output = cli(restored, "restore", str(edited))
    assert code == 1, output
    assert "the database refused table user" in output, output
    assert "nothing restored" in output
    assert _is_empty(restored) and stored_objects(restored) == []


def test_a_store_that_does_not_answer_is_a_clear_refusal(
        app: Flask, world: World, db: Session, tmp_path: Path, restored: Flask) -> None:
    world.submit(world.batch_a, world.exporter_a)
    archive = tmp_path / "b.tar"
    unreachable = create_app({**app.config, "S3_ENDPOINT_URL": "http://127.0.0.1:9"})
    try:
        code, output = cli(unreachable, "backup", str(archive))
    finally:
        unreachable.extensions["engine"].dispose()
    assert code == 1 and "could not be copied: StoreUnavailable" in output, output
    assert "no archive written" in output and not archive.exists()
    assert list(tmp_path.glob("*.part")) == []

    assert cli(app, "backup", str(archive))[0] == 0
    dead = create_app({**restored.config, "S3_ENDPOINT_URL": "http://127.0.0.1:9"})
    try:
        code, output = cli(dead, "restore", str(archive))
    finally:
        dead.extensions["engine"].dispose()
    assert code == 1 and "the file store did not answer" in output, output
    assert _is_empty(restored)
