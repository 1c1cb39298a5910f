"""The label renderer, checked the way a printer and a phone see it: rasterised and scanned."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from PIL import Image

from registry.gs1 import digital_link as gs1
from registry.printing.render.label import MARK_TEXT, LabelData, RenderError
from registry.printing.render.preview import render_png_preview
from registry.printing.render.qr import PARALLEL_AFTER
from registry.printing.render.stream import iter_pdf, render_pdf
from registry.printing.stocks import MM, QR_QUIET_ZONE, Stock, load_stocks
from registry.signing.keydir import KeyDir
from registry.signing.signer import Signer
from registry.signing.verifier import verify_uri

STOCKS = load_stocks()
GTIN = gs1.registry_gtin(3)
LOT = "KOPI/BJW-26"
MARKUP_NAME = "<font color=red>X</font> <img src=/etc/passwd/> & <"
LONG_NAME = ("Kopi arabika Flores Bajawa, semi-washed, grade 1 " * 8)[:300]


@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> KeyDir:
    ks = KeyDir(tmp_path_factory.mktemp("keys"))
    ks.create_key()
    return ks


@pytest.fixture(scope="module")
def signer(keystore: KeyDir) -> Signer:
    return keystore.active_signer()


def labels(signer: Signer, n: int, start: int = 1, **fields: str) -> list[LabelData]:
    base = {
        "product_name": "Kopi Arabika Flores Bajawa",
        "origin_regency": "Kabupaten Ngada",
        "origin_province": "Nusa Tenggara Timur",
        "producer": "Koperasi Tani Kopi Bajawa",
        "lot": LOT,
        "net_quantity": "250 g",
        "best_before": "2027-06-30",
        "short_host": "mib.id",
    }
    base.update(fields)
    return [
        LabelData(
            serial=f"{i:06d}",
            qr_uri=signer.label_uri("mib.id", GTIN, LOT, gs1.format_serial(i)),
            **base,  # type: ignore[arg-type]
        )
        for i in range(start, start + n)
    ]


def pages(pdf: bytes) -> list[pypdfium2.PdfPage]:
    # Pages keep their document alive (pypdfium2 holds a reference to the parent).
    doc = pypdfium2.PdfDocument(pdf)
    return [doc[i] for i in range(len(doc))]


def scan(page: pypdfium2.PdfPage, dpi: int) -> list[str]:
    return [b.text for b in scan_symbols(page, dpi)]


def scan_symbols(page: pypdfium2.PdfPage, dpi: int) -> list[zxingcpp.Barcode]:
    image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)


def slot_at(stock: Stock, barcode: zxingcpp.Barcode, dpi: int) -> int:
    """The label slot whose rectangle holds the centre of a decoded symbol."""
    pos = barcode.position
    corners = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    cx = sum(p.x for p in corners) / 4 / dpi * 25.4
    cy = sum(p.y for p in corners) / 4 / dpi * 25.4
    for slot in range(stock.labels_per_sheet):
        x, y = stock.label_origin(slot)
        if x <= cx <= x + stock.label_width and y <= cy <= y + stock.label_height:
            return slot
    raise AssertionError(f"symbol at ({cx:.1f}, {cy:.1f}) mm is on no label")


def label_rects(stock: Stock) -> list[tuple[float, float, float, float]]:
    """(left, bottom, right, top) of every label on a sheet, in PDF points."""
    rects = []
    for slot in range(stock.labels_per_sheet):
        x, y = stock.label_origin(slot)
        rects.append((
            x * MM,
            (stock.page_height - y - stock.label_height) * MM,
            (x + stock.label_width) * MM,
            (stock.page_height - y) * MM,
        ))
    return rects


def char_boxes(page: pypdfium2.PdfPage) -> list[tuple[str, tuple[float, float, float, float]]]:
    tp = page.get_textpage()
    out = []
    for i in range(tp.count_chars()):
        ch = tp.get_text_range(i, 1)
        if ch.strip():
            out.append((ch, tp.get_charbox(i, loose=False)))
    return out


def inside(box: tuple[float, ...], rect: tuple[float, ...], tol: float = 0.01) -> bool:
    return (
        box[0] >= rect[0] - tol and box[1] >= rect[1] - tol
        and box[2] <= rect[2] + tol and box[3] <= rect[3] + tol
    )


# --- scanning ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stock_id", sorted(STOCKS))
@pytest.mark.parametrize("dpi", [300, 150])
def test_every_qr_on_a_sheet_scans_to_its_signed_uri(
    signer: Signer, keystore: KeyDir, stock_id: str, dpi: int
) -> None:
    stock = STOCKS[stock_id]
    n = stock.labels_per_sheet if stock.labels_per_sheet > 1 else 2
    batch = labels(signer, n, start=4_000_000_000 // (dpi * 7))
    pdf = render_pdf(stock, batch, workers=1)
    keys = keystore.public_keys()
    per_page = stock.labels_per_sheet
    sheets = pages(pdf)
    assert len(sheets) == -(-n // per_page)
    for index, page in enumerate(sheets):
        on_sheet = batch[index * per_page : (index + 1) * per_page]
        found = scan_symbols(page, dpi)
        assert len(found) == len(on_sheet), f"page {index} at {dpi} dpi"
        for symbol in found:
            # Each label's own URI, at that label's position, at the stock's error level.
            assert symbol.text == on_sheet[slot_at(stock, symbol, dpi)].qr_uri
            assert symbol.ec_level == stock.qr.error_level
    for lb in batch:
        assert verify_uri(lb.qr_uri, keys).ok


def test_qr_is_an_exact_image_mask_with_its_quiet_zone_clear(signer: Signer) -> None:
    stock = STOCKS["a4-3x7"]
    pdf = render_pdf(stock, labels(signer, 21, product_name=LONG_NAME), workers=1)
    assert b"/ImageMask true" in pdf and b"/Interpolate false" in pdf
    page = pages(pdf)[0]
    chars = char_boxes(page)
    qr = stock.qr.box
    images = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
    assert len(images) == 21
    for obj, rect in zip(
        sorted(images, key=lambda o: (-o.get_bounds()[3], o.get_bounds()[0])), label_rects(stock),
        strict=True,
    ):
        left, bottom, right, top = obj.get_bounds()
        width_px, height_px = obj.get_px_size()
        assert width_px == height_px
        module = (right - left) / width_px
        assert module >= 0.4 * MM - 1e-6
        qz = QR_QUIET_ZONE * module
        zone = (left - qz, bottom - qz, right + qz, top + qz)
        box = (
            rect[0] + qr.x * MM, rect[3] - (qr.y + qr.h) * MM,
            rect[0] + (qr.x + qr.w) * MM, rect[3] - qr.y * MM,
        )
        assert inside(zone, box)
        for ch, cb in chars:
            overlap = cb[0] < zone[2] and zone[0] < cb[2] and cb[1] < zone[3] and zone[1] < cb[3]
            assert not overlap, f"{ch!r} inside a quiet zone"


# --- text -------------------------------------------------------------------------------------


def test_text_is_embedded_extractable_and_literal(signer: Signer) -> None:
    stock = STOCKS["a4-3x7"]
    pdf = render_pdf(stock, labels(signer, 3, product_name=MARKUP_NAME), workers=1)
    assert b"/FontFile2" in pdf and b"Helvetica" not in pdf
    page = pages(pdf)[0]
    text = page.get_textpage().get_text_range()
    flat = " ".join(text.split())
    assert MARK_TEXT in flat  # en dashes included
    assert MARKUP_NAME in flat
    assert "Kabupaten Ngada, Nusa Tenggara Timur" in flat
    assert "Lot KOPI/BJW-26" in flat and "No. 000001" in flat and "mib.id" in flat


def test_non_latin_text_renders_and_extracts(signer: Signer) -> None:
    name = "Кофе Флорес Μέλι Ἀθῆναι"
    pdf = render_pdf(STOCKS["a4-2x7"], labels(signer, 1, product_name=name), workers=1)
    text = " ".join(pages(pdf)[0].get_textpage().get_text_range().split())
    assert name in text


@pytest.mark.parametrize("stock_id", sorted(STOCKS))
def test_300_char_name_stays_inside_every_label(signer: Signer, stock_id: str) -> None:
    stock = STOCKS[stock_id]
    long_fields = {
        "product_name": LONG_NAME,
        "producer": "Koperasi " + "Serba Usaha Petani Kopi " * 6,
        "origin_regency": "Kabupaten Manggarai Barat " * 3,
    }
    pdf = render_pdf(stock, labels(signer, stock.labels_per_sheet, **long_fields), workers=1)
    rects = label_rects(stock)
    page = pages(pdf)[0]
    chars = char_boxes(page)
    assert chars
    for ch, box in chars:
        assert any(inside(box, r) for r in rects), f"{ch!r} at {box} is outside every label"
    text = page.get_textpage().get_text_range()
    assert "…" in text and "Kopi arabika" in text
    # The joint mark itself is never truncated.
    assert "Bali–NTB–NTT" in " ".join(text.split())


# --- jobs -------------------------------------------------------------------------------------


def test_reprint_renders_only_the_selected_sheets(signer: Signer) -> None:
    stock = STOCKS["a4-3x7"]
    batch = labels(signer, 70)
    pdf = render_pdf(stock, batch, sheets=range(1, 3), workers=1)
    found = [sorted(scan(p, 150)) for p in pages(pdf)]
    assert found == [
        sorted(lb.qr_uri for lb in batch[21:42]),
        sorted(lb.qr_uri for lb in batch[42:63]),
    ]


@pytest.mark.slow
def test_streams_in_chunks_and_worker_processes_change_nothing(signer: Signer) -> None:
    stock = STOCKS["a4-3x7"]
    batch = labels(signer, PARALLEL_AFTER + 500)
    chunks = list(iter_pdf(stock, iter(batch), workers=1))
    assert len(chunks) > 2 and chunks[0].startswith(b"%PDF-1.4")
    assert chunks[-1].endswith(b"%%EOF\n")
    parallel = render_pdf(stock, iter(batch), workers=2)
    assert parallel == b"".join(chunks)
    assert len(pypdfium2.PdfDocument(parallel)) == -(-len(batch) // 21)
    assert len(parallel) / len(batch) < 1500


def test_uri_too_long_for_the_stock_is_refused(signer: Signer) -> None:
    (label,) = labels(signer, 1)
    too_long = replace(label, qr_uri=label.qr_uri + "&x=" + "y" * 300)
    with pytest.raises(RenderError, match="modules"):
        render_pdf(STOCKS["roll-50x30"], [too_long], workers=1)


def test_png_preview_scans(signer: Signer, tmp_path: Path) -> None:
    (label,) = labels(signer, 1, product_name=MARKUP_NAME)
    png = render_png_preview(STOCKS["roll-50x30"], label)
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png))
    assert image.width == round(50 / 25.4 * 300)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)
    assert [b.text for b in found] == [label.qr_uri]
