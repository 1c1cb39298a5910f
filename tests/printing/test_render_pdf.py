"""The streaming PDF object writer (registry/printing/render/pdf.py): bytes handed out as they
are made, a cross-reference table that points at every object, Flate only where it pays."""

from __future__ import annotations

import os
import re
import zlib

import pytest

from registry.printing.render.pdf import PdfWriter, num


@pytest.mark.parametrize(("value", "text"), [
    (1.0, "1"), (2.5, "2.5"), (1 / 3, "0.333"), (-1.23456, "-1.235"), (-0.0001, "0"),
    (0.0, "0"), (1000.0, "1000"), (595.2756, "595.276"),
])
def test_numbers_are_short_and_never_minus_zero(value: float, text: str) -> None:
    assert num(value) == text


def test_objects_stream_out_as_written_and_the_xref_points_at_each() -> None:
    pdf = PdfWriter()
    header = pdf.take()
    assert header.startswith(b"%PDF-1.4\n") and pdf.pending == 0
    catalog, pages, body = (pdf.alloc() for _ in range(3))
    pdf.obj(catalog, b"<</Type/Catalog/Pages %d 0 R>>" % pages)
    first = pdf.take()
    assert first.startswith(b"%d 0 obj\n" % catalog) and pdf.pending == 0
    pdf.stream(body, b"", b"q Q\n" * 500)
    pdf.obj(pages, b"<</Type/Pages/Count 0/Kids[]>>")  # written after a later number: fine
    assert pdf.pending > 0
    pdf.finish(catalog)
    data = header + first + pdf.take()

    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))  # type: ignore[union-attr]
    assert data[startxref:].startswith(b"xref\n0 4\n")
    rows = data[startxref:].split(b"\n")[3:6]
    for number, row in enumerate(rows, start=1):
        offset = int(row[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    assert b"/Size 4/Root 1 0 R" in data


def test_flate_only_when_it_saves_bytes() -> None:
    pdf = PdfWriter()
    repetitive, noise = pdf.alloc(), pdf.alloc()
    pdf.stream(repetitive, b"", b"0 0 1 1 re f\n" * 200)
    pdf.stream(noise, b"", os.urandom(2000))
    data = pdf.take()
    first = data[data.index(b"1 0 obj"):data.index(b"2 0 obj")]
    second = data[data.index(b"2 0 obj"):]
    assert b"/Filter/FlateDecode" in first and b"/Filter" not in second
    packed = first[first.index(b"stream\n") + 7:first.index(b"\nendstream")]
    assert zlib.decompress(packed) == b"0 0 1 1 re f\n" * 200
