"""Fonts: a TrueType file's metrics, glyph codes per document, and the embedded subsets.

Fonts are subset and embedded once per document, at its end, from the characters actually
used (reportlab's TrueType subsetter does the subsetting). Text is only ever turned into glyph
codes in hex strings, so nothing in it is markup.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

from registry.printing.render.pdf import PdfWriter, num

__all__ = ["Face", "FontUse", "font_face", "write_fonts"]


class Face:
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
def font_face(path: Path) -> Face:
    """A stock font's metrics, read once (the PDF and the ZPL writer measure text alike)."""
    return Face(path)


class FontUse:
    """Per-document glyph code assignment: up to 255 characters per simple-font subset."""

    def __init__(self, face: Face, key: str):
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


def write_fonts(pdf: PdfWriter, uses: list[FontUse], font_dict: int) -> None:
    """Embed the subsets ``uses`` assigned, and the font resource dictionary ``font_dict``."""
    entries = []
    for index, use in enumerate(uses):
        f = use.face.file
        for s, subset in enumerate(use.subsets):
            base = _subset_tag(index, s) + b"+" + f.name
            file_num, desc_num, cmap_num, font_num = (pdf.alloc() for _ in range(4))
            data = f.makeSubset(subset)
            pdf.stream(file_num, b"/Length1 %d" % len(data), data)
            flags = 4  # symbolic: glyphs are addressed by our own codes, not a standard encoding
            bbox = " ".join(num(v) for v in f.bbox)
            pdf.obj(
                desc_num,
                (
                    f"<</Type/FontDescriptor/FontName/{base.decode()}/Flags {flags}"
                    f"/FontBBox[{bbox}]/ItalicAngle {num(f.italicAngle)}"
                    f"/Ascent {num(f.ascent)}/Descent {num(f.descent)}"
                    f"/CapHeight {num(f.capHeight)}/StemV {f.stemV}"
                    f"/MissingWidth {num(f.defaultWidth)}/FontFile2 {file_num} 0 R>>"
                ).encode(),
            )
            pdf.stream(cmap_num, b"", _to_unicode_cmap(subset))
            face = use.face
            widths = " ".join(num(face.widths.get(cp, face.default_width)) for cp in subset)
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
