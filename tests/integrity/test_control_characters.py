"""Invisible characters are refused at the edge, with a message, in every text field and file
name of the forms and the API: control characters (line breaks only where a text may have
several lines) and bidi overrides. Today a product name with \\x01 broke the XLSX export for
everyone, and a CRLF file name made its document undownloadable (issue 11, section 8)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, select

from conftest import Client, World, batch_form, batch_input, evidence_pdf
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Document, Product
from registry.plaintext import TextProblem, text_problem
from tests.api.api_helpers import api_for, assert_problem
from tests.figures.export_support import xlsx_export

MSG_CONTROL = "invisible control characters"
MSG_BIDI = "text-direction override characters"
MSG_BREAK = "Line breaks are not allowed"


@pytest.mark.parametrize(("value", "multiline", "expected"), [
    ("Madu Sumbawa", False, None),
    ("Kopi Arabika Flores — 咖啡 コーヒー", False, None),
    ("Jl. Pejanggik 45\r\nMataram", True, None),
    ("Madu\x01", False, TextProblem.CONTROL),
    ("Madu\x01", True, TextProblem.CONTROL),
    ("tab\there", False, TextProblem.CONTROL),
    ("del\x7f", False, TextProblem.CONTROL),
    ("c1\x85", False, TextProblem.CONTROL),
    ("two\nlines", False, TextProblem.LINE_BREAK),
    ("two\u2028lines", False, TextProblem.LINE_BREAK),
    ("cert\r\n.pdf", False, TextProblem.LINE_BREAK),
    ("honey\u202egnp.exe", False, TextProblem.BIDI),
    ("isolate\u2066x\u2069", True, TextProblem.BIDI),
])
def test_the_rule(value: str, multiline: bool, expected: TextProblem | None) -> None:
    assert text_problem(value, multiline=multiline) is expected


def _count(db: Session, model: type) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name_en", "Sumbawa Honey\x01", MSG_CONTROL),
    ("name_id", "Madu\u202eabc", MSG_BIDI),
    ("name_en", "Sumbawa\r\nHoney", MSG_BREAK),
])
def test_product_form_refuses_invisible_characters(client: Client, world: World, db: Session,
                                                   field: str, value: str, message: str) -> None:
    client.login("a@test.id")
    data = {"name_id": "Madu", "name_en": "Honey", "category": "agriculture",
            "hs_code": "040900", "gtin": "", "description": "Line one\nline two", field: value}
    before = _count(db, Product)
    response = client.post("/products/new", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(db, Product) == before


def test_batch_form_and_api_refuse_them_too(app: Flask, client: Client, world: World,
                                            db: Session) -> None:
    client.login("a@test.id")
    response = client.post("/batches/new", batch_form(world.product_a.id,
                                                      producer="Koperasi\x1bBatu"))
    assert response.status_code == 200 and MSG_CONTROL in response.get_data(as_text=True)
    api = api_for(app, db, world.exporter_a)
    body = assert_problem(api.post("/products", json={
        "name_id": "Madu", "name_en": "Honey\x01", "category": "agriculture",
        "hs_code": "040900"}), 422)
    assert "name_en" in body["errors"]
    body = assert_problem(api.put(f"/products/{world.product_a.id}", json={
        "name_id": "Madu\u202d", "name_en": "Honey", "category": "agriculture",
        "hs_code": "040900", "description": "two\nlines are fine here"}), 422)
    assert list(body["errors"]) == ["name_id"]
    assert _count(db, Batch) == 2


def test_a_control_character_cannot_break_the_xlsx_export(app: Flask, client: Client,
                                                          world: World, db: Session) -> None:
    api = api_for(app, db, world.exporter_a)
    created = api.post("/products", json={"name_id": "Madu\x01", "name_en": "Honey\x01",
                                          "category": "agriculture", "hs_code": "040900"})
    product = db.get(Product, created.get_json()["id"]) if created.status_code == 201 else None
    batch = catalog.create_batch(db, world.exporter_a,
                                 batch_input(product or world.product_a, "XLSX-1", "52.04"))
    db.commit()
    world.submit(batch, world.exporter_a)
    world.decide(batch, world.officer_ntb, Action.APPROVE)
    client.login("admin@test.id")
    export = xlsx_export(client, "")
    assert export.data[:2] == b"PK"


def _multipart(fields: dict[str, str], filename: str, data: bytes) -> dict[str, object]:
    """A multipart body as a client may send it: the file name in RFC 5987 form
    (``filename*=UTF-8''…``), which carries any character, CR and LF included."""
    parts = [f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(b'--B\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8\'\''
                 + quote(filename).encode() + b"\r\nContent-Type: application/pdf\r\n\r\n"
                 + data + b"\r\n")
    return {"data": b"".join(parts) + b"--B--\r\n",
            "content_type": "multipart/form-data; boundary=B"}


@pytest.mark.parametrize("name", ["cert\r\nSet-Cookie: x=1.pdf", "cert\u202efdp.exe",
                                  "tab\tname.pdf"])
def test_file_names_with_invisible_characters_are_refused(app: Flask, client: Client,
                                                          world: World, db: Session,
                                                          name: str) -> None:
    client.login("a@test.id")
    token = client.token(f"/batches/{world.batch_a.id}")
    response = client.http.post(f"/batches/{world.batch_a.id}/documents", **_multipart(
        {"csrf_token": token, "kind": "phytosanitary"}, name, evidence_pdf()))
    # Whatever was stored stays downloadable: the document link never answers 500.
    for doc in db.exec(select(Document)).all():
        assert client.get(f"/batches/{world.batch_a.id}/documents/{doc.id}").status_code == 200
    assert response.status_code == 422
    assert "Please rename the file" in response.get_data(as_text=True)
    assert _count(db, Document) == 0

    api = api_for(app, db, world.exporter_a)
    body = assert_problem(api.post(f"/batches/{world.batch_a.id}/documents", **_multipart(
        {"kind": "phytosanitary"}, name, evidence_pdf())), 422)
    assert body["codes"] == {"file": "bad_filename"}
    assert _count(db, Document) == 0


def test_records_from_before_the_rule_still_export_and_download(
    app: Flask, client: Client, world: World, db: Session
) -> None:
    """Rows stored before the rule (written here straight to the database) no longer break
    the export or the download: the bad characters are left out on the way out."""
    world.product_a.name_en = "Sumbawa Honey\x01"
    db.add(world.product_a)
    doc = world.attach_evidence(world.batch_a, world.exporter_a)
    doc.original_name = "cert\r\nSet-Cookie: x=1.pdf"
    db.add(doc)
    db.commit()
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    client.login("admin@test.id")
    assert xlsx_export(client, "").data[:2] == b"PK"
    download = client.get(f"/batches/{world.batch_a.id}/documents/{doc.id}")
    assert download.status_code == 200
    assert "\r" not in download.headers["Content-Disposition"]
