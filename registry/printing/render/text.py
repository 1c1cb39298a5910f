"""Fitting user text into a box, and the order rule built on it.

User text is normalised (NFC, control and format characters dropped, whitespace collapsed),
wrapped and shrunk to fit its box, and truncated with an ellipsis only when even the smallest
size will not hold it, so it never leaves its box. Orders whose text would need the ellipsis
are refused (``overflowing``). Sizes and widths are in points unless a name says otherwise.
"""

from __future__ import annotations

import math
import re
import unicodedata

from registry.printing.render.fonts import Face, font_face
from registry.printing.render.label import LabelData
from registry.printing.stocks import MM, Stock, TextElement, TextStyle

__all__ = ["ELLIPSIS", "SIZE_STEP", "clean_text", "element_text", "fit_lines", "fit_text",
           "overflowing"]

ELLIPSIS = "…"
SIZE_STEP = 0.25  # points between tried font sizes

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
    face: Face, pieces: list[tuple[str, str]], max_w: float, *, split: bool
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


def _truncate(face: Face, text: str, max_w: float) -> str:
    text = text.rstrip()
    while text and face.width(text + ELLIPSIS) > max_w:
        text = text[:-1].rstrip()
    return text + ELLIPSIS if face.width(ELLIPSIS) <= max_w else ""


def _capacity(face: Face, style: TextStyle, size: float, height: float) -> int:
    """Lines of ``size`` points that fit ``height`` points, at most the style's max_lines."""
    line_em = face.ascent + face.descent
    if line_em * size > height:
        return 0
    return min(style.max_lines, 1 + int((height - line_em * size) // (style.leading * size)))


def fit_lines(
    face: Face, text: str, style: TextStyle, width: float, height: float
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
    face: Face, text: str, style: TextStyle, width: float, height: float
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
