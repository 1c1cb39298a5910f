"""Shipments of certified batches through the Bali hub: declared by the exporter, confirmed or
refused by the Bali trade office. Services take the session and the acting user, flush, never
commit; every change writes its audit event in the same transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from registry.accounts.models import Organisation, Role, User
from registry.accounts.services import officer_province
from registry.audit import services as audit
from registry.audit.tags import EventTag, ObjectType
from registry.catalog.certification import Status, may_issue_labels
from registry.catalog.models import Batch
from registry.catalog.services import get_batch
from registry.clock import today, utcnow
from registry.db import fetch_page
from registry.db.paging import Page, Window
from registry.exceptions import Conflict, Forbidden, NotFound, ValidationError
from registry.figures import summary as figures_summary
from registry.notifications import services as notifications
from registry.reference import HUB_MODES, locodes
from registry.shipments.models import Shipment
from registry.shipments.rules import (
    HOLDING,
    MAX_REASON,
    Destination,
    ShipmentInput,
    ShipmentStatus,
    fits,
    may_decide,
    may_decide_passage,
    normal_awb,
    normal_bill_of_lading,
    normal_container,
    remaining,
    shipment_problems,
)


class OverCertifiedQuantity(ValidationError):
    """The shipment would take the batch's shipments past its certified quantity."""

    def __init__(self, left: Decimal, unit: str) -> None:
        super().__init__("the batch's shipments may not exceed its certified quantity",
                         fields={"quantity": "over_shipped"},
                         extra={"remaining": format(left.normalize(), "f"), "unit": unit})
        self.left = left
        self.unit = unit


@cache
def destinations() -> dict[str, Destination]:
    """What the rules need of each UN/LOCODE place, built once a process (25,000 places)."""
    return {code: Destination(place.country, place.is_port, place.is_airport)
            for code, place in locodes().items()}


def lock_batch(session: Session, batch_id: int) -> None:
    """Take the batch's row for the rest of the transaction without changing it: a no-op
    UPDATE locks the row on PostgreSQL and takes SQLite's single write lock, so the
    shipments this transaction reads next no concurrent declaration can change."""
    session.exec(update(Batch).where(col(Batch.id) == batch_id)
                 .values(version=Batch.version))


def holding_quantities(session: Session, batch_id: int) -> list[Decimal]:
    return [Decimal(q) for q in session.exec(
        select(col(Shipment.quantity)).where(Shipment.batch_id == batch_id,
                                        col(Shipment.status).in_(HOLDING))).all()]


def can_ship(batch: Batch) -> bool:
    """Only a certified batch within its validity (not suspended, revoked or expired)."""
    return may_issue_labels(Status(batch.status), batch.valid_until, today())


def left_to_ship(session: Session, batch: Batch) -> Decimal:
    return remaining(Decimal(batch.quantity), holding_quantities(session, batch.id))


def declare(session: Session, actor: User, batch_id: int, data: ShipmentInput) -> Shipment:
    """Declare a shipment of the exporter's certified batch. The quantity bound is checked
    under the batch's row lock, so two declarations at once cannot both pass it."""
    if actor.role != Role.EXPORTER:
        raise Forbidden("only exporters declare shipments")
    batch = get_batch(session, actor, batch_id)  # another company's batch: NotFound
    if not can_ship(batch):
        raise Conflict("only certified batches within their validity can be shipped")
    problems = shipment_problems(data, today=today(), hub_modes=HUB_MODES,
                                 destination_country=batch.destination_country,
                                 locodes=destinations())
    if problems:
        raise ValidationError("invalid shipment", fields=problems)
    assert data.quantity is not None and data.planned_date is not None
    assert data.peb_date is not None
    lock_batch(session, batch.id)
    shipped = holding_quantities(session, batch.id)
    if not fits(Decimal(batch.quantity), shipped, data.quantity):
        raise OverCertifiedQuantity(remaining(Decimal(batch.quantity), shipped), batch.unit)
    document = data.transport_document.strip()
    document = (normal_awb(document) if HUB_MODES[data.hub] == "air" else None) or \
        normal_bill_of_lading(document)
    shipment = Shipment(
        batch_id=batch.id, organisation_id=batch.organisation_id, hub=data.hub,
        planned_date=data.planned_date, peb_number=data.peb_number.strip(),
        peb_date=data.peb_date, transport_document=document,
        containers=" ".join(normal_container(c) for c in data.containers if c.strip()),
        destination_locode=data.destination_locode.strip().upper().replace(" ", ""),
        quantity=data.quantity, status=ShipmentStatus.DECLARED, declared_by=actor.id,
    )
    session.add(shipment)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Shipment.DECLARE,
                 object_type=ObjectType.BATCH, object_id=batch.id,
                 after={"shipment_id": shipment.id, "hub": shipment.hub,
                        "planned_date": shipment.planned_date.isoformat(),
                        "peb": [shipment.peb_number, shipment.peb_date.isoformat()],
                        "transport_document": shipment.transport_document,
                        "containers": shipment.container_list,
                        "destination": shipment.destination_locode,
                        "quantity": format(Decimal(shipment.quantity).normalize(), "f")})
    return shipment


