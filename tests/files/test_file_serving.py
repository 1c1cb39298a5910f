"""Reading through the store: every file is checked against its recorded SHA-256 on the way
out. A damaged, missing or unreachable file gets a clear page (or problem document), is
logged with the object's name, and its bytes are never served."""

from __future__ import annotations

import logging
import shutil
import socket
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select

from conftest import Client, World, delete_object, evidence_pdf, write_object
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Document, Product
from tests.files.files_support import colour_of, other_server, png, upload_document, upload_photo

RED, BLUE = (200, 30, 30), (30, 30, 200)
MSG_DAMAGED = "The file failed its integrity check and is not served."
MSG_MISSING = "The file is missing from the registry&#39;s file store."
MSG_DOWN = "The file store is not reachable at the moment."


@pytest.fixture(params=["local", "s3"])
def file_store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)



def approved_with_evidence(exporter: Client, world: World, db: Session) -> Document:
    assert upload_photo(exporter, world.product_a.id, png(RED)).status_code == 302
    assert upload_document(exporter, world.batch_a.id, evidence_pdf()).status_code == 302
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    return db.exec(select(Document)).one()


def test_a_damaged_file_is_refused_with_a_clear_page_and_logged(
        exporter: Client, world: World, db: Session, app: Flask,
        caplog: pytest.LogCaptureFixture) -> None:
    doc = approved_with_evidence(exporter, world, db)
    db.refresh(world.batch_a)
    photo = world.batch_a.product_photo
    assert photo is not None and world.batch_a.product_photo_sha256 is not None
    forged = evidence_pdf("Phytosanitary certificate No. 99/2026 (forged)")
    write_object(app, doc.stored_name, forged)
    write_object(app, photo, png(BLUE))
    buyer = app.test_client()
    with caplog.at_level(logging.ERROR):
        for url, client in ((f"/verify/documents/{doc.id}", buyer),
                            (f"/verify/batches/{world.batch_a.id}/photo", buyer),
                            (f"/batches/{world.batch_a.id}/documents/{doc.id}", exporter),
                            (f"/products/{world.product_a.id}/photo", exporter)):
            response = client.get(url)
            assert response.status_code == 503, url
            assert MSG_DAMAGED in response.get_data(as_text=True), url
            assert b"forged" not in response.data and response.mimetype == "text/html"
    logged = caplog.text
    assert f"stored file damaged: {doc.stored_name}" in logged
    assert f"stored file damaged: {photo}" in logged


def test_a_damaged_file_is_a_problem_document_for_json_clients(
        exporter: Client, world: World, db: Session, app: Flask) -> None:
    doc = approved_with_evidence(exporter, world, db)
    write_object(app, doc.stored_name, b"%PDF-1.4 something else")
    response = app.test_client().get(f"/verify/documents/{doc.id}",
                                      headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"].startswith(MSG_DAMAGED)


def test_a_missing_file_is_a_clear_404(exporter: Client, world: World, db: Session,
                                       app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    doc = approved_with_evidence(exporter, world, db)
    delete_object(app, doc.stored_name)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get(f"/verify/documents/{doc.id}")
        assert response.status_code == 404
        assert MSG_MISSING in response.get_data(as_text=True)
        response = exporter.get(f"/batches/{world.batch_a.id}/documents/{doc.id}")
        assert response.status_code == 404
    assert f"stored file missing: {doc.stored_name}" in caplog.text


def test_a_photo_without_a_recorded_digest_is_served_unchecked(
        exporter: Client, world: World, db: Session, app: Flask) -> None:
    """Rows from before 0015 have NULL digests: served as they are until ``files import``
    records them (the rule the README states), not refused."""
    approved_with_evidence(exporter, world, db)
    db.exec(update(Product).values(photo_sha256=None))  # type: ignore[call-overload]
    db.exec(update(Batch).values(product_photo_sha256=None))  # type: ignore[call-overload]
    db.commit()
    assert colour_of(exporter.get(f"/products/{world.product_a.id}/photo").data) == RED
    assert colour_of(app.test_client().get(
        f"/verify/batches/{world.batch_a.id}/photo").data) == RED


def test_an_unreachable_store_is_a_503_with_retry_after(
        exporter: Client, world: World, db: Session, app: Flask, tmp_path: Path,
        file_store_kind: str) -> None:
    doc = approved_with_evidence(exporter, world, db)
    if file_store_kind == "s3":
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        with other_server(app, tmp_path / "b", S3_ENDPOINT_URL=f"http://127.0.0.1:{port}") \
                as down:
            response = down.test_client().get(f"/verify/documents/{doc.id}")
    else:
        # The folder gone from under the server (a lost mount): a file where it was.
        uploads = Path(app.config["UPLOAD_DIR"])
        shutil.rmtree(uploads)
        uploads.write_text("")
        response = app.test_client().get(f"/verify/documents/{doc.id}")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert MSG_DOWN in response.get_data(as_text=True)
