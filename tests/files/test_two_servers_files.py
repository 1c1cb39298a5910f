"""Two app servers, one database, one object store (issue 12 §2).

Today: evidence and photos were files in each host's UPLOAD_DIR, so a photo uploaded through
server A answered 404 on server B while B's pages still showed its URL. With the S3 store
every server reads the same object; B's own UPLOAD_DIR stays empty.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session, select

from conftest import Client, World, evidence_pdf
from registry.catalog.certification import Action
from registry.catalog.models import Document
from tests.files.files_support import colour_of, other_server, png, upload_document, upload_photo

RED = (200, 30, 30)


@pytest.fixture
def file_store_kind() -> str:
    return "s3"


def test_a_photo_uploaded_through_a_is_served_by_b(app: Flask, world: World, db: Session,
                                                    tmp_path: Path) -> None:
    with other_server(app, tmp_path / "b") as server_b:
        on_a, on_b = Client(app.test_client()), Client(server_b.test_client())
        on_a.login("a@test.id")
        on_b.login("a@test.id")
        assert upload_photo(on_a, world.product_a.id, png(RED)).status_code == 302

        page = on_b.get(f"/products/{world.product_a.id}/edit").get_data(as_text=True)
        assert f'src="/products/{world.product_a.id}/photo"' in page
        served = on_b.get(f"/products/{world.product_a.id}/photo")
        assert served.status_code == 200 and served.mimetype == "image/png"
        assert colour_of(served.data) == RED

        # Evidence too, and the public page's photo and document once the batch is approved.
        pdf = evidence_pdf()
        response = upload_document(on_a, world.batch_a.id, pdf)
        assert response.status_code == 302
        world.submit(world.batch_a, world.exporter_a)
        world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
        doc = db.exec(select(Document)).one()
        buyer = server_b.test_client()
        photo = buyer.get(f"/verify/batches/{world.batch_a.id}/photo")
        assert photo.status_code == 200 and colour_of(photo.data) == RED
        evidence = buyer.get(f"/verify/documents/{doc.id}")
        assert evidence.status_code == 200 and evidence.data == pdf
        assert os.listdir(server_b.config["UPLOAD_DIR"]) == []
