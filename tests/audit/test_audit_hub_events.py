"""The origin office reads its batches' hub events in the web audit log (issue 18 §1: "the
batch's origin office sees it"): the shipment's declaration and the Bali office's confirmation
or refusal of its passage, though a Bali officer acted. The log is scoped by the object (the
batch and its origin province, ``registry.audit.listing``), never by who acted; this guards
that. Through the Flask client, both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlmodel import Session

from conftest import Client, World
from registry.catalog.certification import Action
from registry.clock import today
from registry.shipments import services as shipments
from registry.shipments.rules import ShipmentInput


def _declare(db: Session, world: World) -> int:
    shipment = shipments.declare(db, world.exporter_a, world.batch_a.id, ShipmentInput(
        hub="benoa", planned_date=today() + dt.timedelta(days=1), peb_number="012345",
        peb_date=today(), transport_document="MAEU123456789", containers=(),
        destination_locode="NLRTM", quantity=Decimal("10")))
    db.commit()
    return shipment.id  # type: ignore[return-value]


def signed_in(make_client: object, email: str) -> Client:
    client: Client = make_client()  # type: ignore[operator]
    client.login(email)
    return client


def test_the_origin_office_reads_its_batches_hub_events(
        db: Session, world: World, make_client: object) -> None:
    world.submit(world.batch_a, world.exporter_a)  # NTB origin
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    confirmed, refused = _declare(db, world), _declare(db, world)
    shipments.confirm(db, world.officer_bali, confirmed, passage_date=today(),
                      remarks="Seals intact")
    shipments.refuse(db, world.officer_bali, refused, reason="Seal number differs")
    db.commit()

    ntb = signed_in(make_client, "officer.ntb@test.id")
    page = ntb.get("/audit?lang=en").get_data(as_text=True)
    assert "officer.bali@test.id" in page
    assert page.count("a@test.id") >= 2  # both declarations
    assert "Seal number differs" in page
    by_bali = ntb.get("/audit?lang=en&actor=officer.bali@test.id").get_data(as_text=True)
    assert "No events match." not in by_bali and "Seals intact" in by_bali
    # Nor does the third office read them.
    ntt = signed_in(make_client, "officer.ntt@test.id")
    assert "officer.bali@test.id" not in ntt.get("/audit?lang=en").get_data(as_text=True)
