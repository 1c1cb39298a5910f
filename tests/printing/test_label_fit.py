"""Label text is never cut: it shrinks and wraps down to the legible minimum, and an order on a
stock that cannot hold it is refused (issue 13 §1), read back from the rendered PDF's text."""

from __future__ import annotations

from typing import Any

import pypdfium2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from conftest import Client, World
from registry.catalog.certification import Action
from registry.printing.models import PrintJob
from registry.printing.render.label import LabelData
from registry.printing.render.stream import render_pdf
from registry.printing.render.text import overflowing
from registry.printing.stocks import LEGIBLE_MIN_PT, load_stocks
from tests.api.api_helpers import api_for, assert_problem

STOCKS = load_stocks()
MAX_LOT = "TTS-IKT-2611-LONGWWW"  # 20 characters, the longest lot code, with wide letters


def label(**fields: str) -> LabelData:
    base = {
        "product_name": "Kopi Arabika Flores Bajawa", "origin_regency": "Kabupaten Ngada",
        "origin_province": "NTT", "producer": "Koperasi Tani Kopi Bajawa", "lot": "KOPI-26",
        "net_quantity": "250 g", "best_before": "2027-06-30", "serial": "1234567890",
        "short_host": "mib.id", "qr_uri": "https://mib.id/01/00000000000000/10/X/21/1",
    }
    base.update(fields)
    return LabelData(**base)  # type: ignore[arg-type]


def pdf_words(pdf: bytes) -> str:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return " ".join(" ".join(p.get_textpage().get_text_range().split()) for p in doc)
    finally:
        doc.close()


def unwrapped(text: str) -> str:
    """Wrapped lines come back joined by a space; a word may have been split after a dash
    (which pdfium reports as U+FFFE, its end-of-line hyphen)."""
    return text.replace("\ufffe", "-").replace("- ", "-").replace("– ", "–")


def test_max_length_lot_is_whole_on_us_letter() -> None:
    stock = STOCKS["letter-3x10"]
    lb = label(lot=MAX_LOT)
    assert overflowing(stock, lb) == []
    words = pdf_words(render_pdf(stock, [lb], workers=1))
    assert f"Lot {MAX_LOT}" in unwrapped(words) and "…" not in words


def test_names_wrap_whole_on_the_50x30_roll() -> None:
    stock = STOCKS["roll-50x30"]
    lb = label(origin_regency="Kabupaten Timor Tengah Selatan",
               producer="Koperasi Tani Kopi Bajawa", product_name="Kopi Arabika Flores Bajawa")
    assert overflowing(stock, lb) == []
    words = unwrapped(pdf_words(render_pdf(stock, [lb], workers=1)))
    assert "…" not in words
    for whole in ("Kabupaten Timor Tengah Selatan, NTT", "Koperasi Tani Kopi Bajawa",
                  "Kopi Arabika Flores Bajawa"):
        assert whole in words


def test_no_stock_goes_below_the_legible_minimum() -> None:
    for stock in STOCKS.values():
        for el in stock.texts:
            assert el.style.size_min >= LEGIBLE_MIN_PT, (stock.id, el.name)


NAMES = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ  -"),
                min_size=1, max_size=120).map(lambda s: " ".join(s.split()) or "x")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stock_id=st.sampled_from(sorted(STOCKS)), product=NAMES, producer=NAMES,
       lot=st.from_regex(r"[A-Z0-9.\-]{1,20}", fullmatch=True))
def test_what_the_rule_accepts_is_printed_whole(stock_id: str, product: str, producer: str,
                                                lot: str) -> None:
    stock = STOCKS[stock_id]
    lb = label(product_name=product, producer=producer, lot=lot)
    if overflowing(stock, lb):
        return  # refused at order time (the tests below)
    words = unwrapped(pdf_words(render_pdf(stock, [lb], workers=1)))
    assert "…" not in words
    # A word longer than its box is split inside (no hyphen is added), so compare the
    # characters, not the spaces: a character short is a cut.
    letters = "".join(words.split())
    for whole in (product, producer, f"Lot {lot}"):
        assert "".join(whole.split()) in letters


# --- at order time: the web form and the API refuse --------------------------------------------


def _long_lot_batch(world: World) -> Any:
    batch = world.batch(world.exporter_a, world.product_a, MAX_LOT, "52.04")
    world.session.commit()
    world.submit(batch, world.exporter_a)
    world.decide(batch, world.officer_ntb, Action.APPROVE)
    return batch


def test_order_form_refuses_a_stock_too_small_and_suggests_a_larger_one(
        client: Client, world: World, db: Session) -> None:
    batch = _long_lot_batch(world)
    client.login("a@test.id")
    response = client.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "roll-50x30", "quantity": "10",
        "net_quantity": "250 g"})
    assert response.status_code == 200
    page = " ".join(response.get_data(as_text=True).split())
    assert "Thermal roll, 50 × 30 mm" in page  # the stock, by name
    assert "cannot hold the lot code" in page
    assert "Choose a larger stock" in page and "Thermal roll, 60 × 40 mm" in page
    assert db.exec(select(PrintJob)).all() == []
    # The suggested stock takes the same order.
    ok = client.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "roll-60x40", "quantity": "10",
        "net_quantity": "250 g"})
    assert ok.status_code == 302


def test_api_refuses_with_a_problem_naming_the_field(app: Any, world: World,
                                                     db: Session) -> None:
    batch = _long_lot_batch(world)
    api = api_for(app, db, world.exporter_a)
    body = assert_problem(api.post(f"/batches/{batch.id}/print-jobs", json={
        "printer_org_id": world.print_org.id, "stock": "roll-50x30", "quantity": 10,
        "net_quantity": "250 g"}), 422)
    assert body["codes"] == {"stock": "text_does_not_fit"}
    assert body["does_not_fit"] == {"stock": "roll-50x30", "elements": ["lot"],
                                    "larger_stocks": body["does_not_fit"]["larger_stocks"]}
    assert "roll-60x40" in body["does_not_fit"]["larger_stocks"]
    assert "roll-50x30" not in body["does_not_fit"]["larger_stocks"]
    assert "Thermal roll, 50 × 30 mm" in body["errors"]["stock"]
    assert "lot code" in body["detail"] and "Choose a larger stock" in body["detail"]
    assert db.exec(select(PrintJob)).all() == []


def test_a_job_ordered_before_the_rule_is_refused_at_download_not_printed_cut(
        make_client: Any, world: World, db: Session) -> None:
    batch = _long_lot_batch(world)
    # As the registry took such orders before the rule: straight into the table.
    job = PrintJob(batch_id=batch.id, exporter_org_id=batch.organisation_id,
                   printer_org_id=world.print_org.id, stock="roll-50x30", quantity=2,
                   serial_first=1, serial_last=2, net_quantity="250 g",
                   ordered_by=world.exporter_a.id)
    db.add(job)
    db.commit()
    printer = make_client()
    printer.login("printer@test.id")
    for path in (f"/print-shop/jobs/{job.id}.pdf", f"/print-shop/jobs/{job.id}.zpl"):
        response = printer.get(path)
        assert response.status_code == 409, path
        text = " ".join(response.get_data(as_text=True).split())
        assert "cannot hold the lot code" in text and "order these labels again" in text
    db.expire_all()
    assert db.get(PrintJob, job.id).downloads == 0
