"""Turns a resolution into what the page says, in the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from registry.figures.charts import locator_map
from registry.templating import country_name, fmt_date, fmt_quantity
from registry.verify.rules import Signal, Verdict
from registry.verify.services import Resolution

SYMBOLS = {Verdict.GENUINE: "✓", Verdict.SUSPENDED: "!", Verdict.EXPIRED: "!",
           Verdict.REVOKED: "✗", Verdict.NOT_GENUINE: "✗", Verdict.POSSIBLE_COPY: "⚠"}


def headline(verdict: Verdict) -> str:
    return {
        Verdict.GENUINE: _("Genuine and certified"),
        Verdict.SUSPENDED: _("Certification suspended"),
        Verdict.REVOKED: _("Certification revoked"),
        Verdict.EXPIRED: _("Certification expired"),
        Verdict.NOT_GENUINE: _("Not a genuine label"),
        Verdict.POSSIBLE_COPY: _("Possible copy"),
    }[verdict]


def explanation(r: Resolution) -> list[str]:
    facts = r.public
    lines: list[str] = []
    if r.verdict is Verdict.GENUINE and facts:
        lines.append(_("This label was issued by the registry and the batch is certified "
                       "until %(date)s.", date=fmt_date(facts.valid_until)))
    elif r.verdict is Verdict.SUSPENDED:
        lines.append(_("The trade office has suspended the certification of this batch. "
                       "Do not rely on it until it is reinstated."))
        if facts and facts.suspension_reason:
            lines.append(_("Reason: %(reason)s", reason=facts.suspension_reason))
    elif r.verdict is Verdict.REVOKED:
        lines.append(_("The trade office has revoked the certification of this batch."))
        if facts and facts.revocation_reason:
            lines.append(_("Reason: %(reason)s", reason=facts.revocation_reason))
    elif r.verdict is Verdict.EXPIRED and facts:
        lines.append(_("The certification of this batch ended on %(date)s.",
                       date=fmt_date(facts.valid_until)))
    elif r.verdict is Verdict.POSSIBLE_COPY:
        lines.append(_("This code is genuine, but it has been scanned by many different "
                       "people or far more often than one package could be. The label on "
                       "your package may be a copy."))
        lines.append(_("Compare the details below with your package and report it if "
                       "anything differs."))
    for signal in r.signals:
        text = SIGNAL_TEXT.get(signal)
        if text:
            lines.append(text())
    return lines


SIGNAL_TEXT = {
    Signal.BAD_SIGNATURE: lambda: _("The code's digital signature does not match: the code was "
                                    "changed or made up."),
    Signal.UNKNOWN_KEY: lambda: _("The code was not signed with a key of the registry."),
    Signal.REVOKED_KEY: lambda: _("The code was signed with a key that the registry has "
                                  "withdrawn."),
    Signal.UNKNOWN_CODE: lambda: _("The registry knows no product or batch with this code."),
    Signal.NEVER_PRINTED: lambda: _("The registry never printed a label with this serial "
                                    "number."),
    Signal.NOT_CERTIFIED: lambda: _("This batch was never certified."),
}


def product_name(r: Resolution) -> str:
    if r.public is None:
        return ""
    if str(get_locale()) == "id":
        return r.public.product_name_id
    return r.public.product_name


def rows(r: Resolution) -> list[tuple[str, str]]:
    facts = r.public
    if facts is None:
        return []
    from decimal import Decimal

    out = [
        (_("Origin"), f"{facts.origin_regency}, {facts.origin_province}"),
        (_("Producer"), facts.producer),
        (_("Harvest or production date"), fmt_date(facts.production_date)),
    ]
    if facts.best_before:
        out.append((_("Best before"), fmt_date(facts.best_before)))
    out += [
        (_("Lot code"), facts.lot),
        (_("Batch quantity"), fmt_quantity(Decimal(facts.quantity), facts.unit)),
        (_("Exporter"), facts.exporter),
        (_("Exported through"), facts.hub),
        (_("Destination"), country_name(facts.destination_country)),
    ]
    if facts.certifying_office:
        out.append((_("Certified by"), facts.certifying_office))
    if facts.certified_on:
        out.append((_("Certified on"), fmt_date(facts.certified_on)))
    if facts.valid_until:
        out.append((_("Valid until"), fmt_date(facts.valid_until)))
    return out


def page_context(r: Resolution) -> dict[str, Any]:
    return {
        "headline": headline(r.verdict),
        "symbol": SYMBOLS[r.verdict],
        "explanation": explanation(r),
        "facts": r.public,
        "product_name": product_name(r),
        "rows": rows(r),
        # Drawn from the shipped geometry only: no user text reaches this markup.
        "map_svg": Markup(locator_map(r.public.origin_regency_code))  # noqa: S704
        if r.public else None,
        "origin_caption": _("Origin: %(place)s", place=f"{r.public.origin_regency}, "
                            f"{r.public.origin_province}") if r.public else "",
    }
