"""What exporters and print shops see on the print path (issue 13 §1): the preview of the
stock chosen, reprint reasons, the print-shop list."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any

import pypdfium2
import pytest
from flask import Flask
from PIL import Image
from sqlmodel import Session, select

from conftest import Client, World, decode_qr_codes, published_keys
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.exceptions import ValidationError
from registry.gs1.digital_link import parse_uri
from registry.printing import services as printing
from registry.printing.models import PrintJob, Reprint
from registry.printing.render.label import LabelData
from registry.printing.render.preview import render_png_preview
from registry.printing.stocks import load_stocks
from registry.signing.models import LabelSignature
from registry.signing.verifier import VerifyStatus, verify_uri


def _approve(world: World, batch: Batch | None = None) -> Batch:
    batch = batch or world.batch_a
    world.submit(batch, world.exporter_a)
    world.decide(batch, world.officer_ntb, Action.APPROVE)
    return batch


STOCKS = load_stocks()
IMG_SRC = re.compile(r'<img class="label-preview" src="([^"]+)"')


def _preview_size(client: Client, page: str) -> tuple[int, int]:
    match = IMG_SRC.search(page)
    assert match, "no preview image on the page"
    png = client.get(html.unescape(match.group(1)))
    assert png.status_code == 200 and png.mimetype == "image/png"
    return Image.open(io.BytesIO(png.get_data())).size


def _mm(pixels: int, dpi: int = 200) -> float:
    return pixels / dpi * 25.4


def test_preview_shows_the_stock_chosen(client: Client, world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    for stock, (w, h) in {"roll-50x30": (50, 30), "letter-3x10": (66.7, 25.4),
                          "roll-100x150": (100, 150)}.items():
        page = client.get(f"/batches/{batch.id}/labels?stock={stock}&net=250+g")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        width, height = _preview_size(client, text)
        assert abs(_mm(width) - w) < 0.5 and abs(_mm(height) - h) < 0.5, stock
        # The chosen stock stays selected in both forms.
        assert f'<option value="{stock}" selected>' in text  # the preview form
        assert f'<option selected value="{stock}">' in text  # the order form
    # After a refused order the preview shows the stock that was ordered.
    refused = client.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "roll-60x40", "quantity": "0",
        "net_quantity": "250 g"})
    assert refused.status_code == 200
    width, height = _preview_size(client, refused.get_data(as_text=True))
    assert abs(_mm(width) - 60) < 0.5 and abs(_mm(height) - 40) < 0.5


# --- ZPL at 203 and 300 dpi ---------------------------------------------------------------------

ZPL_FIELD = re.compile(r"\^FD(.*?)\^FS", re.S)


def _unhex(text: str) -> str:
    return re.sub(rb"_([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  text.encode()).decode()


def _order(client: Client, world: World, batch: Batch, stock: str, quantity: int = 2) -> None:
    response = client.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": stock, "quantity": str(quantity),
        "net_quantity": "250 g"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_zpl_at_203_and_300_dpi_matches_the_stock(app: Flask, client: Client, make_client: Any,
                                                  world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    _order(client, world, batch, "roll-100x150")
    job = db.exec(select(PrintJob)).one()
    printer = make_client()
    printer.login("printer@test.id")
    listing = printer.get("/print-shop").get_data(as_text=True)
    printer.download(f"/print-shop/jobs/{job.id}.pdf")  # the first download makes the signing key
    keys = published_keys(app)
    for dpi in (203, 300):
        href = f"/print-shop/jobs/{job.id}.zpl?dpi={dpi}"
        assert f'href="{href}"' in listing  # the list offers both resolutions
        response = printer.download(href)
        assert response.status_code == 200
        labels = [c for c in response.get_data(as_text=True).split("^XZ") if "^XA" in c]
        assert len(labels) == 2
        for serial, label in enumerate(labels, start=1):
            commands = ["^" + c.strip() for c in label.split("^") if c.strip()]
            dots = dpi / 25.4
            assert f"^PW{round(100 * dots)}" in commands  # 100 mm wide
            assert f"^LL{round(150 * dots)}" in commands  # 150 mm long
            qr = [c for c in commands if c.startswith("^BQN,2,")]
            assert len(qr) == 1
            # Magnification: whole dots per module, at least 0.4 mm.
            assert int(qr[0].split(",")[2]) / dots >= 0.4
            fields = [_unhex(f) for f in ZPL_FIELD.findall(label)]
            uri = next(f for f in fields if f.startswith("QA,")).removeprefix("QA,")
            assert verify_uri(uri, keys).status is VerifyStatus.VALID
            assert parse_uri(uri).serial == str(serial)
            # Every field sits inside the label at this resolution.
            for origin in re.findall(r"\^FO(\d+),(\d+)", label):
                x, y = map(int, origin)
                assert x < round(100 * dots) and y < round(150 * dots)


def test_zpl_at_203_dpi_is_not_offered_where_the_qr_cannot_keep_its_modules(
        client: Client, make_client: Any, world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    _order(client, world, batch, "roll-60x40")
    job = db.exec(select(PrintJob)).one()
    printer = make_client()
    printer.login("printer@test.id")
    listing = " ".join(printer.get("/print-shop").get_data(as_text=True).split())
    assert f'href="/print-shop/jobs/{job.id}.zpl?dpi=300"' in listing
    assert f"/print-shop/jobs/{job.id}.zpl?dpi=203" not in listing
    assert "ZPL 203 dpi: this stock's QR code needs a finer printer head." in listing
    refused = printer.download(f"/print-shop/jobs/{job.id}.zpl?dpi=203")
    assert refused.status_code == 409 and "203 dpi" in refused.get_data(as_text=True)


# --- reprints need a reason ---------------------------------------------------------------------


def test_reprint_needs_a_reason_recorded_with_it(client: Client, make_client: Any,
                                                 world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    _order(client, world, batch, "a4-3x7", quantity=30)
    job = db.exec(select(PrintJob)).one()
    printer = make_client()
    printer.login("printer@test.id")
    for reason in ("", "   "):
        refused = printer.post(f"/print-shop/jobs/{job.id}/reprint",
                               {"sheet_first": "1", "sheet_last": "1", "reason": reason})
        assert refused.status_code == 302 and refused.mimetype != "application/pdf"
        page = printer.get("/print-shop").get_data(as_text=True)
        assert "Say why the sheets are reprinted." in page
    assert db.exec(select(Reprint)).all() == []
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "printjob.reprint")).all() == []
    done = printer.post(f"/print-shop/jobs/{job.id}/reprint",
                        {"sheet_first": "2", "sheet_last": "2", "reason": " Paper jam "})
    assert done.status_code == 200 and done.mimetype == "application/pdf"
    reprint = db.exec(select(Reprint)).one()
    assert reprint.reason == "Paper jam"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "printjob.reprint")).one()
    assert "Paper jam" in str(event.after)
    # The service refuses it too, whoever calls it.
    with pytest.raises(ValidationError) as caught:
        printing.record_reprint(db, world.printer, job, sheet_first=1, sheet_last=1, reason=" ",
                                kid=db.exec(select(LabelSignature.kid)).first() or "")
    assert caught.value.fields == {"reason": "required"}


# --- the print-shop list ------------------------------------------------------------------------


def test_print_shop_list_dates_states_and_numbers_in_the_readers_locale(
        client: Client, make_client: Any, world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    _order(client, world, batch, "a4-3x7", quantity=1500)
    job = db.exec(select(PrintJob)).one()
    job.created_at = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)  # 01:30 WITA on 2 March
    db.add(job)
    db.commit()
    printer = make_client()
    printer.login("printer@test.id")
    english = " ".join(printer.get("/print-shop?lang=en").get_data(as_text=True).split())
    assert ">1,500<" in english
    assert "Mar 2, 2026, 1:30:00 AM WITA" in english
    assert "Certified" in english and f"/print-shop/jobs/{job.id}.pdf" in english
    indonesian = " ".join(printer.get("/print-shop?lang=id").get_data(as_text=True).split())
    assert ">1.500<" in indonesian
    assert "2 Mar 2026 01.30.00 WITA" in indonesian
    for action in (Action.REVOKE,):
        world.decide(batch, world.officer_ntb, action)
    revoked = " ".join(printer.get("/print-shop?lang=en").get_data(as_text=True).split())
    assert "Revoked" in revoked
    assert f"/print-shop/jobs/{job.id}.pdf" not in revoked
    assert f"/print-shop/jobs/{job.id}/reprint" not in revoked
    assert "its labels cannot be downloaded" in revoked


# --- the 100 × 150 roll's layout ----------------------------------------------------------------


def _widest_blank_band_mm(stock_id: str, product_name: str) -> float:
    """The tallest run of blank pixel rows between the mark and the QR box, in mm."""
    stock = STOCKS[stock_id]
    label = LabelData(product_name=product_name, origin_regency="Kabupaten Sumbawa",
                      origin_province="NTB", producer="Koperasi Batu Dulang", lot="A-LOT-1",
                      net_quantity="500 g", best_before="2027-01-01", serial="123",
                      short_host="mib.id", exporter="PT Madu Sumbawa Lestari",
                      qr_uri="https://mib.id/01/09506000134352/10/A/21/1")
    dpi = 100
    image = Image.open(io.BytesIO(render_png_preview(stock, label, dpi=dpi))).convert("L")
    mark = next(el.box for el in stock.texts if el.name == "mark")
    top, bottom = round(mark.bottom / 25.4 * dpi), round(stock.qr.box.y / 25.4 * dpi)
    width = image.width
    pixels = image.load()
    best = run = 0
    for y in range(top, bottom):
        blank = all(pixels[x, y] > 200 for x in range(3, width - 3))
        run = run + 1 if blank else 0
        best = max(best, run)
    return best / dpi * 25.4


def test_100x150_roll_has_no_empty_band_under_the_product_name() -> None:
    for name in ("Sumbawa Honey", "Kopi Arabika Flores Bajawa, semi-washed, grade 1"):
        assert _widest_blank_band_mm("roll-100x150", name) < 6.5, name


# --- country of origin and exporter on every label ------------------------------------------------

WITH_EXPORTER = {"a4-3x7", "a4-2x7", "a4-2x4", "roll-60x40", "roll-100x150"}


def test_stocks_with_room_carry_the_exporter() -> None:
    assert {s.id for s in STOCKS.values()
            if any(el.name == "exporter" for el in s.texts)} == WITH_EXPORTER
    for stock in STOCKS.values():
        assert any(el.name == "country" for el in stock.texts), stock.id


def test_every_label_says_product_of_indonesia_and_who_exports_it(
        app: Flask, client: Client, make_client: Any, world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    printer = make_client()
    printer.login("printer@test.id")
    found: list[str] = []
    for stock_id in sorted(STOCKS):
        _order(client, world, batch, stock_id, quantity=2)
        job = db.exec(select(PrintJob).where(PrintJob.stock == stock_id)).one()
        response = printer.download(f"/print-shop/jobs/{job.id}.pdf")
        assert response.status_code == 200
        pdf = response.get_data()
        doc = pypdfium2.PdfDocument(pdf)
        try:
            texts = [" ".join(page.get_textpage().get_text_range().split()) for page in doc]
        finally:
            doc.close()
        words = " ".join(texts)
        assert words.count("Product of Indonesia") == 2, stock_id  # once on each label
        assert "…" not in words
        if stock_id in WITH_EXPORTER:
            assert words.count("Exporter: Company A") == 2, stock_id
        else:
            assert "Company A" not in words, stock_id
        uris = decode_qr_codes(pdf, 150)
        assert len(uris) == 2, stock_id
        found += uris
    keys = published_keys(app)  # the signing key exists by now
    assert {verify_uri(u, keys).status for u in found} == {VerifyStatus.VALID}
