"""The words for the relevant commodity of the EU Deforestation Regulation that a batch's HS
code falls under (``reference.Commodity``), as the batch's pages name it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.reference import Commodity

# Lower case: the pages name the commodity inside a sentence ("This product (coffee) …").
COMMODITY_LABELS: dict[str, LazyString] = {
    Commodity.CATTLE: _l("cattle"),
    Commodity.COCOA: _l("cocoa"),
    Commodity.COFFEE: _l("coffee"),
    Commodity.OIL_PALM: _l("oil palm"),
    Commodity.RUBBER: _l("rubber"),
    Commodity.SOYA: _l("soya"),
    Commodity.WOOD: _l("wood"),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {Commodity: COMMODITY_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def commodity_label(code: str) -> str:
    return str(COMMODITY_LABELS.get(code, code))
