"""Finding a UN/LOCODE port or airport by its code, its place's name or its country; no Flask,
no database.

The list (about 25,000 seaports and airports, SOURCES.md §4) is read once (``locodes``) and so
is its search index: each place's code, names and country (its code and its English and
Indonesian names), normalised like the HS search (case and accents folded: "kobenhavn" finds
"København"). Every query word must begin a word of the place. A code typed whole comes first,
then the places whose name begins with what was asked, then the others; within each, the
places that are both a seaport and an airport, then by country and name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from babel import Locale

from registry.reference import Locode, locode_of, locodes
from registry.reference.hs_search import fold

_WORD = re.compile(r"[0-9a-z]+")
# Letters that Unicode does not decompose into a base letter and an accent, written as people
# type them without the key: "kobenhavn" finds "København", "lodz" "Łódź".
_PLAIN = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d",
                        "ł": "l", "ı": "i", "þ": "th", "ħ": "h"})
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class Found:
    total: int
    items: tuple[Locode, ...]


def _words(text: str) -> str:
    return " ".join(_WORD.findall(fold(text).translate(_PLAIN)))


@cache
def _index() -> tuple[tuple[Locode, str, str], ...]:
    """Each place with its searchable text (" code country names country-names ") and its
    folded name (for ranking), sorted by country and name."""
    english, indonesian = Locale("en").territories, Locale("id").territories
    entries = []
    for place in locodes().values():
        country = place.country
        text = _words(" ".join((place.code, country, place.name, *place.other_names,
                                english.get(country, ""), indonesian.get(country, ""))))
        entries.append((place, f" {text} ", _words(place.name)))
    return tuple(sorted(entries, key=lambda e: (e[0].country, e[2], e[0].code)))


def search(query: str, country: str = "", limit: int = 50) -> Found:
    """The places matching ``query`` (a code, or words of a place's name or its country),
    within ``country`` (ISO alpha-2) when one is given."""
    asked = _words((query or "")[:MAX_QUERY])
    words = asked.split()
    country = (country or "").strip().upper()
    if not words and not country:
        return Found(0, ())
    # A code typed whole, also split ("NL RTM"), is found even where its words are not.
    exact = locode_of(query or "")
    found = [(place, name) for place, text, name in _index()
             if (not country or place.country == country)
             and (place.code == exact or all(f" {word}" in text for word in words))]

    def rank(entry: tuple[Locode, str]) -> tuple[int, int]:
        place, name = entry
        first = 0 if place.code == exact else 1 if asked and name.startswith(asked) else 2
        return first, -(place.is_port + place.is_airport)

    found.sort(key=rank)  # stable: country and name order within each rank
    return Found(len(found), tuple(place for place, _name in found[:limit]))
