"""What a text typed by a person may contain: the one rule every form, API model and file
name goes through. No Flask, no database.

Refused everywhere: control characters (C0, DEL, C1; they broke the XLSX export and response
headers) and the bidi embeddings, overrides and isolates U+202A–U+202E, U+2066–U+2069 (they
make "honey\u202egnp.exe" read as "honeyexe.png"). Line breaks (CR, LF, and the Unicode line
and paragraph separators) only in texts of several lines: addresses, descriptions, reasons,
messages; a TAB neither, as no form field has a use for one.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\r\n\u2028\u2029")


class TextProblem(StrEnum):
    CONTROL = "control_character"
    BIDI = "bidi_control"
    LINE_BREAK = "line_break"


def text_problem(value: str, *, multiline: bool = False) -> TextProblem | None:
    """Why ``value`` is refused, or None. The first problem found, bidi before the rest."""
    if not value or (value.isprintable() and not BIDI_CONTROLS.intersection(value)):
        return None  # the common case, at C speed
    if BIDI_CONTROLS.intersection(value):
        return TextProblem.BIDI
    line_break = False
    for ch in value:
        if ch in LINE_BREAKS:
            line_break = True
        elif unicodedata.category(ch) == "Cc":
            return TextProblem.CONTROL
    if line_break and not multiline:
        return TextProblem.LINE_BREAK
    return None
