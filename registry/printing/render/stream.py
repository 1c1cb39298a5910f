"""A job's PDF, streamed: labels → sheets → QR masks → pages → chunks of bytes.

Each page is written, and its bytes handed out, as soon as it is done (``iter_pdf``), so a
100,000-label job keeps memory flat and its download starts at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sized
from itertools import islice
from typing import BinaryIO

from registry.printing.render.label import LabelData
from registry.printing.render.layout import Document
from registry.printing.render.qr import Sheet, with_masks
from registry.printing.stocks import Stock

__all__ = ["FLUSH_BYTES", "PARALLEL_MIN_JOB", "iter_pdf", "render_pdf", "sheet_count",
           "write_pdf"]

# A job of known size below PARALLEL_MIN_JOB labels never starts encoder processes (their
# start-up would cost more than they save).
PARALLEL_MIN_JOB = 2000
FLUSH_BYTES = 64 * 1024


def sheet_count(stock: Stock, n_labels: int) -> int:
    return -(-n_labels // stock.labels_per_sheet)


def _sheets(stock: Stock, labels: Iterable[LabelData]) -> Iterator[Sheet]:
    per = stock.labels_per_sheet
    it = iter(labels)
    index = 0
    while batch := list(islice(it, per)):
        yield index, batch
        index += 1


def _selected(sheets: Iterator[Sheet], wanted: range | None) -> Iterator[Sheet]:
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
    doc = Document(stock, specimen=specimen)
    first = True
    chosen = _selected(_sheets(stock, labels), sheets)
    for (_, batch), masks in with_masks(chosen, stock.qr.error_level, stock.labels_per_sheet,
                                        workers):
        doc.page(batch, masks)
        if first or doc.pdf.pending >= FLUSH_BYTES:
            first = False
            yield doc.pdf.take()
    doc.finish()
    yield doc.pdf.take()


def render_pdf(stock: Stock, labels: Iterable[LabelData], *, sheets: range | None = None,
               workers: int | None = None, specimen: bool = False) -> bytes:
    """The whole PDF as bytes (fine for previews and reprints; stream large jobs)."""
    return b"".join(iter_pdf(stock, labels, sheets=sheets, workers=workers,
                             specimen=specimen))


def write_pdf(
    stock: Stock, labels: Iterable[LabelData], stream: BinaryIO, *,
    sheets: range | None = None, workers: int | None = None, specimen: bool = False,
) -> int:
    """Write the PDF to a binary stream as it is produced; return the number of bytes."""
    total = 0
    for chunk in iter_pdf(stock, labels, sheets=sheets, workers=workers, specimen=specimen):
        stream.write(chunk)
        total += len(chunk)
    return total