def cancel(session: Session, actor: User, batch_id: int, shipment_id: int) -> Shipment:
    """The exporter withdraws a shipment the hub has not decided on yet."""
    if actor.role != Role.EXPORTER:
        raise Forbidden("only exporters cancel their shipments")
    batch = get_batch(session, actor, batch_id)
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or shipment.batch_id != batch.id:
        raise NotFound("no such shipment")
    lock_batch(session, batch.id)
    session.refresh(shipment)
    if not may_decide(ShipmentStatus(shipment.status)):
        raise Conflict("only a declared shipment can be cancelled")
    shipment.status = ShipmentStatus.CANCELLED
    session.add(shipment)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Shipment.CANCEL,
                 object_type=ObjectType.BATCH, object_id=batch.id,
                 before={"shipment_id": shipment.id, "status": ShipmentStatus.DECLARED},
                 after={"shipment_id": shipment.id, "status": ShipmentStatus.CANCELLED})
    return shipment


def _require_hub_officer(session: Session, actor: User) -> None:
    if not may_decide_passage(actor.role, officer_province(session, actor)):
        raise Forbidden("only officers of the Bali trade office confirm hub passages")


def may_see_hub(session: Session, actor: User) -> bool:
    """The hub's queue: the Bali trade office (which decides) and the administrators."""
    return actor.role == Role.ADMIN or may_decide_passage(actor.role,
                                                         officer_province(session, actor))


def may_decide_here(session: Session, actor: User, shipment: Shipment) -> bool:
    """Whether the page offers ``actor`` the confirmation and refusal of ``shipment``."""
    return may_decide_passage(actor.role, officer_province(session, actor)) and \
        may_decide(ShipmentStatus(shipment.status))


@dataclass(frozen=True)
class HubRow:
    shipment: Shipment
    batch: Batch
    exporter: str


def _hub_statement(hub: str | None = None, origin: str | None = None) -> Any:
    """Declared shipments of every origin (or of one hub, one origin province), oldest
    declaration first; the id ends the order so pages neither repeat nor skip a row."""
    statement = (select(Shipment, Batch, Organisation.name)
                 .join(Batch, col(Batch.id) == Shipment.batch_id)
                 .join(Organisation, col(Organisation.id) == Shipment.organisation_id)
                 .where(Shipment.status == ShipmentStatus.DECLARED))
    if hub:
        statement = statement.where(Shipment.hub == hub)
    if origin:
        statement = statement.where(Batch.origin_province_code == origin)
    return statement.order_by(col(Shipment.declared_at), col(Shipment.id))


def hub_queue(session: Session, actor: User, *, limit: int = 200) -> list[HubRow]:
    """Declared shipments of every origin, oldest declaration first."""
    if not may_see_hub(session, actor):
        raise Forbidden("the hub's queue is the Bali trade office's")
    rows = session.exec(_hub_statement().limit(limit)).all()
    return [HubRow(s, b, name) for s, b, name in rows]


def hub_page(session: Session, actor: User, window: Window, *, hub: str | None = None,
             origin: str | None = None) -> Page[HubRow]:
    """One page of the hub's queue, counted and cut in SQL, within one hub and one origin
    province when given."""
    if not may_see_hub(session, actor):
        raise Forbidden("the hub's queue is the Bali trade office's")
    page = fetch_page(session, _hub_statement(hub, origin), window)
    return Page([HubRow(s, b, name) for s, b, name in page.items], page.total, page.window)


