"""The generic label renderer: one layout-driven renderer for every stock, streaming PDF out.

Layouts are data (``registry.printing.stocks``); this module only knows how to draw the element
kinds. Why it writes PDF objects itself instead of driving a reportlab canvas: a canvas keeps
every page in memory until ``save()``, so a 100,000-label job would neither fit 200 MB nor show
its first byte early. Here each page is written, and yielded, as soon as it is done; only the
cross-reference offsets stay behind (8 bytes per object). The parts that repeat are written
once: everything on a label except its serial and QR code goes into one Form XObject per
distinct batch text, and fonts are subset and embedded once, at the end, from the characters
actually used (reportlab's TrueType subsetter does that part).

QR codes come from zxing-cpp's compiled writer (standard mask selection included, which is most
of its cost) and are drawn as 1-bit image masks, one pixel per module, ``/Interpolate false``,
scaled to fill the layout's QR box with a 4-module quiet zone left blank around them. Large jobs
encode their QR codes in worker processes (the encoder holds the GIL); small jobs, and the first
pages of every job, stay in-process so that nothing is spawned for a preview and the first bytes
come at once.

User text is only ever turned into glyph codes in hex strings: nothing in it is markup. It is
normalised (NFC, control and format characters dropped, whitespace collapsed), wrapped and
shrunk to fit its box, and truncated with an ellipsis only when even the smallest size will not
hold it, so it never leaves its box.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import queue
import re
import struct
import subprocess
import sys
import threading
import unicodedata
import zlib
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sized
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import zxingcpp
from PIL import Image

from registry.printing.stocks import (
    MIN_MODULE_MM,
    QR_QUIET_ZONE,
    Box,
    Stock,
    TextElement,
    TextStyle,
)

__all__ = [
    "COUNTRY_TEXT",
    "MARK_TEXT",
    "SPECIMEN_TEXT",
    "LabelData",
    "RenderError",
    "fit_lines",
    "iter_pdf",
    "overflowing",
    "qr_mask",
    "render_pdf",
    "render_png_preview",
    "sheet_count",
    "write_pdf",
]

MARK_TEXT = "Made in Bali–NTB–NTT"
# The country-of-origin statement importing countries ask for. Like every fixed text on the
# physical label (the mark, "Lot", "Net", "Best before") it is in English, whatever the
# language of whoever ordered or prints it: the label travels, the reader is abroad.
COUNTRY_TEXT = "Product of Indonesia"
# Overprinted on every proof and preview label (English and Indonesian), never on a job's.
SPECIMEN_TEXT = "SPECIMEN / CONTOH"
SPECIMEN_RGB = "0.8 0.07 0.07"
MM = 72 / 25.4
ELLIPSIS = "…"
SIZE_STEP = 0.25  # points between tried font sizes
# A job of known size below PARALLEL_MIN_JOB labels never starts encoder processes (their
# start-up would cost more than they save); other jobs draw their first PARALLEL_AFTER labels
# in-process while the encoders start.
PARALLEL_MIN_JOB = 2000
PARALLEL_AFTER = 400
FLUSH_BYTES = 64 * 1024


class RenderError(ValueError):
    """A label cannot be drawn on the chosen stock (e.g. a URI too long for its QR box)."""


@dataclass(frozen=True, slots=True)
class LabelData:
    """What one label shows. Everything but ``serial`` and ``qr_uri`` is usually per batch."""

    product_name: str
    origin_regency: str
    origin_province: str
    producer: str
    lot: str
    net_quantity: str
    best_before: str | None
    serial: str
    short_host: str
    qr_uri: str
    mark: str = MARK_TEXT
    exporter: str = ""  # the exporting company, on stocks with an ``exporter`` element
    country: str = COUNTRY_TEXT

    def text_for(self, element: str) -> str | None:
        match element:
            case "mark":
                return self.mark
            case "country":
                return self.country
            case "exporter":
                return self.exporter
            case "product":
                return self.product_name
            case "origin":
                return ", ".join(p for p in (self.origin_regency, self.origin_province) if p)
            case "producer":
                return self.producer
            case "lot":
                return self.lot
            case "quantity":
                return self.net_quantity
            case "best_before":
                return self.best_before
            case "serial":
                return self.serial
            case "host":
                return self.short_host
        raise KeyError(element)

    def static_key(self) -> tuple[object, ...]:
        return (
            self.mark, self.product_name, self.origin_regency, self.origin_province,
            self.producer, self.lot, self.net_quantity, self.best_before, self.short_host,
            self.exporter, self.country,
        )


# --- QR codes ---------------------------------------------------------------------------------


def qr_mask(uri: str, level: str) -> tuple[int, bytes]:
    """Encode ``uri``; return the module count per side and the packed rows (0 bit = dark).

    The rows are exactly what a PDF ``/ImageMask`` with the default decode array paints.
    """
    symbol = zxingcpp.create_barcode(uri, zxingcpp.BarcodeFormat.QRCode, ec_level=level)
    matrix = symbol.to_image(scale=1, add_quiet_zones=False)
    height, width = matrix.shape[:2]
    gray = Image.frombuffer("L", (width, height), bytes(memoryview(matrix)), "raw", "L", 0, 1)
    return width, gray.convert("1", dither=Image.Dither.NONE).tobytes()


def _qr_masks(uris: list[str], level: str) -> list[tuple[int, bytes]]:
    return [qr_mask(uri, level) for uri in uris]


# --- fonts ------------------------------------------------------------------------------------


class _Face:
    """Metrics of one TrueType file; loaded once per process."""

    def __init__(self, path: Path):
        from reportlab.pdfbase.ttfonts import TTFontFile

        self.path = path
        self.file = TTFontFile(str(path))
        self.widths: dict[int, float] = self.file.charWidths
        self.default_width: float = self.file.defaultWidth
        self.space = self.widths.get(32, self.default_width)
        # hhea ascender/descender bound the glyphs (accented capitals included); the OS/2 typo
        # values reportlab reports for the descriptor sit lower and would let accents stick out.
        hhea = self.file.get_table("hhea")
        ascender, descender = struct.unpack(">hh", hhea[4:8])
        units = self.file.unitsPerEm
        self.ascent = ascender / units
        self.descent = -descender / units

    def width(self, text: str) -> float:
        """Advance width in thousandths of an em."""
        widths, default = self.widths, self.default_width
        return sum(widths.get(ord(c), default) for c in text)


@lru_cache(maxsize=8)
def font_face(path: Path) -> _Face:
    """A stock font's metrics, read once (the PDF and the ZPL writer measure text alike)."""
    return _Face(path)


