"""Finding an HS 2022 subheading by its code or by words, in Indonesian or English; no Flask,
no database.

The list (5,600 subheadings) is read once (``hs_codes``) and so is its search index: each
subheading's code and its English and Indonesian words, normalised (case and accents folded).
A query word matches a subheading when it begins one of its words; an Indonesian word also
matches through the English words of ``hs_words_id.csv`` (most subheadings have English text
only, see SOURCES.md), so "ikan kering" finds "Fish; dried, ...". Every query word must
match. The region's typical codes come first, then code order. Measured: see README
("HS code search").
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from registry.reference import HERE, HsCode, hs_codes

# A code as people write it: "0305.59", "0305 59", "030559", "03.05" or just "0305".
_CODE_CHARS = re.compile(r"[\d.\s-]+")
_WORD = re.compile(r"[0-9a-z]+(?:-[0-9a-z]+)*")
# Words that every description has or that join others: they narrow nothing.
_STOP = frozenset({"dan", "atau", "dari", "yang", "untuk", "and", "or", "of", "the", "for"})
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class Found:
    total: int
    items: tuple[HsCode, ...]


def fold(text: str) -> str:
    """Lower case without accents: "Kopi Éspresso" → "kopi espresso"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def code_of(text: str) -> str | None:
    """The six digits of a code written "0305.59", "0305 59" or "030559", when they name a
    subheading of the list; None otherwise."""
    digits = re.sub(r"[.\s-]", "", text or "")
    return digits if len(digits) == 6 and digits in hs_codes() else None


@cache
def _words_id() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Indonesian word or phrase → English words, longest phrase first (so "kayu manis",
    cinnamon, is read before "kayu", wood)."""
    with (HERE / "hs_words_id.csv").open(newline="", encoding="utf-8") as fh:
        rows = [(fold(r["word_id"]), tuple(fold(r["words_en"]).split()))
                for r in csv.DictReader(fh)]
    return tuple(sorted(rows, key=lambda r: -len(r[0])))


def _words(text: str) -> str:
    return f" {' '.join(_WORD.findall(fold(text)))} "


@cache
def _index() -> tuple[tuple[HsCode, str, str], ...]:
    """Each subheading with its searchable text (" code heading english indonesian ") and its
    head: what the subheading is, before the first ";" ("Ceramic wares; ..." is about ceramics,
    "...; ceramic products" only mentions them)."""
    entries = []
    for hs in hs_codes().values():
        text = _words(f"{hs.description} {hs.description_id} {hs.product} {hs.product_id}")
        head = _words(f"{hs.description.split(';')[0]} {hs.description_id.split(',')[0]}")
        entries.append((hs, f" {hs.code} {hs.code[:4]}{text}", head))
    # Typical codes first; dict order is code order, and sorted() keeps it within each group.
    return tuple(sorted(entries, key=lambda e: not e[0].typical))


def _terms(query: str) -> list[tuple[str, ...]]:
    """The query as a list of terms, each a tuple of alternatives (any one must begin a word of
    the subheading)."""
    text = fold(query[:MAX_QUERY])
    # "0305.59" is one code, not "0305" and "59".
    text = re.sub(r"(\d{2,4})[.\s](\d{2})\b", r"\1\2", text)
    terms: list[tuple[str, ...]] = []
    padded = f" {' '.join(_WORD.findall(text))} "
    for phrase, english in _words_id():
        if " " in phrase and f" {phrase} " in padded:
            terms.append((phrase, *english))
            padded = padded.replace(f" {phrase} ", " ")
    glossary = dict(_words_id())
    for word in padded.split():
        if word in glossary:
            # The Indonesian word whole ("mete " is not "metal"), its English words as prefixes.
            terms.append((f"{word} ", *glossary[word]))
        elif word not in _STOP:
            terms.append((word,))
    return terms


def _matches(term: tuple[str, ...], text: str) -> bool:
    return any(f" {alt}" in text for alt in term)


def search(query: str, limit: int = 50) -> Found:
    """The subheadings matching ``query`` (a code, part of one, or words), typical first."""
    query = (query or "").strip()
    if not query:
        return Found(0, ())
    if _CODE_CHARS.fullmatch(query):
        prefix = re.sub(r"[.\s-]", "", query)
        found = [hs for hs, _text, _head in _index() if hs.code.startswith(prefix)]
        return Found(len(found), tuple(found[:limit]))
    terms = _terms(query)
    if not terms:
        return Found(0, ())
    scored = [(hs, sum(_matches(term, head) for term in terms))
              for hs, text, head in _index() if all(_matches(term, text) for term in terms)]
    # Typical first, then those whose head names what was asked; stable: code order within.
    scored.sort(key=lambda e: (not e[0].typical, -e[1]))
    return Found(len(scored), tuple(hs for hs, _score in scored[:limit]))
