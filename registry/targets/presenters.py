"""Targets as a person reads them, in the reader's language: what a target is about, its
amounts in rupiah, units or counts, shares as percentages. Shared by the page, the exports
and the PDF reports so they always say the same."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _

from registry.catalog.vocabulary import category_label, unit_label
from registry.reference import PROVINCES
from registry.targets.models import Target
from registry.targets.rules import Metric, expected_share, month_ends
from registry.targets.services import TargetProgress
from registry.targets.vocabulary import metric_label, verdict_label


def where_label(province: str | None) -> str:
    return PROVINCES[province] if province else _("The region (all three provinces)")


def describe(target: Target) -> str:
    """'Volume · Farm produce · kg · to Japan'."""
    from registry.web.templating import country_name

    parts = [metric_label(target.metric)]
    if target.category:
        parts.append(category_label(target.category))
    if target.hs_chapter:
        parts.append(_("HS chapter %(chapter)s", chapter=target.hs_chapter))
    if target.unit:
        parts.append(unit_label(target.unit))
    if target.destination_country:
        parts.append(_("to %(country)s", country=country_name(target.destination_country)))
    return " · ".join(parts)


def amount_text(target: Target, value: Decimal | float | None) -> str:
    if value is None:
        return "—"
    value = Decimal(str(value))
    if target.metric == Metric.VALUE:
        return f"Rp {format_decimal(round(value))}"
    if target.metric == Metric.VOLUME:
        return f"{format_decimal(value.normalize())} {unit_label(target.unit or '')}"
    return format_decimal(round(value))


def percent(share: Decimal) -> str:
    return format_percent(share, "#,##0.0%")


def verdict_text(item: TargetProgress) -> str:
    return verdict_label(item.assessment.verdict)


def month_names(year: int) -> list[str]:
    return [format_date(dt.date(year, m, 1), "MMM") for m in range(1, 13)]


def expected_path(year: int, amount: Decimal) -> list[Decimal]:
    """What the linear path expects by the end of each month."""
    return [amount * expected_share(year, end) for end in month_ends(year)]