class _FontUse:
    """Per-document glyph code assignment: up to 255 characters per simple-font subset."""

    def __init__(self, face: _Face, key: str):
        self.face, self.key = face, key
        self.codes: dict[str, tuple[int, int]] = {}
        self.subsets: list[list[int]] = []

    def resource(self, subset: int) -> str:
        return f"{self.key}s{subset}"

    def runs(self, text: str) -> list[tuple[int, bytes]]:
        """Split text into (subset, code bytes) runs, assigning codes on first use."""
        out: list[tuple[int, bytes]] = []
        cur_subset, cur = -1, bytearray()
        codes = self.codes
        for ch in text:
            sc = codes.get(ch)
            if sc is None:
                if not self.subsets or len(self.subsets[-1]) == 256:
                    self.subsets.append([0])  # code 0 stays .notdef
                subset = len(self.subsets) - 1
                self.subsets[subset].append(ord(ch))
                sc = codes[ch] = (subset, len(self.subsets[subset]) - 1)
            if sc[0] != cur_subset:
                if cur:
                    out.append((cur_subset, bytes(cur)))
                cur_subset, cur = sc[0], bytearray()
            cur.append(sc[1])
        if cur:
            out.append((cur_subset, bytes(cur)))
        return out


# --- text -------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_BREAK_AFTER = re.compile(r"(?<=[-–—/])")


