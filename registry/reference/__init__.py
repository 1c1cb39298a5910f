"""Reference data shipped with the registry (see SOURCES.md in this folder for provenance).

Loaded once from the CSV files beside this module; nothing here reads ``../shared``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import pycountry

HERE = Path(__file__).parent

PROVINCES: dict[str, str] = {"51": "Bali", "52": "Nusa Tenggara Barat", "53": "Nusa Tenggara Timur"}
PROVINCE_SHORT: dict[str, str] = {"51": "Bali", "52": "NTB", "53": "NTT"}

# Bali's export gates named in the cooperation: Benoa port and Ngurah Rai airport,
# plus Celukan Bawang, Bali's north-coast cargo port.
HUBS: dict[str, str] = {
    "benoa": "Pelabuhan Benoa (IDBOA)",
    "ngurah-rai": "Bandara I Gusti Ngurah Rai (DPS)",
    "celukan-bawang": "Pelabuhan Celukan Bawang",
}
# Each hub's UN/LOCODE (unlocode.csv, UNECE release 2023-1; SOURCES.md §4) and how goods
# leave through it: by sea (bill of lading, ISO 6346 containers) or by air (air waybill).
# None would mean a hub without a code: its registry URI alone identifies it.
HUB_LOCODES: dict[str, str | None] = {"benoa": "IDBOA", "ngurah-rai": "IDDPS",
                                      "celukan-bawang": "IDCEB"}
HUB_MODES: dict[str, str] = {"benoa": "sea", "ngurah-rai": "air", "celukan-bawang": "sea"}


@dataclass(frozen=True, slots=True)
class Regency:
    code: str  # Kemendagri, e.g. "52.71"
    name: str  # official, e.g. "Kota Mataram"
    province_code: str
    kind: str
    capital: str
    bps_code: str
    short_name: str

    @property
    def province_name(self) -> str:
        return PROVINCES[self.province_code]


@dataclass(frozen=True, slots=True)
class HsCode:
    """One HS 2022 six-digit subheading (hs_codes.csv, see SOURCES.md §3)."""

    code: str
    description: str  # English, UN Comtrade's wording
    # Indonesian, where the project has one (translated by hand, not BTKI's text); else "".
    description_id: str = ""
    # One of the region's usual exports: listed first wherever codes are offered.
    typical: bool = False
    product: str = ""  # the region's product under a typical code, for the figures' chapters
    product_id: str = ""  # the same in Indonesian (hs_products_id.csv)

    @property
    def chapter(self) -> str:
        return self.code[:2]

    @property
    def dotted(self) -> str:
        """As people write it: "0305.59"."""
        return f"{self.code[:4]}.{self.code[4:]}"

    def description_in(self, language: str) -> str:
        """The description for a reader of ``language``: Indonesian where there is one,
        English otherwise (also for zh/ja readers: there is no other text)."""
        if language == "id" and self.description_id:
            return self.description_id
        return self.description

    def has_text_in(self, language: str) -> bool:
        return language == "en" or (language == "id" and bool(self.description_id))


@cache
def regencies() -> dict[str, Regency]:
    with (HERE / "regencies.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {
        row["regency_code"]: Regency(
            code=row["regency_code"],
            name=row["regency_name"],
            province_code=row["province_code"],
            kind=row["kind"],
            capital=row["capital"],
            bps_code=row["bps_code"],
            short_name=row["short_name"],
        )
        for row in rows
    }


@cache
def hs_codes() -> dict[str, HsCode]:
    """Every HS 2022 subheading by its six digits, in code order (read once)."""
    with (HERE / "hs_products_id.csv").open(newline="", encoding="utf-8") as fh:
        products_id = {row["product"]: row["product_id"] for row in csv.DictReader(fh)}
    with (HERE / "hs_codes.csv").open(newline="", encoding="utf-8") as fh:
        return {
            row["code"]: HsCode(row["code"], row["description"], row["description_id"],
                                row["typical"] == "1", row["product"],
                                products_id.get(row["product"], ""))
            for row in csv.DictReader(fh)
        }


@dataclass(frozen=True, slots=True)
class Locode:
    code: str  # five characters: country + location, e.g. "NLRTM"
    name: str  # as UNECE writes it, with its diacritics ("København")
    country: str
    # UN/LOCODE function classifier, eight positions: "1" first a seaport, "4" fourth an airport.
    function: str
    # The place's other names under the same code ("Helsinki (Helsingfors)"), for the search.
    other_names: tuple[str, ...] = ()

    @property
    def is_port(self) -> bool:
        return self.function[:1] == "1"

    @property
    def is_airport(self) -> bool:
        return self.function[3:4] == "4"


@cache
def locodes() -> dict[str, Locode]:
    """Every seaport and airport of UNECE's UN/LOCODE list (about 25,000; SOURCES.md §4), by
    code; read once a process."""
    with (HERE / "unlocode.csv").open(newline="", encoding="utf-8") as fh:
        return {row["locode"]: Locode(row["locode"], row["name"], row["country"],
                                      row["function"],
                                      tuple(n for n in row["other_names"].split("; ") if n))
                for row in csv.DictReader(fh)}


def locode_of(text: str) -> str:
    """A code as people type it, normalised: " nl rtm" → "NLRTM"."""
    return "".join((text or "").split()).upper()


@cache
def typical_hs_codes() -> tuple[HsCode, ...]:
    """The region's usual subheadings, the ones offered first."""
    return tuple(hs for hs in hs_codes().values() if hs.typical)


@cache
def country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def province_of_regency(code: str) -> str | None:
    regency = regencies().get(code)
    return regency.province_code if regency else None


class Commodity(StrEnum):
    """The relevant commodities of Regulation (EU) 2023/1115 (Annex I), as eudr_annex.csv
    names them; their words are registry.plots.vocabulary's."""

    CATTLE = "cattle"
    COCOA = "cocoa"
    COFFEE = "coffee"
    OIL_PALM = "oil palm"
    RUBBER = "rubber"
    SOYA = "soya"
    WOOD = "wood"


@dataclass(frozen=True, slots=True)
class EudrHeading:
    """One line of Annex I of Regulation (EU) 2023/1115: an HS prefix (2, 4 or 6 digits) and
    the relevant commodity (cattle, cocoa, coffee, oil palm, rubber, soya, wood)."""

    hs_prefix: str
    commodity: Commodity
    description: str


@cache
def eudr_annex() -> tuple[EudrHeading, ...]:
    with (HERE / "eudr_annex.csv").open(newline="", encoding="utf-8") as fh:
        return tuple(EudrHeading(row["hs_prefix"], Commodity(row["commodity"]),
                                 row["description"])
                     for row in csv.DictReader(fh))


def eudr_heading(hs_code: str | None) -> EudrHeading | None:
    """The Annex I line an HS code falls under (the longest matching prefix), or None when
    the EU Deforestation Regulation does not cover it."""
    if not hs_code:
        return None
    matches = [h for h in eudr_annex() if hs_code.startswith(h.hs_prefix)]
    return max(matches, key=lambda h: len(h.hs_prefix), default=None)
