"""What the exporter reads when a label order is refused with numbers and stock names (the
codes ``over_certified_quantity`` and ``text_does_not_fit``), said in the reader's language
and number format. Shared by the order form and the JSON API, so neither imports the other's
views; the words for the other codes are registry/web/messages.py's."""

from __future__ import annotations

from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from registry.printing.services import LabelBoundExceeded, LabelTextTooLong
from registry.printing.stocks import LEGIBLE_MIN_PT
from registry.web.templating import fmt_quantity


def bound_message(exc: LabelBoundExceeded) -> str:
    """The refusal with its numbers, in the reader's language and number format."""
    bound, unit = exc.bound, exc.bound.unit
    return _("Not enough certified quantity left for this order: %(ordered)s already ordered, "
             "%(this)s in this order, %(allowed)s allowed in all (the certified quantity plus "
             "%(tolerance)s %% tolerance and any allowance of the trade office).",
             ordered=fmt_quantity(bound.ordered, unit), this=fmt_quantity(exc.this_order, unit),
             allowed=fmt_quantity(bound.allowed, unit),
             tolerance=fmt_quantity(bound.tolerance_percent, "").strip())


# What each label element shows, as the order form names it when the text does not fit.
ELEMENT_NAMES = {
    "mark": lambda: _("joint mark"),
    "product": lambda: _("product name"),
    "origin": lambda: _("origin"),
    "producer": lambda: _("producer"),
    "lot": lambda: _("lot code"),
    "quantity": lambda: _("net quantity"),
    "best_before": lambda: _("best-before date"),
    "serial": lambda: _("serial number"),
    "host": lambda: _("verification address"),
    "exporter": lambda: _("exporter's name"),
    "country": lambda: _("country of origin"),
}


def fit_message(exc: LabelTextTooLong) -> str:
    """The refusal naming the stock, what does not fit on it and the stocks that would hold
    it, in the reader's language."""
    lang = str(get_locale())
    what = ", ".join(ELEMENT_NAMES[e]() if e in ELEMENT_NAMES else e for e in exc.elements)
    message = _("The label stock “%(stock)s” cannot hold the %(what)s of this batch whole at "
                "the smallest legible size (%(size)s pt).", stock=exc.stock.name(lang),
                what=what, size=format_decimal(LEGIBLE_MIN_PT))
    if exc.larger:
        return message + " " + _("Choose a larger stock: %(stocks)s.",
                                 stocks="; ".join(st.name(lang) for st in exc.larger))
    return message + " " + _("No label stock can hold it.")
