"""Zebra ZPL II for thermal roll stocks, from the same layout data as the PDF.

Text is fitted with the PDF renderer's metrics (DejaVu Sans is wider than the printer's
scalable font 0, so what fits there fits on the printer) and sent line by line, so the printer
never wraps or overflows on its own. Every field goes through ``^FH`` hex escapes: user text
cannot inject ZPL commands (``^`` and ``~`` never reach the printer raw).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from registry.printing.render.fonts import font_face
from registry.printing.render.label import LabelData
from registry.printing.render.text import clean_text, fit_text
from registry.printing.stocks import MIN_MODULE_MM, QR_QUIET_ZONE, Stock, qr_version_for

MM_PER_INCH = 25.4
SUPPORTED_DPI = (203, 300, 600)
ZPL_DPIS = (203, 300)  # what the print-shop list offers: the common thermal heads
_ESCAPE = {"^", "~", "_", "\\"}


class ZplError(ValueError):
    pass


def is_roll(stock: Stock) -> bool:
    """Thermal rolls carry one label per page; sheets are for office printers only."""
    return stock.labels_per_sheet == 1 and math.isclose(stock.page_width, stock.label_width)


def _hex_field(text: str) -> str:
    # ^FH_ makes "_XX" a hex byte; escape our control characters and everything non-ASCII
    # (sent as UTF-8 bytes, which ^CI28 tells the printer to expect).
    out: list[str] = []
    for ch in text:
        if ch in _ESCAPE or not (32 <= ord(ch) < 127):
            out.extend(f"_{b:02X}" for b in ch.encode())
        else:
            out.append(ch)
    return "".join(out)


def _dots(mm: float, dpi: int) -> int:
    return round(mm * dpi / MM_PER_INCH)


def qr_magnification(stock: Stock, uri_length: int, dpi: int) -> int:
    """Dots per module: at least 0.4 mm, and the symbol with its quiet zone inside the box."""
    version = qr_version_for(uri_length, stock.qr.error_level)
    modules = 17 + 4 * version + 2 * QR_QUIET_ZONE
    dots_mm = dpi / MM_PER_INCH
    smallest = math.ceil(MIN_MODULE_MM * dots_mm - 1e-9)
    largest = math.floor(min(stock.qr.box.w, stock.qr.box.h) * dots_mm / modules)
    if largest < smallest or smallest > 10:
        raise ZplError(f"stock {stock.id} cannot hold a {version}-version QR code at {dpi} dpi "
                       "with 0.4 mm modules")
    return min(largest, 10)


def zpl_fits(stock: Stock, uri_length: int, dpi: int) -> bool:
    """Whether a URI of ``uri_length`` can be printed on ``stock`` at ``dpi``."""
    try:
        qr_magnification(stock, uri_length, dpi)
    except ZplError:
        return False
    return True


def label_zpl(stock: Stock, label: LabelData, *, dpi: int = 300) -> str:
    if not is_roll(stock):
        raise ZplError(f"stock {stock.id} is a sheet stock; ZPL is for thermal rolls")
    if dpi not in SUPPORTED_DPI:
        raise ZplError(f"unsupported printer resolution {dpi} dpi")
    parts = ["^XA", "^CI28", f"^PW{_dots(stock.label_width, dpi)}",
             f"^LL{_dots(stock.label_height, dpi)}", "^LH0,0"]
    for element in stock.texts:
        text = label.text_for(element.name)
        if not text:
            continue
        text = clean_text(element.style.prefix + text)
        face = font_face(stock.fonts[element.style.font])  # same metrics as the PDF
        width_pt = element.box.w * 72 / MM_PER_INCH
        height_pt = element.box.h * 72 / MM_PER_INCH
        size, lines = fit_text(face, text, element.style, width_pt, height_pt)
        height = max(10, round(size * dpi / 72))
        pitch = round(size * element.style.leading * dpi / 72)
        x = _dots(element.box.x, dpi)
        y = _dots(element.box.y, dpi)
        justify = {"left": "L", "center": "C", "right": "R"}[element.style.align]
        for i, line in enumerate(lines):
            parts.append(
                f"^FO{x},{y + i * pitch}^A0N,{height},{height}"
                f"^FB{_dots(element.box.w, dpi)},1,0,{justify},0^FH_^FD{_hex_field(line)}^FS"
            )
    mag = qr_magnification(stock, len(label.qr_uri), dpi)
    quiet = QR_QUIET_ZONE * mag
    level = stock.qr.error_level
    parts.append(
        f"^FO{_dots(stock.qr.box.x, dpi) + quiet},{_dots(stock.qr.box.y, dpi) + quiet}"
        f"^BQN,2,{mag}^FH_^FD{level}A,{_hex_field(label.qr_uri)}^FS"
    )
    parts.append("^XZ")
    return "\n".join(parts) + "\n"


def iter_zpl(stock: Stock, labels: Iterable[LabelData], *, dpi: int = 300) -> Iterator[bytes]:
    for label in labels:
        yield label_zpl(stock, label, dpi=dpi).encode("ascii")
