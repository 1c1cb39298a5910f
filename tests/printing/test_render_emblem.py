"""The emblem (registry/printing/render/emblem.py): the largest square centred in its box,
every point of its paths inside that square, black only, and the ring, peaks and sea where
they belong when a PDF renderer paints it."""

from __future__ import annotations

import re

import pypdfium2
import pytest

from registry.printing.render.emblem import emblem_ops, emblem_square
from registry.printing.render.pdf import PdfWriter, num
from registry.printing.stocks import MM, Box

LABEL_H = 20.0  # mm


@pytest.mark.parametrize(("box", "square_mm"), [
    (Box(2, 3, 16, 10), (5.0, 7.0, 10.0)),   # wide: centred across, filling the height
    (Box(2, 3, 6, 12), (2.0, 8.0, 6.0)),     # tall: centred up and down, filling the width
    (Box(0, 0, 8, 8), (0.0, 12.0, 8.0)),     # square, at the label's top-left corner
])
def test_the_emblem_fills_the_largest_square_centred_in_its_box(
        box: Box, square_mm: tuple[float, float, float]) -> None:
    x, y, side = emblem_square(box, LABEL_H)
    # PDF points, y up from the label's bottom edge.
    assert (x, y, side) == pytest.approx(tuple(v * MM for v in square_mm))


def paths(ops: str) -> list[tuple[str, list[tuple[float, float]]]]:
    """(operator, its points) for every path operator of the emblem's content stream."""
    assert ops.startswith("0 g ")
    out, numbers = [], []
    for token in ops[4:].split():
        if re.fullmatch(r"-?\d+(\.\d+)?", token):
            numbers.append(float(token))
            continue
        assert len(numbers) % 2 == 0, token
        out.append((token, list(zip(numbers[::2], numbers[1::2], strict=True))))
        numbers = []
    assert not numbers
    return out


@pytest.mark.parametrize("box", [Box(2, 3, 16, 10), Box(2, 3, 6, 12), Box(1.5, 1.5, 7.3, 7.3)])
def test_every_point_lies_in_the_square_and_the_ring_touches_its_sides(box: Box) -> None:
    x0, y0, side = emblem_square(box, LABEL_H)
    points = [p for _, pts in paths(emblem_ops(box, LABEL_H)) for p in pts]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    tol = 0.0005  # numbers are written with 3 decimals
    assert min(xs) == pytest.approx(x0, abs=tol) and max(xs) == pytest.approx(x0 + side, abs=tol)
    assert min(ys) == pytest.approx(y0, abs=tol) and max(ys) == pytest.approx(y0 + side, abs=tol)


def test_black_only_and_the_ring_filled_even_odd() -> None:
    operators = [op for op, _ in paths(emblem_ops(Box(2, 3, 16, 10), LABEL_H))]
    # Only path construction and fill operators: no colour but the leading "0 g", no stroke.
    assert set(operators) <= {"m", "l", "c", "h", "f", "f*"}
    # Two circles, then even-odd: the inner one cuts the hole that makes the ring.
    assert operators.index("f*") == 12  # after two circles of m, 4 × c, h
    assert operators.count("f") == 2


def one_page(ops: str, width: float, height: float) -> bytes:
    pdf = PdfWriter()
    catalog, pages, page, content = (pdf.alloc() for _ in range(4))
    pdf.obj(catalog, b"<</Type/Catalog/Pages %d 0 R>>" % pages)
    pdf.obj(pages, b"<</Type/Pages/Count 1/Kids[%d 0 R]>>" % page)
    pdf.stream(content, b"", ops.encode("ascii"))
    pdf.obj(page, (f"<</Type/Page/Parent {pages} 0 R/MediaBox[0 0 {num(width)} {num(height)}]"
                   f"/Contents {content} 0 R>>").encode())
    pdf.finish(catalog)
    return pdf.take()


# Points of the emblem's unit square (x right, y up) and whether they are painted.
SPOTS = {
    "ring, bottom": ((0.5, 0.035), True),
    "ring, left": ((0.035, 0.5), True),
    "ring, right": ((0.965, 0.5), True),
    "ring, top": ((0.5, 0.965), True),
    "sky inside the ring": ((0.5, 0.88), False),
    "the middle peak": ((0.5, 0.6), True),
    "between peaks and sea": ((0.5, 0.365), False),
    "the sea": ((0.5, 0.30), True),
    "a corner outside the ring": ((0.04, 0.04), False),
    "the box beside the square": ((-0.15, 0.5), False),
}


def test_a_renderer_paints_the_ring_the_peaks_and_the_sea() -> None:
    box = Box(2, 3, 16, 10)
    x0, y0, side = emblem_square(box, LABEL_H)
    width, height = 20 * MM, LABEL_H * MM
    scale = 10.0  # 720 dpi: a 10 mm emblem is 283 pixels wide
    doc = pypdfium2.PdfDocument(one_page(emblem_ops(box, LABEL_H), width, height))
    try:
        image = doc[0].render(scale=scale, grayscale=True).to_pil().convert("L")
    finally:
        doc.close()
    seen = {}
    for name, ((u, v), _) in SPOTS.items():
        px = round((x0 + u * side) * scale)
        py = round((height - (y0 + v * side)) * scale)
        seen[name] = image.getpixel((px, py)) < 128
    assert seen == {name: painted for name, (_, painted) in SPOTS.items()}
