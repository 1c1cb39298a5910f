"""The PDF object writer the renderer streams through.

Why PDF objects are written by hand instead of through a reportlab canvas: a canvas keeps
every page in memory until ``save()``, so a 100,000-label job would neither fit 200 MB nor
show its first byte early. ``PdfWriter`` writes each object as soon as it is made and hands
the bytes out with ``take()``; only the cross-reference offsets stay behind (8 bytes per
object).
"""

from __future__ import annotations

import zlib
from array import array
from itertools import islice

__all__ = ["PdfWriter", "num"]


def num(v: float) -> str:
    """A number as PDF content wants it: at most 3 decimals, no trailing zeros, no "-0"."""
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


class PdfWriter:
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
