"""Issue 11 §1: what the office certified is what the buyer sees.

Certified honey, labels printed by the print shop and decoded from the PDF's pixels; then the
exporter renames the product "Kopi Luwak Premium (NOT honey)" with HS 090111 and a new photo
(web and API) and tries to give it a company GTIN. Every printed label's page, JSON and linkset
must still show the certified honey and its photo, the next print job must print the certified
name, and the figures and exports must count the certified category and HS code. On the code
before the fix the page showed the new name and photo, and the GTIN turned every printed label
into "not a genuine label".
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlsplit

import pypdfium2
from flask import Flask
from PIL import Image
from sqlmodel import Session

from conftest import Client, World, decode_qr_codes, order_and_download
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Product
from registry.catalog.rules import ProductInput
from registry.files import store_for
from registry.gs1 import digital_link as gs1
from registry.gs1.digital_link import parse_uri
from tests.verify.verify_support import label_path, path_of

HONEY = {"name_id": "Madu Hutan Sumbawa", "name_en": "Sumbawa Forest Honey",
         "category": "livestock", "hs_code": "040900"}
FAKE_NAME = "Kopi Luwak Premium (NOT honey)"
RED, BLUE = (200, 20, 20), (20, 20, 200)
# A valid company GTIN-13 (Indonesian prefix 899), check digit computed.
COMPANY_GTIN = "899123456789" + gs1.gtin_check_digit("899123456789")


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def colour_of(data: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB").getpixel((10, 10))  # type: ignore[return-value]




def certified_honey(world: World, db: Session, app: Flask) -> tuple[Product, Batch]:
    """Honey of company A with a red photo, submitted and approved by the NTB office."""
    product = catalog.create_product(db, world.exporter_a, ProductInput(**HONEY))
    catalog.set_product_photo(db, world.exporter_a, product.id, png(RED),
                              store=store_for(app),
                              max_bytes=app.config["MAX_UPLOAD_BYTES"],
                              max_pixels=app.config["MAX_IMAGE_PIXELS"])
    batch = world.batch(world.exporter_a, product, "HONEY-1", "52.04")
    db.commit()
    world.submit(batch, world.exporter_a)
    world.decide(batch, world.officer_ntb, Action.APPROVE)
    return product, batch



def pdf_text(pdf: bytes) -> str:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        # Names wrap on the label: compare words, not lines.
        return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in doc)
    finally:
        doc.close()


def signed_in(make_client: Any, email: str) -> Client:
    client: Client = make_client()
    client.login(email)
    return client


def assert_shows_certified_honey(anonymous: Client, uris: list[str]) -> None:
    """What a buyer's phone gets for each printed label: the certified honey, as certified."""
    for uri in uris:
        page = anonymous.get(path_of(uri), headers={"Accept": "text/html"})
        html = page.get_data(as_text=True)
        assert page.status_code == 200, html[:500]
        assert "Genuine and certified" in html, html[:2000]
        assert "Sumbawa Forest Honey" in html and "Kopi Luwak" not in html
        body = anonymous.get(path_of(uri), headers={"Accept": "application/json"}).get_json()
        assert body["verdict"] == "genuine", body
        facts = body["batch"]
        assert (facts["product_name"], facts["product_name_id"], facts["category"],
                facts["hs_code"]) == ("Sumbawa Forest Honey", "Madu Hutan Sumbawa",
                                      "livestock", "040900")
        photo = anonymous.get(urlsplit(facts["photo_url"]).path)
        assert photo.status_code == 200 and colour_of(photo.get_data()) == RED
        linkset = anonymous.get(label_path(uri), headers={"Accept": "application/linkset+json"})
        assert linkset.status_code == 200
        entry = linkset.get_json()["linkset"][0]
        assert entry["anchor"].endswith(parse_uri(uri).canonical)


