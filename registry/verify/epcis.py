"""A decided lot's journey as GS1 EPCIS 2.0 events (JSON-LD): what the verification page's
timeline tells, for supply-chain systems. No Flask: the session and the public base URL.

Events (CBV 2.0 business steps), each an ObjectEvent about the lot as a class (an LGTIN,
the lot's GS1 Digital Link URI on ``PUBLIC_HOST``) with its quantity in UN/CEFACT units:

- ``commissioning`` (action ADD): the lot came into being, harvested or produced, at its
  regency, on its production date;
- ``inspecting`` (OBSERVE): the trade office of the origin province certified it
  (disposition ``conformant``), at the moment of the approval;
- ``departing`` (OBSERVE) for each shipment the Bali office confirmed: it passed the hub on
  the recorded day (disposition ``in_transit``), bound for its port (a destination).

Locations are the registry's own URIs (``{base}/locations/...``): regencies by their
Kemendagri code, offices by province, hubs by the registry's id. A day without a moment (the
production date, a passage's day) is its start in WITA; ``recordTime`` says when the registry
recorded the fact. Valid against GS1's EPCIS 2.0 JSON schema (tests/verify/test_journey.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from registry.accounts.models import Organisation
from registry.catalog.models import Batch
from registry.clock import REGION_TZ, utcnow
from registry.gs1 import digital_link as gs1
from registry.review.models import Decision, of_batch
from registry.shipments.models import Shipment
from registry.shipments.rules import ShipmentStatus
from registry.verify.walkup import PUBLIC

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
OFFSET = "+08:00"  # WITA, where the three provinces are
# UN/CEFACT Recommendation 20 codes of the batch units.
UOM = {"kg": "KGM", "t": "TNE", "l": "LTR", "pcs": "H87", "head": "H87"}


def _moment(value: dt.datetime) -> str:
    return value.astimezone(REGION_TZ).isoformat(timespec="seconds")


def _day(value: dt.date) -> str:
    return dt.datetime.combine(value, dt.time.min, tzinfo=REGION_TZ).isoformat()


def _quantity(lgtin: str, quantity: Decimal, unit: str) -> list[dict[str, Any]]:
    amount = Decimal(quantity).normalize()
    return [{"epcClass": lgtin, "quantity": float(amount), "uom": UOM.get(unit, "H87")}]


def lot_document(session: Session, gtin: str, lot: str, *, base: str) -> dict[str, Any] | None:
    """The EPCIS document of a decided lot (approved, suspended or revoked), or None."""
    batch = session.exec(
        select(Batch).where(Batch.gtin == gtin, Batch.lot_code == lot,
                            col(Batch.status).in_(PUBLIC))
        .order_by(col(Batch.id))).first()
    if batch is None:
        return None
    lgtin = base + gs1.lot_path(gtin, lot)
    locations = base + "/locations"
    events: list[dict[str, Any]] = [{
        "type": "ObjectEvent", "eventID": f"{lgtin}#commissioning",
        "eventTime": _day(batch.production_date), "eventTimeZoneOffset": OFFSET,
        "recordTime": _moment(batch.submitted_at or batch.created_at),
        "action": "ADD", "bizStep": "commissioning", "disposition": "active",
        "quantityList": _quantity(lgtin, batch.quantity, batch.unit),
        "readPoint": {"id": f"{locations}/regencies/{batch.origin_regency_code}"},
        "bizLocation": {"id": f"{locations}/regencies/{batch.origin_regency_code}"},
    }]
    approvals = session.exec(
        select(Decision, Organisation.province_code)
        .join(Organisation, col(Organisation.id) == Decision.office_id)
        .where(of_batch(batch.id, "approve"))
        .order_by(col(Decision.created_at), col(Decision.id))).all()
    for decision, province in approvals:
        office = f"{locations}/offices/{province or batch.origin_province_code}"
        events.append({
            "type": "ObjectEvent", "eventID": f"{lgtin}#certified-{decision.id}",
            "eventTime": _moment(decision.created_at), "eventTimeZoneOffset": OFFSET,
            "recordTime": _moment(decision.created_at),
            "action": "OBSERVE", "bizStep": "inspecting", "disposition": "conformant",
            "quantityList": _quantity(lgtin, batch.quantity, batch.unit),
            "readPoint": {"id": office}, "bizLocation": {"id": office},
        })
    passages = session.exec(
        select(Shipment).where(Shipment.batch_id == batch.id,
                               Shipment.status == ShipmentStatus.CONFIRMED)
        .order_by(col(Shipment.passage_date), col(Shipment.id))).all()
    for shipment in passages:
        hub = f"{locations}/hubs/{shipment.hub}"
        assert shipment.passage_date is not None and shipment.decided_at is not None
        events.append({
            "type": "ObjectEvent", "eventID": f"{lgtin}#shipment-{shipment.id}",
            "eventTime": _day(shipment.passage_date), "eventTimeZoneOffset": OFFSET,
            "recordTime": _moment(shipment.decided_at),
            "action": "OBSERVE", "bizStep": "departing", "disposition": "in_transit",
            "quantityList": _quantity(lgtin, shipment.quantity, batch.unit),
            "readPoint": {"id": hub}, "bizLocation": {"id": hub},
            "destinationList": [{"type": "location", "destination":
                                 f"{locations}/ports/{shipment.destination_locode}"}],
        })
    return {
        "@context": [CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": _moment(utcnow()),
        "epcisBody": {"eventList": events},
    }
