"""Display names and formatting for templates, so templates hold no logic.

Every label here is translated; dates, numbers and money follow the reader's locale.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

from babel import Locale
from babel.dates import format_datetime as babel_datetime
from flask import Flask
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from registry.audit import tags as events
from registry.catalog.certification import Display, display_status
from registry.clock import REGION_TZ, today
from registry.reference import HUBS, PROVINCES, country_codes, regencies

STATUS_LABELS = {
    Display.DRAFT: _l("Draft"),
    Display.SUBMITTED: _l("Submitted"),
    Display.APPROVED: _l("Certified"),
    Display.EXPIRED: _l("Expired"),
    Display.REJECTED: _l("Rejected"),
    Display.SUSPENDED: _l("Suspended"),
    Display.REVOKED: _l("Revoked"),
}
ACTION_LABELS = {
    "submit": _l("Submit for certification"),
    "approve": _l("Approve"),
    "reject": _l("Reject"),
    "suspend": _l("Suspend"),
    "reinstate": _l("Reinstate"),
    "revoke": _l("Revoke"),
}
CATEGORY_LABELS = {
    "agriculture": _l("Farm produce"),
    "fishery": _l("Fishery"),
    "livestock": _l("Livestock"),
    "craft": _l("Craft"),
    "processed-food": _l("Processed food"),
}
UNIT_LABELS = {"kg": _l("kg"), "t": _l("tonnes"), "l": _l("litres"), "pcs": _l("pieces"),
               "head": _l("head (animals)")}
DOCUMENT_LABELS = {
    "phytosanitary": _l("Phytosanitary certificate"),
    "halal": _l("Halal certificate"),
    "organic": _l("Organic certificate"),
    "certificate_of_origin": _l("Certificate of origin"),
    "lab_results": _l("Laboratory results"),
    "other": _l("Other document"),
}


def category_label(code: str) -> Any:
    return CATEGORY_LABELS.get(code, code)


def unit_label(code: str) -> Any:
    return UNIT_LABELS.get(code, code)


def document_kind_label(code: str) -> Any:
    return DOCUMENT_LABELS.get(code, code)


@cache
def _territories(locale: str) -> dict[str, str]:
    return dict(Locale.parse(locale).territories)


def country_name(code: str, locale: str | None = None) -> str:
    return _territories(locale or str(get_locale())).get(code, code)


def country_choices(locale: str) -> list[tuple[str, str]]:
    names = _territories(locale)
    return sorted(((c, names.get(c, c)) for c in country_codes()), key=lambda item: item[1])


def regency_name(code: str) -> str:
    regency = regencies().get(code)
    return regency.name if regency else code


def regency_with_province(code: str) -> str:
    regency = regencies().get(code)
    return f"{regency.name}, {PROVINCES[regency.province_code]}" if regency else code


def batch_display(batch: Any) -> Display:
    from registry.catalog.certification import Status

    return display_status(Status(batch.status), batch.valid_until, today())


def status_badge(batch: Any) -> Markup:
    shown = batch_display(batch)
    return Markup('<span class="badge badge-{}">{}</span>').format(
        shown.value, STATUS_LABELS[shown]
    )


def fmt_date(value: dt.date | dt.datetime | None) -> str:
    """A date as the reader's locale writes it; a moment (a datetime) in WITA with the zone
    said, never a bare UTC time that reads as local."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return fmt_wita(value)
    return format_date(value, "medium")


def fmt_wita(value: dt.datetime | None) -> str:
    """A moment in the provinces' own time, with the zone said (WITA, UTC+8 all year), so a
    print shop abroad or a server in another zone cannot misread it."""
    if value is None:
        return "—"
    return f"{babel_datetime(value, 'medium', tzinfo=REGION_TZ, locale=str(get_locale()))} WITA"


def fmt_quantity(quantity: Decimal, unit: str) -> str:
    return f"{format_decimal(quantity.normalize() if quantity else quantity)} {unit_label(unit)}"


def fmt_idr(value: int | None) -> str:
    return "—" if value is None else f"Rp {format_decimal(value)}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        regency=regency_name,
        regency_full=regency_with_province,
        country=country_name,
        category=category_label,
        unit=unit_label,
        doc_kind=document_kind_label,
        date=fmt_date,
        wita=fmt_wita,
        idr=fmt_idr,
        number=format_decimal,
        status_badge=status_badge,
        hub=lambda code: HUBS.get(code, code),
        province=lambda code: PROVINCES.get(code or "", code or "—"),
        audit_label=events.label,
        action_label=lambda action: ACTION_LABELS.get(action, action),
    )
    app.jinja_env.globals.update(fmt_quantity=fmt_quantity)

    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"nav": _nav_items(), "current_locale": str(get_locale())}


def _nav_items() -> list[tuple[str, Any]]:
    if not current_user or not current_user.is_authenticated:
        return []
    role = current_user.role
    items: dict[str, list[tuple[str, Any]]] = {
        "exporter": [("catalog.dashboard", _l("My batches")),
                     ("catalog.products", _l("Products")),
                     ("figures.dashboard", _l("Figures")),
                     ("desk.index", _l("Suspicious activity")),
                     ("api_account.tokens_page", _l("API tokens"))],
        "officer": [("review.queue", _l("Review queue")),
                    ("review.certified", _l("Decided batches")),
                    ("accounts.pending", _l("New exporters")),
                    ("figures.dashboard", _l("Figures")),
                    ("desk.index", _l("Suspicious activity")),
                    ("api_account.tokens_page", _l("API tokens"))],
        "printer": [("printing.jobs", _l("Print jobs"))],
        "admin": [("accounts.users", _l("Users")),
                  ("accounts.organisations", _l("Organisations")),
                  ("accounts.pending", _l("New exporters")),
                  ("figures.dashboard", _l("Figures")),
                  ("desk.index", _l("Suspicious activity"))],
    }
    return items.get(role, [])
