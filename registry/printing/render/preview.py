"""One label alone as a PNG: the exporter's preview of a stock."""

from __future__ import annotations

import io
from dataclasses import replace

from PIL import ImageDraw

from registry.printing.render.label import LabelData
from registry.printing.render.stream import render_pdf
from registry.printing.stocks import Stock

__all__ = ["render_png_preview"]


def render_png_preview(stock: Stock, label: LabelData, *, dpi: int = 300,
                       specimen: bool = False) -> bytes:
    """One label alone as a PNG, with a hairline showing the label's edge."""
    import pypdfium2  # only previews need it: no import cost for the task queue's worker

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
    ImageDraw.Draw(image).rectangle(
        [0, 0, image.width - 1, image.height - 1], outline=(180, 180, 180)
    )
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
