"""Field rules for products and batches, and the catalog's vocabularies; no Flask, no
database.

Each check returns field → problem code; forms and the API turn codes into messages. The words
a person reads for each vocabulary member are in ``catalog/vocabulary.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from registry.gs1 import digital_link as gs1
from registry.reference import HUBS, country_codes, hs_codes, regencies


# The values are what the database stores: never change one.
class Category(StrEnum):
    AGRICULTURE = "agriculture"
    FISHERY = "fishery"
    LIVESTOCK = "livestock"
    CRAFT = "craft"
    PROCESSED_FOOD = "processed-food"


class Unit(StrEnum):
    """What a batch's quantity is declared in."""

    KG = "kg"
    T = "t"
    L = "l"
    PCS = "pcs"
    HEAD = "head"


class DocumentKind(StrEnum):
    """The kinds of evidence an exporter attaches to a batch."""

    PHYTOSANITARY = "phytosanitary"
    HALAL = "halal"
    ORGANIC = "organic"
    CERTIFICATE_OF_ORIGIN = "certificate_of_origin"
    LAB_RESULTS = "lab_results"
    OTHER = "other"
    # Issue 18 §2: certificates the registry records as facts (``certificates.rules``).
    BPOM = "bpom"
    SNI = "sni"
    FISHERY_HEALTH = "fishery_health"


# A subset of the GS1 AI character set 82 that needs no escaping in a Digital Link path,
# so the lot prints and encodes as typed.
# Matched whole (fullmatch): "$" would let a trailing newline through.
LOT_RE = re.compile(r"[A-Za-z0-9._-]{1,20}")
MAX_QUANTITY = Decimal("99999999999.999")
MAX_VALUE_IDR = 10**15


def normalise_gtin(value: str) -> str | None:
    """A company's GTIN-8/12/13/14 as GTIN-14, or None when it is not one.

    Restricted-circulation numbers (prefixes 02, 04, 2x) are refused: they are not unique
    worldwide, and 04x is where the registry issues its own identifiers.
    """
    try:
        gtin = gs1.normalise_gtin(value.strip().replace(" ", ""))
    except gs1.Gs1Error:
        return None
    return None if gs1.is_restricted_circulation(gtin) else gtin


@dataclass
class ProductInput:
    name_id: str
    name_en: str
    category: str
    hs_code: str
    gtin: str | None = None
    description: str = ""


def product_problems(data: ProductInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    for field in ("name_id", "name_en"):
        value = getattr(data, field).strip()
        if not value:
            problems[field] = "required"
        elif len(value) > 300:
            problems[field] = "too_long"
    if data.category not in set(Category):
        problems["category"] = "unknown"
    if data.hs_code not in hs_codes():
        problems["hs_code"] = "unknown"
    if data.gtin and normalise_gtin(data.gtin) is None:
        problems["gtin"] = "bad_gtin"
    if len(data.description) > 4000:
        problems["description"] = "too_long"
    return problems


@dataclass
class BatchInput:
    product_id: int
    lot_code: str
    quantity: Decimal
    unit: str
    production_date: dt.date
    best_before: dt.date | None
    origin_regency_code: str
    producer: str
    hub: str
    destination_country: str
    declared_value_idr: int


def batch_problems(data: BatchInput, today: dt.date) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not LOT_RE.fullmatch(data.lot_code or ""):
        problems["lot_code"] = "bad_lot"
    if not (Decimal(0) < data.quantity <= MAX_QUANTITY):
        problems["quantity"] = "out_of_range"
    if data.unit not in set(Unit):
        problems["unit"] = "unknown"
    if data.production_date > today:
        problems["production_date"] = "future"
    if data.best_before is not None and data.best_before < data.production_date:
        problems["best_before"] = "before_production"
    if data.origin_regency_code not in regencies():
        problems["origin_regency_code"] = "unknown"
    producer = (data.producer or "").strip()
    if not producer:
        problems["producer"] = "required"
    elif len(producer) > 200:
        problems["producer"] = "too_long"
    if data.hub not in HUBS:
        problems["hub"] = "unknown"
    if data.destination_country not in country_codes() or data.destination_country == "ID":
        problems["destination_country"] = "unknown"
    if not (0 <= data.declared_value_idr <= MAX_VALUE_IDR):
        problems["declared_value_idr"] = "out_of_range"
    return problems


# ``missing_evidence`` answers this when the batch has no document at all and its category
# names no particular kind: any one document will do.
ANY_DOCUMENT = "any"


def missing_evidence(category: str, kinds: Collection[str],
                     required: Mapping[str, Sequence[str]]) -> list[str]:
    """What a batch of ``category`` still lacks before it may be submitted, given the kinds of
    its documents and the ``REQUIRED_EVIDENCE`` setting (category → kinds); empty when none.

    An office cannot review a batch on nothing, so even a category without required kinds
    needs one document."""
    needed = list(required.get(category, ()))
    if not kinds:
        return needed or [ANY_DOCUMENT]
    return [kind for kind in needed if kind not in kinds]
