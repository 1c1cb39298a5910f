"""Reference data shipped with the registry (see SOURCES.md in this folder for provenance).

Loaded once from the CSV files beside this module; nothing here reads ``../shared``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
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
    code: str
    description: str
    product: str

    @property
    def chapter(self) -> str:
        return self.code[:2]


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
    with (HERE / "hs_codes.csv").open(newline="", encoding="utf-8") as fh:
        return {
            row["code"]: HsCode(row["code"], row["description"], row["product"])
            for row in csv.DictReader(fh)
        }


@cache
def country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def province_of_regency(code: str) -> str | None:
    regency = regencies().get(code)
    return regency.province_code if regency else None


@dataclass(frozen=True, slots=True)
class EudrHeading:
    """One line of Annex I of Regulation (EU) 2023/1115: an HS prefix (2, 4 or 6 digits) and
    the relevant commodity (cattle, cocoa, coffee, oil palm, rubber, soya, wood)."""

    hs_prefix: str
    commodity: str
    description: str


@cache
def eudr_annex() -> tuple[EudrHeading, ...]:
    with (HERE / "eudr_annex.csv").open(newline="", encoding="utf-8") as fh:
        return tuple(EudrHeading(row["hs_prefix"], row["commodity"], row["description"])
                     for row in csv.DictReader(fh))


def eudr_heading(hs_code: str | None) -> EudrHeading | None:
    """The Annex I line an HS code falls under (the longest matching prefix), or None when
    the EU Deforestation Regulation does not cover it."""
    if not hs_code:
        return None
    matches = [h for h in eudr_annex() if hs_code.startswith(h.hs_prefix)]
    return max(matches, key=lambda h: len(h.hs_prefix), default=None)
