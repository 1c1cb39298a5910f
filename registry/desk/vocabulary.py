"""The words the suspicious-activity desk shows for why a code was not genuine (the kinds of
``verify.attribution.Kind``, by which it groups scans and reports) and for how far back its
lists look (``rules.Period``), in one place."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.desk.rules import Period
from registry.verify.attribution import Kind

# Keyed by members, typed by ``str``: a member equals its stored value (see catalog.vocabulary).
KIND_LABELS: dict[str, LazyString] = {
    Kind.BAD_SIGNATURE: _l("Bad signature"),
    Kind.UNKNOWN_KEY: _l("Unknown signing key"),
    Kind.REVOKED_KEY: _l("Withdrawn signing key"),
    Kind.UNKNOWN_PRODUCT: _l("Unknown product"),
    Kind.UNKNOWN_LOT: _l("Unknown lot"),
    Kind.NEVER_PRINTED: _l("Serial never printed"),
    Kind.NOT_CERTIFIED: _l("Batch never certified"),
    Kind.OTHER: _l("Other"),
}

PERIOD_LABELS: dict[str, LazyString] = {
    Period.WEEK: _l("Last 7 days"),
    Period.MONTH: _l("Last 30 days"),
    Period.QUARTER: _l("Last 90 days"),
    Period.YEAR: _l("Last 12 months"),
    Period.ALL: _l("All time"),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {
    Kind: KIND_LABELS, Period: PERIOD_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def kind_label(code: str | None) -> str:
    """A scan group or report without a kind is one the attribution could not name."""
    return str(KIND_LABELS.get(code or Kind.OTHER, code))
