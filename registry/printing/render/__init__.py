"""The generic label renderer: one layout-driven renderer for every stock, streaming PDF out.

Layouts are data (``registry.printing.stocks``); this package only knows how to draw the
element kinds. One job per module, imported by name (there is no re-export here):

    label     what one label shows (``LabelData``), the fixed texts, ``RenderError``
    text      fitting user text into a box (cleaning, wrapping, shrinking) and the order rule
              ``overflowing``
    fonts     a TrueType file's metrics, glyph codes per document, embedded font subsets
    pdf       the PDF object writer that streams objects out and keeps only their offsets
    emblem    the joint mark's emblem as PDF path operators
    layout    one PDF document: label forms, text, QR placement, the specimen overprint, pages
    qr        QR encoding, in-process or in a pool of worker processes
    stream    the job pipeline: labels → sheets → QR masks → pages → PDF chunks
    preview   one label as a PNG

The ZPL writer (``registry.printing.zpl``) measures and fits text with ``fonts`` and ``text``,
so a label fits the same way on a thermal printer as in the PDF.
"""
