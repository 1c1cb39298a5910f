"""Issue 11 §3: no valid code outside a print job.

The exporter's one-sheet proof (PDF) and preview (PNG) once carried correctly signed QR codes
for the next serials: "never printed" on the day, "genuine and certified" as soon as the next
job was ordered. Here the proof's codes are decoded from the pixels and opened over HTTP, before
and after a real job is ordered; they must always answer "specimen — not a label", never
verify offline, and every proof label must visibly say SPECIMEN / CONTOH.
"""

from __future__ import annotations

import io
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlmodel import Session, select

from conftest import Client, World, decode_qr_codes
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.gs1.digital_link import parse_uri
from registry.printing import services as printing
from registry.printing.models import PrintJob
from registry.signing.keys import keystore
from registry.signing.offline import verify_label
from tests.verify.verify_support import label_path, path_of

JSON = {"Accept": "application/json"}
HEADLINES = {
    "en": "Specimen — not a label",
    "id": "Contoh — bukan label",
    "zh": "样张 — 不是标签",
    "ja": "見本 — ラベルではありません",
}


def _approve(world: World) -> Batch:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    return world.batch_a




def _order(client: Client, world: World, batch: Batch, quantity: int, stock: str = "a4-3x7",
           net: str = "500 g") -> Any:
    return client.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": stock, "quantity": str(quantity),
        "net_quantity": net})


def _png_codes(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png))
    return [r.text for r in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)]