def clean_text(text: str) -> str:
    """NFC, no control or format characters (bidi overrides included), single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf"))
    return _SPACES.sub(" ", text).strip()


def _pieces(text: str, break_dashes: bool) -> list[tuple[str, str]]:
    """(piece, glue before it): words glued by spaces; optionally breaks after dashes too."""
    out: list[tuple[str, str]] = []
    for word in text.split(" "):
        parts = [p for p in _BREAK_AFTER.split(word) if p] if break_dashes else [word]
        out.extend((piece, "" if i else " ") for i, piece in enumerate(parts))
    return out


def _wrap(
    face: _Face, pieces: list[tuple[str, str]], max_w: float, *, split: bool
) -> list[str] | None:
    """Greedy wrap to ``max_w`` (thousandths of an em).

    Overlong pieces break anywhere when ``split``; otherwise they make the wrap fail (None).
    """
    lines: list[str] = []
    cur, cur_w = "", 0.0
    for piece, glue in pieces:
        parts = [piece]
        if face.width(piece) > max_w:
            if not split:
                return None
            parts, chunk = [], ""
            for ch in piece:
                if face.width(ch) > max_w:
                    return None  # not even one character fits at this size
                if chunk and face.width(chunk + ch) > max_w:
                    parts.append(chunk)
                    chunk = ""
                chunk += ch
            parts.append(chunk)
        for j, part in enumerate(parts):
            g = glue if j == 0 else ""
            w = face.width(part)
            extra = face.width(g) + w
            if cur and cur_w + extra <= max_w:
                cur += g + part
                cur_w += extra
            else:
                if cur:
                    lines.append(cur)
                cur, cur_w = part, w
    if cur:
        lines.append(cur)
    return lines


def _truncate(face: _Face, text: str, max_w: float) -> str:
    text = text.rstrip()
    while text and face.width(text + ELLIPSIS) > max_w:
        text = text[:-1].rstrip()
    return text + ELLIPSIS if face.width(ELLIPSIS) <= max_w else ""


def _capacity(face: _Face, style: TextStyle, size: float, height: float) -> int:
    """Lines of ``size`` points that fit ``height`` points, at most the style's max_lines."""
    line_em = face.ascent + face.descent
    if line_em * size > height:
        return 0
    return min(style.max_lines, 1 + int((height - line_em * size) // (style.leading * size)))


def fit_lines(
    face: _Face, text: str, style: TextStyle, width: float, height: float
) -> tuple[float, list[str]] | None:
    """Largest size (points) and lines that hold all of ``text`` in ``width`` × ``height``
    points, no smaller than the style's size_min; None when no size down to it does."""
    if not text:
        return style.size_max, []
    # First only between words, then also after dashes and inside words: a smaller size
    # that keeps "Bali–NTB–NTT" whole reads better than a larger one that splits it.
    for split in (False, True):
        pieces = _pieces(text, break_dashes=split)
        size = style.size_max
        while size >= style.size_min - 1e-9:
            n = _capacity(face, style, size, height)
            if n:
                lines = _wrap(face, pieces, width * 1000 / size, split=split)
                if lines is not None and len(lines) <= n:
                    return size, lines
            size -= SIZE_STEP
    return None


def fit_text(
    face: _Face, text: str, style: TextStyle, width: float, height: float
) -> tuple[float, list[str]]:
    """Largest size (points) and lines that fit ``width`` × ``height`` points.

    Orders are refused when a label's text does not fit (``overflowing``), so the ellipsis
    below is only ever seen on proofs of such text and on jobs ordered before that rule."""
    fitted = fit_lines(face, text, style, width, height)
    if fitted is not None:
        return fitted
    line_em = face.ascent + face.descent

    def capacity(size: float) -> int:
        return _capacity(face, style, size, height)

    # Last resort: the smallest size (smaller still if the box is too low for one line),
    # as many lines as fit, and an ellipsis.
    widest = max(face.width(c) for c in text)
    size = min(style.size_min, height / line_em, width * 1000 / widest if widest else math.inf)
    n = max(1, capacity(size))
    max_w = width * 1000 / size
    lines = _wrap(face, _pieces(text, break_dashes=True), max_w, split=True) or []
    if len(lines) > n:
        # Lines are consecutive slices of the text, split at a space (dropped) or nowhere.
        pos = 0
        for line in lines[: n - 1]:
            pos += len(line)
            pos += text.startswith(" ", pos)
        lines = [*lines[: n - 1], _truncate(face, text[pos:], max_w)]
    return size, lines


def element_text(el: TextElement, label: LabelData) -> str:
    """What an element prints for ``label``, prefix included ("" when it has nothing)."""
    raw = label.text_for(el.name)
    text = clean_text(raw) if raw else ""
    if text and el.style.prefix:
        text = clean_text(el.style.prefix + text)
    return text


def overflowing(stock: Stock, label: LabelData) -> list[str]:
    """The text elements of ``stock`` that cannot hold ``label``'s text whole at the legible
    minimum: the order rule (a lot or name is refused, never cut, on a signed label)."""
    out = []
    for el in stock.texts:
        text = element_text(el, label)
        face = font_face(stock.fonts[el.style.font])
        if text and fit_lines(face, text, el.style, el.box.w * MM, el.box.h * MM) is None:
            out.append(el.name)
    return out


# --- PDF writing ------------------------------------------------------------------------------


def _num(v: float) -> str:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


class _PdfWriter:
    """Writes numbered objects as it goes; remembers only their offsets."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._pending = 0
        self.pos = 0
        self.offsets = array("Q", [0])
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self._chunks.append(data)
        self._pending += len(data)
        self.pos += len(data)

    def alloc(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def obj(self, num: int, body: bytes) -> None:
        self.offsets[num] = self.pos
        self._write(b"%d 0 obj\n%s\nendobj\n" % (num, body))

    def stream(self, num: int, entries: bytes, data: bytes, *, compress: bool = True) -> None:
        if compress:
            packed = zlib.compress(data, 6)
            if len(packed) < len(data):
                data, entries = packed, entries + b"/Filter/FlateDecode"
        self.offsets[num] = self.pos
        self._write(b"%d 0 obj\n<<%s/Length %d>>stream\n" % (num, entries, len(data)))
        self._write(data)
        self._write(b"\nendstream\nendobj\n")

    @property
    def pending(self) -> int:
        return self._pending

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._pending = 0
        return data

    def finish(self, root: int) -> None:
        xref_at = self.pos
        n = len(self.offsets)
        rows = [b"xref\n0 %d\n0000000000 65535 f \n" % n]
        rows.extend(b"%010d 00000 n \n" % off for off in islice(self.offsets, 1, None))
        self._write(b"".join(rows))
        self._write(
            b"trailer\n<</Size %d/Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (n, root, xref_at)
        )


def _to_unicode_cmap(subset: list[int]) -> bytes:
    entries = []
    for code, cp in enumerate(subset):
        if code == 0:
            continue
        if cp > 0xFFFF:  # UTF-16 surrogate pair
            v = cp - 0x10000
            target = f"{0xD800 + (v >> 10):04X}{0xDC00 + (v & 0x3FF):04X}"
        else:
            target = f"{cp:04X}"
        entries.append(f"<{code:02X}> <{target}>")
    blocks = []
    for i in range(0, len(entries), 100):  # at most 100 entries per bfchar block
        chunk = entries[i : i + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _subset_tag(font_index: int, subset: int) -> bytes:
    n = font_index * 1000 + subset
    return bytes(ord("A") + (n // 26**i) % 26 for i in range(6))


def _write_fonts(pdf: _PdfWriter, uses: list[_FontUse], font_dict: int) -> None:
    entries = []
    for index, use in enumerate(uses):
        f = use.face.file
        for s, subset in enumerate(use.subsets):
            base = _subset_tag(index, s) + b"+" + f.name
            file_num, desc_num, cmap_num, font_num = (pdf.alloc() for _ in range(4))
            data = f.makeSubset(subset)
            pdf.stream(file_num, b"/Length1 %d" % len(data), data)
            flags = 4  # symbolic: glyphs are addressed by our own codes, not a standard encoding
            bbox = " ".join(_num(v) for v in f.bbox)
            pdf.obj(
                desc_num,
                (
                    f"<</Type/FontDescriptor/FontName/{base.decode()}/Flags {flags}"
                    f"/FontBBox[{bbox}]/ItalicAngle {_num(f.italicAngle)}"
                    f"/Ascent {_num(f.ascent)}/Descent {_num(f.descent)}"
                    f"/CapHeight {_num(f.capHeight)}/StemV {f.stemV}"
                    f"/MissingWidth {_num(f.defaultWidth)}/FontFile2 {file_num} 0 R>>"
                ).encode(),
            )
            pdf.stream(cmap_num, b"", _to_unicode_cmap(subset))
            face = use.face
            widths = " ".join(_num(face.widths.get(cp, face.default_width)) for cp in subset)
            pdf.obj(
                font_num,
                (
                    f"<</Type/Font/Subtype/TrueType/BaseFont/{base.decode()}/FirstChar 0"
                    f"/LastChar {len(subset) - 1}/Widths[{widths}]"
                    f"/FontDescriptor {desc_num} 0 R/ToUnicode {cmap_num} 0 R>>"
                ).encode(),
            )
            entries.append(f"/{use.resource(s)} {font_num} 0 R")
    pdf.obj(font_dict, ("<<" + "".join(entries) + ">>").encode())


# --- drawing ----------------------------------------------------------------------------------

# The joint mark's emblem in a unit square: a ring around three peaks (Agung, Rinjani,
# Kelimutu: Bali, NTB, NTT) above the sea. Black only, so thermal printers render it too.
_K = 0.5523  # cubic Bézier circle constant


def _emblem_ops(box: Box, label_h: float) -> str:
    side = min(box.w, box.h) * MM
    x0 = box.x * MM + (box.w * MM - side) / 2
    y0 = (label_h - box.y - box.h) * MM + (box.h * MM - side) / 2

    def p(x: float, y: float) -> str:
        return f"{_num(x0 + x * side)} {_num(y0 + y * side)}"

    def circle(cx: float, cy: float, r: float) -> str:
        k = _K * r
        return (
            f"{p(cx + r, cy)} m "
            f"{p(cx + r, cy + k)} {p(cx + k, cy + r)} {p(cx, cy + r)} c "
            f"{p(cx - k, cy + r)} {p(cx - r, cy + k)} {p(cx - r, cy)} c "
            f"{p(cx - r, cy - k)} {p(cx - k, cy - r)} {p(cx, cy - r)} c "
            f"{p(cx + k, cy - r)} {p(cx + r, cy - k)} {p(cx + r, cy)} c h "
        )

    ring = circle(0.5, 0.5, 0.5) + circle(0.5, 0.5, 0.43)
    peaks = (
        f"{p(0.13, 0.40)} m {p(0.30, 0.64)} l {p(0.40, 0.52)} l {p(0.52, 0.76)} l "
        f"{p(0.64, 0.55)} l {p(0.72, 0.64)} l {p(0.87, 0.40)} l h "
    )
    wave = (
        f"{p(0.16, 0.33)} m {p(0.27, 0.38)} {p(0.38, 0.28)} {p(0.5, 0.33)} c "
        f"{p(0.62, 0.38)} {p(0.73, 0.28)} {p(0.84, 0.33)} c "
        f"{p(0.84, 0.27)} l {p(0.73, 0.22)} {p(0.62, 0.32)} {p(0.5, 0.27)} c "
        f"{p(0.38, 0.22)} {p(0.27, 0.32)} {p(0.16, 0.27)} c h "
    )
    return f"0 g {ring}f* {peaks}f {wave}f\n"


class _Document:
    """State of one PDF being written: fonts in use, label forms already emitted."""

    def __init__(self, stock: Stock, *, specimen: bool = False):
        self.stock = stock
        self.specimen = specimen
        self._specimen_ops: str | None = None
        self.pdf = _PdfWriter()
        self.catalog, self.pages_num, self.font_dict = (self.pdf.alloc() for _ in range(3))
        self.pdf.obj(self.catalog, b"<</Type/Catalog/Pages %d 0 R>>" % self.pages_num)
        self.uses: dict[str, _FontUse] = {}
        self.forms: dict[tuple[object, ...], int] = {}
        self.kids: array[int] = array("L")
        self.label_h = stock.label_height
        self.serial_el = next(t for t in stock.texts if t.name == "serial")
        self.static_els = [t for t in stock.texts if t.name != "serial"]

    def _use(self, font_key: str) -> _FontUse:
        use = self.uses.get(font_key)
        if use is None:
            face = font_face(self.stock.fonts[font_key])
            use = self.uses[font_key] = _FontUse(face, f"F{len(self.uses)}")
        return use

    def text_ops(self, el: TextElement, raw: str | None) -> str:
        if raw is None:
            return ""
        text = clean_text(raw)
        if not text:
            return ""
        style = el.style
        text = clean_text(style.prefix + text) if style.prefix else text
        use = self._use(style.font)
        face = use.face
        box = el.box
        size, lines = fit_text(face, text, style, box.w * MM, box.h * MM)
        top = (self.label_h - box.y) * MM
        baseline = top - face.ascent * size
        out = ["BT\n"]
        sz = _num(size)
        for i, line in enumerate(lines):
            line_w = face.width(line) * size / 1000
            x = box.x * MM
            if style.align == "center":
                x += (box.w * MM - line_w) / 2
            elif style.align == "right":
                x += box.w * MM - line_w
            y = baseline - i * style.leading * size
            out.append(f"1 0 0 1 {_num(x)} {_num(y)} Tm")
            for subset, codes in use.runs(line):
                out.append(f"/{use.resource(subset)} {sz} Tf<{codes.hex()}>Tj")
            out.append("\n")
        out.append("ET\n")
        return "".join(out)

    def form_for(self, label: LabelData) -> int:
        key = label.static_key()
        num = self.forms.get(key)
        if num is None:
            stock = self.stock
            parts = []
            if stock.emblem is not None:
                parts.append(_emblem_ops(stock.emblem, self.label_h))
            for el in self.static_els:
                parts.append(self.text_ops(el, label.text_for(el.name)))
            num = self.forms[key] = self.pdf.alloc()
            w, h = stock.label_width * MM, stock.label_height * MM
            self.pdf.stream(
                num,
                b"/Type/XObject/Subtype/Form/BBox[0 0 %s %s]/Resources<</Font %d 0 R>>"
                % (_num(w).encode(), _num(h).encode(), self.font_dict),
                "".join(parts).encode("ascii"),
            )
        return num

    def qr_placement(self, modules: int, uri: str) -> tuple[float, float, float]:
        """(side, x, y) in label points for a symbol of ``modules`` modules per side."""
        box = self.stock.qr.box
        module = min(box.w, box.h) / (modules + 2 * QR_QUIET_ZONE)
        if module < MIN_MODULE_MM - 1e-6:
            raise RenderError(
                f"{self.stock.id}: URI of {len(uri)} characters needs {modules} modules, "
                f"{module:.3f} mm each in the QR box (< {MIN_MODULE_MM} mm); shorten the host"
            )
        side = modules * module * MM
        x = box.x * MM + (box.w * MM - side) / 2
        y = (self.label_h - box.y - box.h) * MM + (box.h * MM - side) / 2
        return side, x, y

    def specimen_ops(self) -> str:
        """The SPECIMEN / CONTOH overprint in label coordinates: red text along the diagonal of
        the label's largest part beside the QR box, clipped out of the whole QR box so the
        code and its quiet zone stay clean (the proof still shows the real code's size and
        still scans, to "specimen")."""
        if self._specimen_ops is None:
            stock = self.stock
            w, h = stock.label_width * MM, stock.label_height * MM
            box = stock.qr.box
            use = self._use(stock.texts[0].style.font)
            face = use.face
            qx, qy = box.x * MM, (self.label_h - box.y - box.h) * MM
            qw, qh = box.w * MM, box.h * MM
            # Along the diagonal of the largest part of the label beside the QR box, so the
            # whole text shows (a diagonal across the label could vanish behind a large QR).
            rx, ry, rw, rh = max(
                ((0.0, 0.0, qx, h), (qx + qw, 0.0, w - qx - qw, h),
                 (0.0, 0.0, w, qy), (0.0, qy + qh, w, h - qy - qh)),
                key=lambda r: r[2] * r[3])
            length = math.hypot(rw, rh)
            size = min(0.8 * length * 1000 / face.width(SPECIMEN_TEXT), 0.45 * min(rw, rh))
            cos, sin = rw / length, rh / length
            text_w = face.width(SPECIMEN_TEXT) * size / 1000
            drop = (face.ascent - face.descent) * size / 2  # baseline to the glyphs' middle
            x = rx + rw / 2 - cos * text_w / 2 + sin * drop
            y = ry + rh / 2 - sin * text_w / 2 - cos * drop
            runs = "".join(f"/{use.resource(subset)} {_num(size)} Tf<{codes.hex()}>Tj"
                           for subset, codes in use.runs(SPECIMEN_TEXT))
            self._specimen_ops = (
                f"q 0 0 {_num(w)} {_num(h)} re {_num(qx)} {_num(qy)} {_num(qw)} {_num(qh)} re "
                f"W* n {SPECIMEN_RGB} rg BT "
                f"{cos:.4f} {sin:.4f} {-sin:.4f} {cos:.4f} {_num(x)} {_num(y)} Tm {runs} ET Q\n"
            )
        return self._specimen_ops

    def page(self, labels: list[LabelData], masks: list[tuple[int, bytes]]) -> None:
        pdf, stock = self.pdf, self.stock
        xobjects: list[str] = []
        ops: list[str] = []
        forms_here: dict[int, str] = {}
        for slot, (label, (modules, bits)) in enumerate(zip(labels, masks, strict=True)):
            form = self.form_for(label)
            if form not in forms_here:
                forms_here[form] = f"L{len(forms_here)}"
                xobjects.append(f"/{forms_here[form]} {form} 0 R")
            img = pdf.alloc()
            pdf.stream(
                img,
                b"/Type/XObject/Subtype/Image/Width %d/Height %d/ImageMask true"
                b"/BitsPerComponent 1/Interpolate false" % (modules, modules),
                bits,
                compress=False,  # QR modules are noise to Flate: it never saves a byte
            )
            xobjects.append(f"/Q{slot} {img} 0 R")
            left, top = stock.label_origin(slot)
            x = left * MM
            y = (stock.page_height - top - stock.label_height) * MM
            side, qx, qy = self.qr_placement(modules, label.qr_uri)
            ops.append(
                f"q 1 0 0 1 {_num(x)} {_num(y)} cm /{forms_here[form]} Do\n"
                f"{self.text_ops(self.serial_el, label.serial)}"
                f"q {side:.4f} 0 0 {side:.4f} {_num(qx)} {_num(qy)} cm /Q{slot} Do Q "
                f"{self.specimen_ops() if self.specimen else ''}Q\n"
            )
        content = pdf.alloc()
        pdf.stream(content, b"", "".join(ops).encode("ascii"))
        page = pdf.alloc()
        w, h = _num(stock.page_width * MM), _num(stock.page_height * MM)
        pdf.obj(
            page,
            (
                f"<</Type/Page/Parent {self.pages_num} 0 R/MediaBox[0 0 {w} {h}]"
                f"/Resources<</Font {self.font_dict} 0 R/XObject<<{''.join(xobjects)}>>>>"
                f"/Contents {content} 0 R>>"
            ).encode(),
        )
        self.kids.append(page)

    def finish(self) -> None:
        pdf = self.pdf
        _write_fonts(pdf, list(self.uses.values()), self.font_dict)
        kids = " ".join(f"{k} 0 R" for k in self.kids)
        pdf.obj(
            self.pages_num,
            f"<</Type/Pages/Count {len(self.kids)}/Kids[{kids}]>>".encode(),
        )
        pdf.finish(self.catalog)


# --- pipeline ---------------------------------------------------------------------------------

_Sheet = tuple[int, list[LabelData]]
_Masks = list[tuple[int, bytes]]


def _sheets(stock: Stock, labels: Iterable[LabelData]) -> Iterator[_Sheet]:
    per = stock.labels_per_sheet
    it = iter(labels)
    index = 0
    while batch := list(islice(it, per)):
        yield index, batch
        index += 1


class _QrProcess:
    """One QR encoder process fed over pipes, with a thread that waits on it.

    A fresh interpreter (not a fork, not multiprocessing) because the caller may be a threaded
    web server, where forking is unsafe, and multiprocessing's spawn would re-run the caller's
    ``__main__``. Frames are a 4-byte length and a payload both ways.
    """

    def __init__(self) -> None:
        # Fixed argv, no shell: nothing from the caller reaches the command line.
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", _WORKER_COMMAND], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.tasks: queue.SimpleQueue[tuple[bytes, Future[_Masks]] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="qr-encoder", daemon=True)
        self.thread.start()

    def submit(self, uris: list[str], level: str) -> Future[_Masks]:
        future: Future[_Masks] = Future()
        self.tasks.put((json.dumps([level, uris]).encode(), future))
        return future

    def _run(self) -> None:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        while (task := self.tasks.get()) is not None:
            payload, future = task
            try:
                stdin.write(struct.pack(">I", len(payload)) + payload)
                stdin.flush()
                header = stdout.read(4)
                if len(header) != 4:
                    raise RenderError("QR encoder process exited")
                (size,) = struct.unpack(">I", header)
                data = stdout.read(size & 0x7FFFFFFF)
                if size & 0x80000000:
                    raise RenderError(f"QR encoder failed: {data.decode(errors='replace')}")
                masks: _Masks = []
                pos = 0
                while pos < len(data):
                    modules, n = struct.unpack_from(">HI", data, pos)
                    pos += 6
                    masks.append((modules, data[pos : pos + n]))
                    pos += n
                future.set_result(masks)
            except Exception as exc:
                future.set_exception(exc)
                return

    def close(self) -> None:
        self.tasks.put(None)
        self.thread.join(timeout=5)
        with contextlib.suppress(OSError):
            if self.proc.stdin:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


_ROOT = Path(__file__).resolve().parents[2]
# The encoder needs this module only, not the web application that ``registry/__init__.py``
# sets up: an empty stand-in package keeps Flask and friends out of the worker's start-up.
_WORKER_COMMAND = (
    "import sys, types; pkg = types.ModuleType('registry'); "
    f"pkg.__path__ = [{str(_ROOT / 'registry')!r}]; sys.modules['registry'] = pkg; "
    "from registry.printing.render import _worker_main; _worker_main()"
)


def _worker_main() -> None:
    """Entry point of a QR encoder process: frames of URIs in, frames of masks out."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while len(header := stdin.read(4)) == 4:
        (size,) = struct.unpack(">I", header)
        level, uris = json.loads(stdin.read(size))
        out = bytearray()
        try:
            for uri in uris:
                modules, bits = qr_mask(uri, level)
                out += struct.pack(">HI", modules, len(bits))
                out += bits
        except Exception as exc:
            message = repr(exc).encode()
            stdout.write(struct.pack(">I", 0x80000000 | len(message)) + message)
        else:
            stdout.write(struct.pack(">I", len(out)) + out)
        stdout.flush()


def _with_masks(
    stock: Stock, sheets: Iterator[_Sheet], workers: int
) -> Iterator[tuple[_Sheet, _Masks]]:
    level = stock.qr.error_level
    if workers <= 1:
        for sheet in sheets:
            yield sheet, _qr_masks([lb.qr_uri for lb in sheet[1]], level)
        return

    procs: list[_QrProcess] = []
    window: deque[tuple[list[_Sheet], Future[_Masks]]] = deque()
    per_task = max(1, math.ceil(48 / stock.labels_per_sheet))
    done = submitted = 0
    try:
        while True:
            if done < PARALLEL_AFTER or not procs:
                # Small jobs and the first pages of large ones: in-process, while the encoder
                # processes start up in the background.
                sheet = next(sheets, None)
                if sheet is None:
                    break
                yield sheet, _qr_masks([lb.qr_uri for lb in sheet[1]], level)
                done += len(sheet[1])
                if not procs:
                    procs = [_QrProcess() for _ in range(workers)]
                continue
            group = list(islice(sheets, per_task))
            if group:
                uris = [lb.qr_uri for _, batch in group for lb in batch]
                window.append((group, procs[submitted % workers].submit(uris, level)))
                submitted += 1
            if window and (not group or len(window) >= 3 * workers):
                group_done, future = window.popleft()
                masks = future.result()
                start = 0
                for sheet in group_done:
                    yield sheet, masks[start : start + len(sheet[1])]
                    start += len(sheet[1])
            if not group and not window:
                break
    finally:
        for proc in procs:
            proc.close()


def _selected(sheets: Iterator[_Sheet], wanted: range | None) -> Iterator[_Sheet]:
    for sheet in sheets:
        if wanted is None or sheet[0] in wanted:
            yield sheet
        elif sheet[0] >= wanted.stop and wanted.step > 0:
            return  # the labels after the last wanted sheet need not even be produced


def _default_workers() -> int:
    return min(2, os.cpu_count() or 1)


def iter_pdf(
    stock: Stock,
    labels: Iterable[LabelData],
    *,
    sheets: range | None = None,
    workers: int | None = None,
    specimen: bool = False,
) -> Iterator[bytes]:
    """Yield the PDF in chunks as pages are done.

    ``sheets`` picks pages by index (0-based, in the order the labels come) for reprints: the
    labels of other sheets are consumed but not drawn. ``workers`` is the number of QR encoder
    processes for large jobs (default: up to 2; 1 keeps everything in-process). ``specimen``
    overprints every label with SPECIMEN / CONTOH (proofs and previews).
    """
    if workers is None:
        workers = _default_workers()
    if isinstance(labels, Sized) and len(labels) < PARALLEL_MIN_JOB:
        workers = 1
    doc = _Document(stock, specimen=specimen)
    first = True
    chosen = _selected(_sheets(stock, labels), sheets)
    for (_, batch), masks in _with_masks(stock, chosen, workers):
        doc.page(batch, masks)
        if first or doc.pdf.pending >= FLUSH_BYTES:
            first = False
            yield doc.pdf.take()
    doc.finish()
    yield doc.pdf.take()


def render_pdf(stock: Stock, labels: Iterable[LabelData], **options: object) -> bytes:
    """The whole PDF as bytes (fine for previews and reprints; stream large jobs)."""
    return b"".join(iter_pdf(stock, labels, **options))  # type: ignore[arg-type]


def write_pdf(
    stock: Stock, labels: Iterable[LabelData], stream: BinaryIO, **options: object
) -> int:
    """Write the PDF to a binary stream as it is produced; return the number of bytes."""
    total = 0
    for chunk in iter_pdf(stock, labels, **options):  # type: ignore[arg-type]
        stream.write(chunk)
        total += len(chunk)
    return total


def sheet_count(stock: Stock, n_labels: int) -> int:
    return -(-n_labels // stock.labels_per_sheet)


def render_png_preview(stock: Stock, label: LabelData, *, dpi: int = 300,
                       specimen: bool = False) -> bytes:
    """One label alone as a PNG, with a hairline showing the label's edge."""
    import pypdfium2

    single = replace(
        stock,
        page_width=stock.label_width,
        page_height=stock.label_height,
        columns=1,
        rows=1,
        margin_top=0.0,
        margin_left=0.0,
        gap_x=0.0,
        gap_y=0.0,
    )
    pdf = pypdfium2.PdfDocument(render_pdf(single, [label], workers=1, specimen=specimen))
    try:
        image = pdf[0].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        pdf.close()
    from PIL import ImageDraw

    ImageDraw.Draw(image).rectangle(
        [0, 0, image.width - 1, image.height - 1], outline=(180, 180, 180)
    )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
