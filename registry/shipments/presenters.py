"""What the shipment pages show, in the reader's words: each shipment's hub, destination,
status and numbers (no logic in the templates)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from registry.catalog.vocabulary import unit_label
from registry.reference import HUBS, Locode, locodes
from registry.shipments.models import Shipment
from registry.shipments.services import HubRow, OverCertifiedQuantity
from registry.shipments.vocabulary import status_label
from registry.web.templating import country_name


@dataclass(frozen=True)
class ShipmentRow:
    shipment: Shipment
    hub: str
    destination: str
    quantity: str
    status: str
    cancellable: bool


def destination(code: str) -> str:
    """A UN/LOCODE with its place and country, e.g. "NLRTM – Rotterdam, Netherlands"."""
    place = locodes().get(code)
    if place is None:
        return code
    return f"{code} – {place.name}, {country_name(place.country, str(get_locale()))}"


@dataclass(frozen=True)
class PlaceRow:
    code: str
    name: str
    country: str
    kinds: str  # "seaport", "airport" or both, in the reader's words


def places(found: Sequence[Locode]) -> list[PlaceRow]:
    """The search page's rows: each place's code, name, country and what it is."""
    locale = str(get_locale())
    return [PlaceRow(p.code, p.name, country_name(p.country, locale), ", ".join(
        k for k, is_ in ((_("seaport"), p.is_port), (_("airport"), p.is_airport)) if is_))
        for p in found]


def quantity_text(quantity: Decimal, unit: str) -> str:
    return f"{format_decimal(Decimal(quantity).normalize())} {unit_label(unit)}"


def rows(shipments: Sequence[Shipment], unit: str | None = None) -> list[ShipmentRow]:
    return [ShipmentRow(s, HUBS.get(s.hub, s.hub), destination(s.destination_locode),
                        format_decimal(Decimal(s.quantity).normalize()),
                        status_label(s.status), s.status == "declared") for s in shipments]


@dataclass(frozen=True)
class HubView:
    row: HubRow
    hub: str
    destination: str
    quantity: str
    status: str


def hub_rows(rows_: Sequence[HubRow]) -> list[HubView]:
    return [HubView(r, HUBS.get(r.shipment.hub, r.shipment.hub),
                    destination(r.shipment.destination_locode),
                    quantity_text(r.shipment.quantity, r.batch.unit),
                    status_label(r.shipment.status)) for r in rows_]


def over_shipped(exc: OverCertifiedQuantity) -> str:
    return _("The batch's shipments may not exceed its certified quantity: %(left)s are left "
             "to ship.", left=quantity_text(exc.left, exc.unit))