def hub_shipment(session: Session, actor: User, shipment_id: int) -> HubRow:
    if not may_see_hub(session, actor):
        raise Forbidden("the hub's shipments are the Bali trade office's")
    row = session.exec(
        select(Shipment, Batch, Organisation.name)
        .join(Batch, col(Batch.id) == Shipment.batch_id)
        .join(Organisation, col(Organisation.id) == Shipment.organisation_id)
        .where(Shipment.id == shipment_id)).first()
    if row is None:
        raise NotFound("no such shipment")
    return HubRow(*row)


def confirm(session: Session, actor: User, shipment_id: int, *, passage_date: dt.date | None,
            remarks: str = "") -> Shipment:
    """The Bali office confirms that the goods passed the hub on ``passage_date`` (WITA)."""
    _require_hub_officer(session, actor)
    problems: dict[str, str] = {}
    if passage_date is None:
        problems["passage_date"] = "required"
    elif passage_date > today():
        problems["passage_date"] = "future"
    if len(remarks) > MAX_REASON:
        problems["remarks"] = "too_long"
    shipment = _decidable(session, shipment_id)
    if passage_date is not None and passage_date < shipment.peb_date and not problems:
        problems["passage_date"] = "before_peb"
    if problems:
        raise ValidationError("invalid passage", fields=problems)
    assert passage_date is not None
    return _decide(session, actor, shipment, ShipmentStatus.CONFIRMED,
                   EventTag.Shipment.CONFIRM, passage_date=passage_date,
                   remarks=remarks.strip())


def refuse(session: Session, actor: User, shipment_id: int, *, reason: str) -> Shipment:
    """The Bali office refuses the passage; the reason is shown to the exporter and the
    origin office, and the quantity is free for another shipment."""
    _require_hub_officer(session, actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError("a refusal needs a reason", fields={"reason": "required"})
    if len(reason) > MAX_REASON:
        raise ValidationError("reason too long", fields={"reason": "too_long"})
    shipment = _decidable(session, shipment_id)
    return _decide(session, actor, shipment, ShipmentStatus.REFUSED, EventTag.Shipment.REFUSE,
                   reason=reason)


def _decidable(session: Session, shipment_id: int) -> Shipment:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound("no such shipment")
    lock_batch(session, shipment.batch_id)
    session.refresh(shipment)  # as it is now that this transaction holds the batch
    if not may_decide(ShipmentStatus(shipment.status)):
        raise Conflict("this shipment was already decided on or cancelled")
    return shipment


def _decide(session: Session, actor: User, shipment: Shipment, status: ShipmentStatus,
            tag: EventTag.Shipment, *, passage_date: dt.date | None = None, remarks: str = "",
            reason: str | None = None) -> Shipment:
    shipment.status = status
    shipment.decided_by = actor.id
    shipment.decided_at = utcnow()
    shipment.passage_date = passage_date
    shipment.remarks = remarks
    shipment.refusal_reason = reason
    session.add(shipment)
    session.flush()
    after: dict[str, object] = {"shipment_id": shipment.id, "status": status}
    if passage_date is not None:
        after.update(passage_date=passage_date.isoformat(), remarks=remarks)
    if reason is not None:
        after["reason"] = reason
    audit.record(session, actor=actor, action=tag, object_type=ObjectType.BATCH,
                 object_id=shipment.batch_id,
                 before={"shipment_id": shipment.id, "status": ShipmentStatus.DECLARED},
                 after=after)
    if status is ShipmentStatus.CONFIRMED and passage_date is not None:
        # The hub figures' cells, in this transaction (registry.figures.summary).
        figures_summary.record_passage(session, shipment.batch_id, shipment.hub, passage_date)
    notifications.passage_decided(session, session.get_one(Batch, shipment.batch_id),
                                  confirmed=status is ShipmentStatus.CONFIRMED, reason=reason)
    return shipment


def for_batch(session: Session, batch: Batch) -> list[Shipment]:
    """A batch's shipments, first declared first (the caller has checked access)."""
    return list(session.exec(select(Shipment).where(Shipment.batch_id == batch.id)
                             .order_by(col(Shipment.declared_at), col(Shipment.id))).all())
