"""``flask --app registry files import [DIR]`` on a copy of today's layout: files written by
the one-machine code path into UPLOAD_DIR, rows in the database (photos without digests, as
before 0015), copied into the S3 store and served from there."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select

from conftest import TEST_BUCKET, Client, World, evidence_pdf, stored_objects
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Document, Product
from tests.files.files_support import colour_of, other_server, png, upload_document, upload_photo

RED = (200, 30, 30)


@pytest.fixture
def file_store_kind() -> str:
    return "local"  # today's layout: the files are in UPLOAD_DIR


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def todays_layout(app: Flask, world: World, db: Session) -> tuple[Document, str]:
    """A certified batch with a photo and public evidence, uploaded through the forms into
    the folder; the photo rows' digests emptied as a database from before 0015 has them."""
    exporter = Client(app.test_client())
    exporter.login("a@test.id")
    assert upload_photo(exporter, world.product_a.id, png(RED)).status_code == 302
    assert upload_document(exporter, world.batch_a.id, evidence_pdf()).status_code == 302
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    db.exec(update(Product).values(photo_sha256=None))  # type: ignore[call-overload]
    db.exec(update(Batch).values(product_photo_sha256=None))  # type: ignore[call-overload]
    db.commit()
    db.expire_all()
    doc = db.exec(select(Document)).one()
    photo = db.get(Product, world.product_a.id).photo_stored_name  # type: ignore[union-attr]
    return doc, photo


@pytest.fixture
def s3_server(app: Flask, tmp_path: Path, s3_endpoint: str) -> Any:
    with other_server(app, tmp_path / "s3-server", FILE_STORE="s3", S3_BUCKET=TEST_BUCKET,
                      S3_ENDPOINT_URL=s3_endpoint, S3_REGION="us-east-1",
                      S3_PREFIX=f"import-{uuid.uuid4().hex}") as server:
        server.config["S3_PREFIX"] += "/"  # as the store uses it, for ``stored_objects``
        yield server


def run_import(server: Flask, *args: str) -> Any:
    return server.test_cli_runner().invoke(args=["files", "import", *args])


def test_import_copies_todays_folder_records_digests_and_is_served_from_s3(
        app: Flask, world: World, db: Session, s3_server: Flask) -> None:
    doc, photo = todays_layout(app, world, db)
    uploads = Path(app.config["UPLOAD_DIR"])
    (uploads / "left-over.pdf").write_bytes(b"%PDF-1.4 nobody's")
    photo_digest = sha((uploads / photo).read_bytes())

    result = run_import(s3_server, str(uploads))
    assert result.exit_code == 0, result.output
    assert ("copied 2, already in the store 0, digests recorded 2, problems 0, "
            "not referenced 1") in result.output
    assert "files no row refers to (not copied):\n  left-over.pdf" in result.output
    assert stored_objects(s3_server) == sorted([doc.stored_name, photo])
    db.expire_all()
    assert db.get(Product, world.product_a.id).photo_sha256 == photo_digest  # type: ignore[union-attr]
    assert db.get(Batch, world.batch_a.id).product_photo_sha256 == photo_digest  # type: ignore[union-attr]
    event = db.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()  # type: ignore[attr-defined]
    assert event is not None and event.action == "files.import"

    # Served by the S3 server, checked against the digests just recorded.
    buyer = s3_server.test_client()
    assert colour_of(buyer.get(f"/verify/batches/{world.batch_a.id}/photo").data) == RED
    served = buyer.get(f"/verify/documents/{doc.id}")
    assert served.status_code == 200 and sha(served.data) == doc.sha256
    exporter = Client(s3_server.test_client())
    exporter.login("a@test.id")
    assert colour_of(exporter.get(f"/products/{world.product_a.id}/photo").data) == RED

    # Again: nothing to copy, nothing to record.
    again = run_import(s3_server, str(uploads))
    assert again.exit_code == 0, again.output
    assert ("copied 0, already in the store 2, digests recorded 0, problems 0, "
            "not referenced 1") in again.output


def test_a_file_that_does_not_match_its_digest_is_reported_not_copied(
        app: Flask, world: World, db: Session, s3_server: Flask) -> None:
    doc, photo = todays_layout(app, world, db)
    uploads = Path(app.config["UPLOAD_DIR"])
    (uploads / doc.stored_name).write_bytes(evidence_pdf("A forged certificate"))
    result = run_import(s3_server, str(uploads))
    assert result.exit_code == 1
    assert f"problem: {doc.stored_name} (document {doc.id}): SHA-256 " in result.output
    assert f"where {doc.sha256} was recorded; not copied" in result.output
    assert stored_objects(s3_server) == [photo]  # the good file still went over
    assert s3_server.test_client().get(f"/verify/documents/{doc.id}").status_code == 404


def test_a_missing_file_is_reported(app: Flask, world: World, db: Session,
                                    s3_server: Flask) -> None:
    doc, photo = todays_layout(app, world, db)
    uploads = Path(app.config["UPLOAD_DIR"])
    (uploads / photo).unlink()
    result = run_import(s3_server, str(uploads))
    assert result.exit_code == 1
    assert (f"problem: {photo} (product {world.product_a.id}, batch {world.batch_a.id}): "
            "neither in the folder nor in the store") in result.output
    assert stored_objects(s3_server) == [doc.stored_name]


def test_import_into_the_same_folder_records_the_missing_digests(
        app: Flask, world: World, db: Session) -> None:
    """A one-machine registry keeps its folder: the command (DIR defaults to UPLOAD_DIR)
    then only records the photos' digests, so they are checked from now on."""
    todays_layout(app, world, db)
    result = run_import(app)
    assert result.exit_code == 0, result.output
    assert "copied 0, already in the store 2, digests recorded 2" in result.output
    db.expire_all()
    assert db.get(Product, world.product_a.id).photo_sha256 is not None  # type: ignore[union-attr]


def test_an_unreachable_store_stops_the_import_with_a_clear_message(
        app: Flask, world: World, db: Session, tmp_path: Path) -> None:
    todays_layout(app, world, db)
    with other_server(app, tmp_path / "down", FILE_STORE="s3", S3_BUCKET=TEST_BUCKET,
                      S3_ENDPOINT_URL="http://127.0.0.1:9") as down:
        result = run_import(down, app.config["UPLOAD_DIR"])
    assert result.exit_code == 1
    assert "Error: the file store failed on" in result.output
    assert "nothing recorded" in result.output
    db.expire_all()
    assert db.get(Product, world.product_a.id).photo_sha256 is None  # type: ignore[union-attr]