def test_web_edits_after_approval_leave_printed_labels_as_certified(
    world: World, db: Session, app: Flask, make_client: Any
) -> None:
    product, batch = certified_honey(world, db, app)
    exporter = signed_in(make_client, "a@test.id")
    printer = signed_in(make_client, "printer@test.id")
    uris = decode_qr_codes(order_and_download(exporter, printer, world, db, batch))
    assert len(uris) == 3
    anonymous = make_client()
    assert_shows_certified_honey(anonymous, uris)

    # The edit page warns that edits only reach batches registered later.
    edit = exporter.get(f"/products/{product.id}/edit").get_data(as_text=True)
    assert "only to batches registered from now on" in edit

    renamed = exporter.post(f"/products/{product.id}/edit", {
        "name_id": FAKE_NAME, "name_en": FAKE_NAME, "category": "agriculture",
        "hs_code": "090111", "gtin": "", "description": "Civet coffee"},
        token_from=f"/products/{product.id}/edit")
    assert renamed.status_code == 302
    photo = exporter.post(f"/products/{product.id}/photo",
                          {"photo": (io.BytesIO(png(BLUE)), "civet.png")},
                          token_from=f"/products/{product.id}/edit",
                          content_type="multipart/form-data")
    assert photo.status_code == 302
    # A company GTIN now would move every printed label's code: refused, with the reason.
    gtin = exporter.post(f"/products/{product.id}/edit", {
        "name_id": FAKE_NAME, "name_en": FAKE_NAME, "category": "agriculture",
        "hs_code": "090111", "gtin": COMPANY_GTIN, "description": ""},
        token_from=f"/products/{product.id}/edit")
    assert gtin.status_code == 200
    assert "GTIN can no longer change" in gtin.get_data(as_text=True)
    db.expire_all()
    stored = db.get(Product, product.id)
    assert stored is not None and stored.name_en == FAKE_NAME and stored.gtin is None

    assert_shows_certified_honey(anonymous, uris)

    # The next print job prints the certified name and the same GTIN.
    pdf = order_and_download(exporter, printer, world, db, batch, quantity=2)
    text = pdf_text(pdf)
    assert "Sumbawa Forest Honey" in text and "Kopi Luwak" not in text
    new_uris = decode_qr_codes(pdf)
    assert {parse_uri(u).gtin for u in new_uris} == {parse_uri(uris[0]).gtin}
    assert_shows_certified_honey(anonymous, new_uris)

    # The exporter's and the officer's batch pages show what was certified.
    for who, path in ((exporter, f"/batches/{batch.id}"), (signed_in(make_client,
                      "officer.ntb@test.id"), f"/review/batches/{batch.id}")):
        html = who.get(path).get_data(as_text=True)
        assert "Sumbawa Forest Honey" in html and "Kopi Luwak" not in html, path

    # Figures and exports count the certified category and HS chapter.
    officer = signed_in(make_client, "officer.ntb@test.id")
    month = dt.date.today().strftime("%Y-%m")
    csv = officer.get(f"/figures/batches.csv?from_month={month}&to_month={month}&province=52")
    assert csv.status_code == 200
    line = next(r for r in csv.get_data(as_text=True).splitlines() if "HONEY-1" in r)
    assert "Sumbawa Forest Honey" in line and "040900" in line and "Livestock" in line
    assert "Kopi Luwak" not in line and "090111" not in line
    # Filtered by the certified commodity, the export still lists it; by the new one, not.
    for category, listed in (("livestock", True), ("agriculture", False)):
        rows = officer.get(f"/figures/batches.csv?from_month={month}&to_month={month}"
                           f"&province=52&category={category}").get_data(as_text=True)
        assert ("HONEY-1" in rows) is listed, category


def test_api_edits_after_approval_leave_printed_labels_as_certified(
    world: World, db: Session, app: Flask, make_client: Any
) -> None:
    from api.api_helpers import api_for, assert_problem

    product, batch = certified_honey(world, db, app)
    exporter = signed_in(make_client, "a@test.id")
    printer = signed_in(make_client, "printer@test.id")
    uris = decode_qr_codes(order_and_download(exporter, printer, world, db, batch))
    api = api_for(app, db, world.exporter_a)
    body = {"name_id": FAKE_NAME, "name_en": FAKE_NAME, "category": "agriculture",
            "hs_code": "090111", "gtin": None, "description": ""}
    response = api.put(f"/products/{product.id}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    problem = assert_problem(api.put(f"/products/{product.id}",
                                     json={**body, "gtin": COMPANY_GTIN}), 422)
    assert "gtin" in str(problem)
    db.expire_all()
    assert db.get(Product, product.id).gtin is None  # type: ignore[union-attr]

    anonymous = make_client()
    assert_shows_certified_honey(anonymous, uris)
    read = api.get(f"/batches/{batch.id}").get_json()
    assert read["product"]["name"] == "Sumbawa Forest Honey"
    listed = api.get("/batches").get_json()
    assert {i["product"]["name"] for i in listed["items"] if i["lot_code"] == "HONEY-1"} == {
        "Sumbawa Forest Honey"}


def test_a_gtin_cannot_move_once_a_batch_was_submitted(
    world: World, db: Session, app: Flask, make_client: Any
) -> None:
    """A product that already has a company GTIN keeps it (and labels keep verifying), and the
    GTIN cannot go to another product of the company either."""
    product = world.product(world.exporter_a, "Mutiara", "Lombok Pearls", gtin=COMPANY_GTIN)
    batch = world.batch(world.exporter_a, product, "PEARL-1", "52.01")
    db.commit()
    world.submit(batch, world.exporter_a)
    exporter = signed_in(make_client, "a@test.id")
    other = COMPANY_GTIN[:11] + "0" + gs1.gtin_check_digit(COMPANY_GTIN[:11] + "0")
    for gtin in ("", other):
        response = exporter.post(f"/products/{product.id}/edit", {
            "name_id": "Mutiara", "name_en": "Lombok Pearls", "category": "craft",
            "hs_code": "090111", "gtin": gtin, "description": ""},
            token_from=f"/products/{product.id}/edit")
        assert response.status_code == 200, gtin
        assert "GTIN can no longer change" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Product, product.id).gtin == "0" + COMPANY_GTIN  # type: ignore[union-attr]
    # The same GTIN unchanged is fine: the rest of the product may still be edited.
    ok = exporter.post(f"/products/{product.id}/edit", {
        "name_id": "Mutiara Laut", "name_en": "Lombok Sea Pearls", "category": "craft",
        "hs_code": "090111", "gtin": COMPANY_GTIN, "description": ""},
        token_from=f"/products/{product.id}/edit")
    assert ok.status_code == 302