def _verdict(http: FlaskClient, uri: str) -> dict[str, Any]:
    response = http.get(path_of(uri), headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()  # type: ignore[no-any-return]


def _proof_and_preview(client: Client, batch: Batch) -> tuple[list[str], list[str]]:
    proof = client.get(f"/batches/{batch.id}/labels/proof.pdf?stock=a4-2x4&net=250+g")
    assert proof.status_code == 200
    preview = client.get(f"/batches/{batch.id}/labels/preview.png?stock=roll-50x30&net=250+g")
    assert preview.status_code == 200
    return decode_qr_codes(proof.get_data(), 150), _png_codes(preview.get_data())


def test_proof_and_preview_codes_never_verify_before_or_after_a_job(
        app: Flask, client: Client, world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    proof_codes, preview_codes = _proof_and_preview(client, batch)
    assert len(proof_codes) == 8 and len(preview_codes) == 1
    http = app.test_client()  # a buyer's phone
    with app.app_context():
        keys = keystore().public_keys()
    codes = proof_codes + preview_codes
    for uri in codes:
        link = parse_uri(uri)
        assert link.lot == batch.lot_code and link.serial_number is None  # serial 0…0
        assert _verdict(http, uri)["verdict"] == "specimen"
        assert not verify_label(uri, {"keys": keys}).ok
    # The next job takes the serials the old proof showed (1, 2, …): the proof stays a specimen.
    assert _order(client, world, batch, 21).status_code == 302
    for uri in codes:
        body = _verdict(http, uri)
        assert body["verdict"] == "specimen", body
        assert body["batch"] is None
        for lang, headline in HEADLINES.items():
            html = http.get(f"{path_of(uri)}&lang={lang}").get_data(as_text=True)
            assert headline in html and "Sumbawa Honey" not in html, lang
    # The proof code's own links lead only to its page ("specimen — not a label"); the
    # certification belongs to the lot, one level up.
    linkset = http.get(label_path(codes[0]), headers={"Accept": "application/linkset+json"})
    entry = linkset.get_json()["linkset"][0]
    assert "https://gs1.org/voc/certificationInfo" not in entry
    assert entry["https://gs1.org/voc/defaultLink"][0]["href"].endswith(path_of(codes[0]))
    # A proof ordered after the job still shows no code of the job's range.
    later, _ = _proof_and_preview(client, batch)
    assert all(parse_uri(u).serial_number is None for u in later)


def test_proof_codes_have_the_real_codes_length(app: Flask, client: Client, make_client: Any,
                                                world: World, db: Session) -> None:
    """A specimen is as long as a real label of the batch, so the proof shows the real QR
    size and version."""
    batch = _approve(world)
    client.login("a@test.id")
    assert _order(client, world, batch, 21).status_code == 302
    printer = make_client()
    printer.login("printer@test.id")
    job = db.exec(select(PrintJob)).one()
    real = decode_qr_codes(printer.download(f"/print-shop/jobs/{job.id}.pdf").get_data())
    proof, _ = _proof_and_preview(client, batch)
    # The next serial is 22: a two-digit specimen serial, like the printed 10…21.
    assert {len(u) for u in proof} == {len(real[-1])}
    assert {parse_uri(u).serial for u in proof} == {"00"}


def _text(pdf: bytes) -> str:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return " ".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


def _red_pixels(image: Image.Image) -> int:
    rgb = image.convert("RGB")
    red, green, blue = rgb.split()
    mask = Image.merge("RGB", (red.point(lambda v: 255 if v > 150 else 0),
                               green.point(lambda v: 255 if v < 120 else 0),
                               blue.point(lambda v: 255 if v < 120 else 0))).convert("L")
    return sum(1 for v in mask.point(lambda v: 255 if v == 255 else 0).tobytes() if v)


def test_every_proof_label_is_marked_specimen(client: Client, world: World) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    proof = client.get(f"/batches/{batch.id}/labels/proof.pdf?stock=a4-2x4").get_data()
    text = _text(proof)
    assert text.count("SPECIMEN") == 8 and text.count("CONTOH") == 8
    stock = printing.stocks()["a4-2x4"]
    doc = pypdfium2.PdfDocument(proof)
    try:
        scale = 100 / 72 * 72 / 25.4  # pixels per mm at 100 dpi
        page = doc[0].render(scale=100 / 72).to_pil().convert("RGB")
    finally:
        doc.close()
    for slot in range(stock.labels_per_sheet):
        left, top = stock.label_origin(slot)
        label = page.crop((round(left * scale), round(top * scale),
                           round((left + stock.label_width) * scale),
                           round((top + stock.label_height) * scale)))
        assert _red_pixels(label) > 500, slot  # the overprint is visible on every label
        qr = stock.qr.box  # the QR and its quiet zone: untouched by the overprint
        inside = page.crop((round((left + qr.x) * scale) + 1, round((top + qr.y) * scale) + 1,
                            round((left + qr.right) * scale) - 1,
                            round((top + qr.bottom) * scale) - 1))
        assert _red_pixels(inside) == 0, slot
    preview = client.get(f"/batches/{batch.id}/labels/preview.png?stock=roll-50x30").get_data()
    assert _red_pixels(Image.open(io.BytesIO(preview))) > 500
    assert len(_png_codes(preview)) == 1


@pytest.mark.parametrize("net", ["lots", "<b>1 kg</b>", "1 kg; DROP", "0 kg", "99999999 kg"])
def test_net_quantity_of_proof_and_preview_is_checked(client: Client, world: World,
                                                      net: str) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    for kind in ("proof.pdf", "preview.png"):
        response = client.get(f"/batches/{batch.id}/labels/{kind}",
                              query_string={"stock": "a4-3x7", "net": net})
        assert response.status_code == 400, (kind, net)
        assert "net quantity" in response.get_data(as_text=True)


def test_signed_labels_come_only_from_the_assigned_print_shop(
        app: Flask, client: Client, make_client: Any, world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    assert _order(client, world, batch, 5).status_code == 302
    job = db.exec(select(PrintJob)).one()
    for who in ("a@test.id", "b@test.id", "officer.ntb@test.id", "admin@test.id"):
        other = make_client()
        other.login(who)
        for kind in ("pdf", "zpl"):
            assert other.get(f"/print-shop/jobs/{job.id}.{kind}").status_code == 403, who
    assert app.test_client().get(f"/print-shop/jobs/{job.id}.pdf").status_code in (302, 401)
    printer = make_client()
    printer.login("printer@test.id")
    uris = decode_qr_codes(printer.download(f"/print-shop/jobs/{job.id}.pdf").get_data())
    # Exactly the job's range: every signed code of the registry lies inside a print job.
    assert sorted(parse_uri(u).serial_number for u in uris) == [1, 2, 3, 4, 5]
    downloads = db.exec(select(AuditEvent).where(AuditEvent.action == "printjob.download"))
    assert len(downloads.all()) == 1
