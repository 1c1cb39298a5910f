"""One PDF document of labels: what goes where on a label and on a page.

The parts that repeat are written once: everything on a label except its serial and QR code
goes into one Form XObject per distinct batch text. QR codes are 1-bit image masks, one pixel
per module, ``/Interpolate false``, scaled to fill the layout's QR box with a 4-module quiet
zone left blank around them.
"""

from __future__ import annotations

import math
from array import array

from registry.printing.render.emblem import emblem_ops
from registry.printing.render.fonts import FontUse, font_face, write_fonts
from registry.printing.render.label import SPECIMEN_TEXT, LabelData, RenderError
from registry.printing.render.pdf import PdfWriter, num
from registry.printing.render.text import clean_text, fit_text
from registry.printing.stocks import MIN_MODULE_MM, MM, QR_QUIET_ZONE, Stock, TextElement

__all__ = ["Document"]

SPECIMEN_RGB = "0.8 0.07 0.07"


class Document:
    """State of one PDF being written: fonts in use, label forms already emitted."""

    def __init__(self, stock: Stock, *, specimen: bool = False):
        self.stock = stock
        self.specimen = specimen
        self._specimen_ops: str | None = None
        self.pdf = PdfWriter()
        self.catalog, self.pages_num, self.font_dict = (self.pdf.alloc() for _ in range(3))
        self.pdf.obj(self.catalog, b"<</Type/Catalog/Pages %d 0 R>>" % self.pages_num)
        self.uses: dict[str, FontUse] = {}
        self.forms: dict[tuple[object, ...], int] = {}
        self.kids: array[int] = array("L")
        self.label_h = stock.label_height
        self.serial_el = next(t for t in stock.texts if t.name == "serial")
        self.static_els = [t for t in stock.texts if t.name != "serial"]

    def _use(self, font_key: str) -> FontUse:
        use = self.uses.get(font_key)
        if use is None:
            face = font_face(self.stock.fonts[font_key])
            use = self.uses[font_key] = FontUse(face, f"F{len(self.uses)}")
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
        sz = num(size)
        for i, line in enumerate(lines):
            line_w = face.width(line) * size / 1000
            x = box.x * MM
            if style.align == "center":
                x += (box.w * MM - line_w) / 2
            elif style.align == "right":
                x += box.w * MM - line_w
            y = baseline - i * style.leading * size
            out.append(f"1 0 0 1 {num(x)} {num(y)} Tm")
            for subset, codes in use.runs(line):
                out.append(f"/{use.resource(subset)} {sz} Tf<{codes.hex()}>Tj")
            out.append("\n")
        out.append("ET\n")
        return "".join(out)

    def form_for(self, label: LabelData) -> int:
        key = label.static_key()
        form = self.forms.get(key)
        if form is None:
            stock = self.stock
            parts = []
            if stock.emblem is not None:
                parts.append(emblem_ops(stock.emblem, self.label_h))
            for el in self.static_els:
                parts.append(self.text_ops(el, label.text_for(el.name)))
            form = self.forms[key] = self.pdf.alloc()
            w, h = stock.label_width * MM, stock.label_height * MM
            self.pdf.stream(
                form,
                b"/Type/XObject/Subtype/Form/BBox[0 0 %s %s]/Resources<</Font %d 0 R>>"
                % (num(w).encode(), num(h).encode(), self.font_dict),
                "".join(parts).encode("ascii"),
            )
        return form

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
            runs = "".join(f"/{use.resource(subset)} {num(size)} Tf<{codes.hex()}>Tj"
                           for subset, codes in use.runs(SPECIMEN_TEXT))
            self._specimen_ops = (
                f"q 0 0 {num(w)} {num(h)} re {num(qx)} {num(qy)} {num(qw)} {num(qh)} re "
                f"W* n {SPECIMEN_RGB} rg BT "
                f"{cos:.4f} {sin:.4f} {-sin:.4f} {cos:.4f} {num(x)} {num(y)} Tm {runs} ET Q\n"
            )
        return self._specimen_ops

    def page(self, labels: list[LabelData], masks: list[tuple[int, bytes]]) -> None:
        """Write one sheet: ``labels`` in slot order with their QR masks (modules, rows)."""
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
                f"q 1 0 0 1 {num(x)} {num(y)} cm /{forms_here[form]} Do\n"
                f"{self.text_ops(self.serial_el, label.serial)}"
                f"q {side:.4f} 0 0 {side:.4f} {num(qx)} {num(qy)} cm /Q{slot} Do Q "
                f"{self.specimen_ops() if self.specimen else ''}Q\n"
            )
        content = pdf.alloc()
        pdf.stream(content, b"", "".join(ops).encode("ascii"))
        page = pdf.alloc()
        w, h = num(stock.page_width * MM), num(stock.page_height * MM)
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
        write_fonts(pdf, list(self.uses.values()), self.font_dict)
        kids = " ".join(f"{k} 0 R" for k in self.kids)
        pdf.obj(
            self.pages_num,
            f"<</Type/Pages/Count {len(self.kids)}/Kids[{kids}]>>".encode(),
        )
        pdf.finish(self.catalog)
