"""A file and its row are written together (issue 12 §2): no row without its object, no
object left behind by a request that failed, and a replaced or removed file deleted only
once the change is committed. Run on the folder and on the S3 server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from conftest import Client, World, evidence_pdf, stored_objects
from registry.api import tokens
from registry.audit.models import AuditEvent
from registry.catalog.models import Document, Product
from tests.files.files_support import colour_of, other_server, png, upload_document, upload_photo

RED, GREEN, BLUE = (200, 30, 30), (30, 200, 30), (30, 30, 200)


@pytest.fixture(params=["local", "s3"])
def file_store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)



def api_token(db: Session, world: World) -> str:
    secret = tokens.create_token(db, world.exporter_a, name="ERP", access="write").secret
    db.commit()
    return secret


def api_upload(app: Flask, secret: str, world: World) -> Any:
    return app.test_client().post(
        f"/api/v1/batches/{world.batch_a.id}/documents",
        headers={"Authorization": f"Bearer {secret}"}, content_type="multipart/form-data",
        data={"kind": "phytosanitary", "file": (io.BytesIO(evidence_pdf()), "phyto.pdf")})


@contextmanager
def commit_fails(app: Flask) -> Iterator[None]:
    """The database refuses the request's COMMIT (the connection dropped at that moment):
    everything before it, the object's put included, has happened. The visitor gets the
    500 page rather than the test client's exception."""

    def refuse(_session: Any) -> None:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    event.listen(OrmSession, "before_commit", refuse)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        yield
    finally:
        event.remove(OrmSession, "before_commit", refuse)
        app.config["PROPAGATE_EXCEPTIONS"] = None


def rows(db: Session) -> tuple[int, int, list[Any]]:
    db.expire_all()
    return (db.exec(select(func.count()).select_from(Document)).one(),
            db.exec(select(func.count()).select_from(AuditEvent)).one(),
            list(db.exec(select(Product.photo_stored_name, Product.photo_sha256)
                         .order_by(Product.id))))


def file_events(db: Session) -> list[str]:
    return [a for a in db.exec(select(AuditEvent.action))
            if a.startswith(("document.", "product.photo"))]


def test_a_request_failing_after_the_put_leaves_no_object(
        exporter: Client, world: World, db: Session, app: Flask) -> None:
    assert upload_photo(exporter, world.product_a.id, png(RED)).status_code == 302
    before_rows, before_objects = rows(db), stored_objects(app)
    token = exporter.token(f"/batches/{world.batch_a.id}")
    with commit_fails(app):
        response = upload_document(exporter, world.batch_a.id, evidence_pdf())
        assert response.status_code == 500
        response = exporter.post(f"/products/{world.product_a.id}/photo",
                                 {"photo": (io.BytesIO(png(BLUE)), "p.png"),
                                  "csrf_token": token}, content_type="multipart/form-data")
        assert response.status_code == 500
    assert rows(db) == before_rows
    assert stored_objects(app) == before_objects  # the old photo kept, no new object
    assert colour_of(exporter.get(f"/products/{world.product_a.id}/photo").data) == RED


def test_an_api_upload_failing_at_commit_leaves_no_object(
        world: World, db: Session, app: Flask) -> None:
    secret = api_token(db, world)
    before_objects = stored_objects(app)
    with commit_fails(app):
        response = api_upload(app, secret, world)
    assert response.status_code == 500
    assert rows(db)[0] == 0
    assert stored_objects(app) == before_objects


def test_a_failed_put_leaves_no_row(exporter: Client, world: World, db: Session, app: Flask,
                                    tmp_path: Path, file_store_kind: str) -> None:
    assert upload_photo(exporter, world.product_a.id, png(RED)).status_code == 302
    before_rows, before_events = rows(db), file_events(db)
    # A store that refuses writes: a bucket that is not there, a folder that is a file.
    if file_store_kind == "s3":
        broken = {"S3_BUCKET": "registry-no-such-bucket"}
    else:
        broken = {"UPLOAD_DIR": str(tmp_path / "b" / "uploads")}
    with other_server(app, tmp_path / "b", **broken) as refusing:
        if file_store_kind == "local":
            uploads = Path(refusing.config["UPLOAD_DIR"])
            uploads.rmdir()
            uploads.write_text("")
        on_b = Client(refusing.test_client())
        on_b.login("a@test.id")
        response = upload_document(on_b, world.batch_a.id, evidence_pdf())
        assert response.status_code == 503
        assert "The file store is not reachable" in response.get_data(as_text=True)
        response = upload_photo(on_b, world.product_a.id, png(BLUE))
        assert response.status_code == 503
        problem = api_upload(refusing, api_token(db, world), world)
        assert problem.status_code == 503
        assert problem.mimetype == "application/problem+json"
    after = rows(db)
    assert after[0] == before_rows[0] and after[2] == before_rows[2]
    assert file_events(db) == before_events
    assert colour_of(exporter.get(f"/products/{world.product_a.id}/photo").data) == RED


def test_a_replaced_photo_is_deleted_only_after_the_commit(
        exporter: Client, world: World, db: Session, app: Flask) -> None:
    assert upload_photo(exporter, world.product_a.id, png(RED)).status_code == 302
    first = rows(db)[2][0][0]
    assert upload_photo(exporter, world.product_a.id, png(GREEN)).status_code == 302
    second = rows(db)[2][0][0]
    assert stored_objects(app) == [second] and first != second
    token = exporter.token(f"/products/{world.product_a.id}/edit")
    with commit_fails(app):
        exporter.post(f"/products/{world.product_a.id}/photo",
                      {"photo": (io.BytesIO(png(BLUE)), "p.png"), "csrf_token": token},
                      content_type="multipart/form-data")
    assert stored_objects(app) == [second]
    assert colour_of(exporter.get(f"/products/{world.product_a.id}/photo").data) == GREEN


def test_a_removed_document_is_deleted_only_after_the_commit(
        exporter: Client, world: World, db: Session, app: Flask) -> None:
    assert upload_document(exporter, world.batch_a.id, evidence_pdf()).status_code == 302
    doc = db.exec(select(Document)).one()
    url = f"/batches/{world.batch_a.id}/documents/{doc.id}/delete"
    token = exporter.token(f"/batches/{world.batch_a.id}")
    with commit_fails(app):
        assert exporter.post(url, {"csrf_token": token}).status_code == 500
    assert stored_objects(app) == [doc.stored_name]
    assert exporter.get(f"/batches/{world.batch_a.id}/documents/{doc.id}").status_code == 200
    assert exporter.post(url, {}).status_code == 302
    assert stored_objects(app) == []
    assert rows(db)[0] == 0
