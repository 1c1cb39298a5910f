"""Filters and formatting for templates, so templates hold no logic.

The words for codes come from each domain's ``vocabulary`` module (and ``events`` for audit
tags); dates, numbers and money follow the reader's locale.
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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from registry.accounts import vocabulary as accounts_words
from registry.accounts.models import Role
from registry.accounts.services import officer_province
from registry.api import vocabulary as api_words
from registry.audit import vocabulary as events
from registry.catalog.services import display_of
from registry.catalog.vocabulary import (
    STATUS_LABELS,
    action_label,
    category_label,
    document_kind_label,
    unit_label,
)
from registry.clock import REGION_TZ
from registry.desk import vocabulary as desk_words
from registry.plots import vocabulary as plots_words
from registry.reference import HUBS, PROVINCES, country_codes, hs_codes, regencies
from registry.verify import vocabulary as verify_words
from registry.web.database import get_session


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


def hs_markup(code: str | None, lang: str, english_only: str) -> Markup:
    """An HS code with its description in ``lang`` ("0305.59 — Ikan ..."); where there is no
    text in that language the English one, marked as English and saying so
    (``english_only``, already in the reader's language)."""
    hs = hs_codes().get(code or "")
    if hs is None:  # a code from before the list changed: shown as stored
        return Markup.escape(code or "—")
    if hs.has_text_in(lang):
        return Markup("{} — {}").format(hs.dotted, hs.description_in(lang))
    return Markup('{} — <span lang="en">{}</span> <small>{}</small>').format(
        hs.dotted, hs.description, english_only)


def hs_label(code: str | None) -> Markup:
    """``hs_markup`` in the request's language."""
    return hs_markup(code, str(get_locale()),
                     _("(English only: no description in this language yet)"))


def regency_with_province(code: str) -> str:
    regency = regencies().get(code)
    return f"{regency.name}, {PROVINCES[regency.province_code]}" if regency else code


def status_badge(batch: Any) -> Markup:
    shown = display_of(batch)
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


def fmt_isodate(value: str | None) -> str:
    """A day kept as ISO text (a mail's parameters are JSON) as the reader's locale writes
    it."""
    return fmt_date(dt.date.fromisoformat(value)) if value else "—"


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
        hs=hs_label,
        regency_full=regency_with_province,
        country=country_name,
        category=category_label,
        unit=unit_label,
        doc_kind=document_kind_label,
        date=fmt_date,
        isodate=fmt_isodate,
        wita=fmt_wita,
        idr=fmt_idr,
        number=format_decimal,
        status_badge=status_badge,
        hub=lambda code: HUBS.get(code, code),
        province=lambda code: PROVINCES.get(code or "", code or "—"),
        audit_label=events.label,
        action_label=action_label,
        role=accounts_words.role_label,
        org_kind=accounts_words.org_kind_label,
        user_status=accounts_words.user_status_label,
        token_access=api_words.token_access_label,
        token_state=api_words.token_state_label,
        audit_object=events.object_type_label,
        audit_actor=events.actor_label,
        verdict=verify_words.verdict_label,
        why_not_genuine=desk_words.kind_label,
        commodity=plots_words.commodity_label,
    )
    app.jinja_env.globals.update(fmt_quantity=fmt_quantity)

    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"nav": _nav_items(), "current_locale": str(get_locale()),
                "serving_province": _serving_province()}


def _serving_province() -> str | None:
    """The province an officer's trade office serves, for the header: an officer certifies in
    that province's name, and should see which one on every page."""
    if not current_user or not current_user.is_authenticated or current_user.role != Role.OFFICER:
        return None
    code = officer_province(get_session(), current_user)
    return PROVINCES.get(code or "") if code else None


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
                    ("targets.index", _l("Targets")),
                    ("desk.index", _l("Suspicious activity")),
                    ("audit.log", _l("Audit log")),
                    ("api_account.tokens_page", _l("API tokens"))],
        "printer": [("printing.jobs", _l("Print jobs"))],
        "admin": [("accounts.users", _l("Users")),
                  ("accounts.organisations", _l("Organisations")),
                  ("certificates.rules", _l("Required certificates")),
                  ("accounts.pending", _l("New exporters")),
                  ("figures.dashboard", _l("Figures")),
                  ("targets.index", _l("Targets")),
                  ("desk.index", _l("Suspicious activity")),
                  ("audit.log", _l("Audit log"))],
    }
    found = items.get(role, [])
    if role == "admin" or (role == "officer" and _serving_province() == PROVINCES["51"]):
        # The hub's passages: the Bali trade office decides them, the admins read them.
        found = [*found[:2], ("shipments.hub_queue", _l("Hub passages")), *found[2:]]
    return found
