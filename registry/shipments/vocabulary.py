"""The words of shipments: their states."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.shipments.rules import ShipmentStatus

STATUS_LABELS: dict[str, LazyString] = {
    ShipmentStatus.DECLARED: _l("Declared, waiting for the hub"),
    ShipmentStatus.CONFIRMED: _l("Passed the hub"),
    ShipmentStatus.REFUSED: _l("Refused at the hub"),
    ShipmentStatus.CANCELLED: _l("Cancelled"),
}
LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {ShipmentStatus: STATUS_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))
