"""Targets and progress: the rules, without Flask or the database.

**Expected share at a date** is linear in the days of the year (WITA): at the end of day *d*
of a year of *n* days, ``d / n`` of the yearly target should have been reached (31 Dec: all of
it; before 1 Jan: nothing). Exports are seasonal, so the verdict has a tolerance band rather
than a knife edge.

**Verdict**, from the *pace*, what was achieved divided by what was expected by now:

* ahead: pace ≥ 1.10 (at least 10 % more than the linear path),
* behind: pace < 0.90 (more than 10 % short of it),
* on track: in between.

Before any day of the year has passed (nothing expected yet) a target is on track, or ahead if
something was already achieved. A finished year judges the result against the whole target
with the same band.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

AHEAD_PACE = Decimal("1.10")
BEHIND_PACE = Decimal("0.90")
FIRST_YEAR = 2020
# Amounts above this are typing mistakes, not plans (a quadrillion rupiah is 70 years of
# Indonesia's GDP); it also keeps every amount inside NUMERIC(24, 3) on both databases.
MAX_AMOUNT = Decimal(10) ** 18


class Metric(StrEnum):
    VALUE = "value_idr"
    VOLUME = "export_volume"
    BATCHES = "batches"
    ACTIVE_EXPORTERS = "active_exporters"


class Verdict(StrEnum):
    AHEAD = "ahead"
    ON_TRACK = "on_track"
    BEHIND = "behind"


# The normalised units a volume target may be set in (registry.figures.queries.NORMALISED_UNITS:
# tonnes are counted as kg).
VOLUME_UNITS = ("kg", "l", "pcs", "head")
REGION = "all"  # the key of a region-wide target (the three provinces together)


@dataclass(frozen=True)
class TargetSpec:
    """What a target is about: a year, a province (``None``: the region), a metric and
    optionally a commodity category or an HS chapter and a destination country."""

    year: int
    province: str | None
    metric: Metric
    category: str | None = None
    hs_chapter: str | None = None
    unit: str | None = None
    destination: str | None = None

    def key(self) -> str:
        """One string per target: the database keeps one row per key (a unique index, as
        NULLs would not collide in a composite unique constraint)."""
        return "|".join([str(self.year), self.province or REGION, self.metric.value,
                         self.category or "", self.hs_chapter or "", self.unit or "",
                         self.destination or ""])


def spec_problems(spec: TargetSpec, amount: Decimal, *, provinces: set[str],
                  categories: set[str], countries: set[str]) -> dict[str, str]:
    """What makes a target one the registry cannot measure: field -> problem code
    (``registry.web.messages``); empty when it is fine."""
    problems: dict[str, str] = {}
    if not FIRST_YEAR <= spec.year <= 2100:
        problems["year"] = "out_of_range"
    if spec.province is not None and spec.province not in provinces:
        problems["province"] = "unknown"
    if spec.category is not None and spec.category not in categories:
        problems["category"] = "unknown"
    if spec.hs_chapter is not None and not (len(spec.hs_chapter) == 2
                                            and spec.hs_chapter.isdigit()
                                            and "01" <= spec.hs_chapter <= "97"):
        problems["hs_chapter"] = "bad_hs_chapter"
    elif spec.category is not None and spec.hs_chapter is not None:
        problems["hs_chapter"] = "category_or_chapter"
    if spec.destination is not None and spec.destination not in countries:
        problems["destination"] = "unknown"
    if spec.metric is Metric.VOLUME:
        if spec.category is None and spec.hs_chapter is None:
            # Kilos of honey and kilos of seaweed are both kilos, but a plan is per product.
            problems["category"] = "volume_needs_commodity"
        if spec.unit not in VOLUME_UNITS:
            problems["unit"] = "volume_needs_unit"
    elif spec.unit is not None:
        problems["unit"] = "only_for_volume"
    if spec.metric is Metric.ACTIVE_EXPORTERS and (spec.category or spec.hs_chapter):
        problems["category"] = "exporters_not_per_commodity"
    if not amount.is_finite() or amount <= 0 or amount >= MAX_AMOUNT:
        problems["amount"] = "out_of_range"
    elif spec.metric is not Metric.VOLUME and amount != amount.to_integral_value():
        # Rupiah, batches and exporters are counted in whole numbers.
        problems["amount"] = "whole_number"
    elif int(amount.as_tuple().exponent) < -3:
        problems["amount"] = "too_precise"
    return problems


def is_frozen(year: int, today: dt.date) -> bool:
    """A year's targets may change until the year ends (``today`` is WITA's day)."""
    return today.year > year


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def expected_share(year: int, day: dt.date) -> Decimal:
    """The share of a yearly target expected at the end of ``day``: days elapsed / days."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if day < first:
        return Decimal(0)
    if day >= last:
        return Decimal(1)
    days = (last - first).days + 1
    return Decimal((day - first).days + 1) / Decimal(days)


@dataclass(frozen=True)
class Assessment:
    share: Decimal  # achieved / target
    expected: Decimal  # expected share at the date
    verdict: Verdict


def assess(achieved: Decimal, amount: Decimal, expected: Decimal) -> Assessment:
    """How a target stands: its share achieved and the verdict against the expected share."""
    if amount <= 0:
        raise ValueError("a target amount is positive")
    share = achieved / amount
    if expected <= 0:
        verdict = Verdict.AHEAD if achieved > 0 else Verdict.ON_TRACK
    else:
        pace = share / expected
        verdict = (Verdict.AHEAD if pace >= AHEAD_PACE
                   else Verdict.BEHIND if pace < BEHIND_PACE else Verdict.ON_TRACK)
    return Assessment(share=share, expected=expected, verdict=verdict)


def month_ends(year: int) -> list[dt.date]:
    """The last day of each month of ``year``: where the month-by-month path is measured."""
    return [dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
            for m in range(1, 13)]


def cumulative(values: list[Decimal]) -> list[Decimal]:
    out: list[Decimal] = []
    running = Decimal(0)
    for v in values:
        running += v
        out.append(running)
    return out
