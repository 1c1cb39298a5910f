"""The hub events in the web audit log (issue 18 §1). The origin office reads its batches'
hub events ("the batch's origin office sees it"): the shipment's declaration and the Bali
office's confirmation or refusal of its passage, though a Bali officer acted. The Bali office
reads what its own officers did, its passage decisions on NTB and NTT batches included, and
nothing else of those batches. The third office reads neither. Through the Flask client and
the listing service, both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlmodel import Session

from conftest import Client, World
from registry.accounts.models import Role, User
from registry.audit import listing
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.clock import today
from registry.db.paging import Window
from registry.shipments import services as shipments
from registry.shipments.rules import ShipmentInput


def _declare(db: Session, world: World, exporter: User | None = None,
             batch: Batch | None = None) -> int:
    exporter, batch = exporter or world.exporter_a, batch or world.batch_a
    shipment = shipments.declare(db, exporter, batch.id, ShipmentInput(
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


def _bali_decides_an_ntb_and_an_ntt_passage(db: Session, world: World) -> None:
    world.submit(world.batch_a, world.exporter_a)  # NTB origin
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.submit(world.batch_b, world.exporter_b)  # NTT origin
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)
    ntb_passage, ntt_passage = _declare(db, world), _declare(db, world, world.exporter_b,
                                                             world.batch_b)
    shipments.confirm(db, world.officer_bali, ntb_passage, passage_date=today(),
                      remarks="NTB seals intact")
    shipments.refuse(db, world.officer_bali, ntt_passage, reason="NTT seal number differs")
    db.commit()


def test_the_hub_office_reads_the_passages_its_officers_decided(
        db: Session, world: World, make_client: object) -> None:
    _bali_decides_an_ntb_and_an_ntt_passage(db, world)
    # Another officer of the Bali office: the office reads its officers' events, not only
    # the one who acted.
    world._user("officer2.bali@test.id", Role.OFFICER, world.offices["51"])
    db.commit()
    for email in ("officer.bali@test.id", "officer2.bali@test.id"):
        bali = signed_in(make_client, email)
        page = bali.get("/audit?lang=en").get_data(as_text=True)
        assert "NTB seals intact" in page and "NTT seal number differs" in page, email
        a = bali.get(f"/audit?lang=en&object_type=batch&object_id={world.batch_a.id}")
        assert "NTB seals intact" in a.get_data(as_text=True)
        # Only its own officers' events of those batches: not the origin office's approval,
        # nor the exporter's declaration (the origin office's log has them).
        assert "officer.ntb@test.id" not in a.get_data(as_text=True)
        assert "a@test.id" not in a.get_data(as_text=True)
        confirmed = bali.get("/audit?lang=en&action=shipment.confirm").get_data(as_text=True)
        assert "No events match." not in confirmed and "NTB seals intact" in confirmed

    # The listing service, counted and cut in SQL: the two decisions are in the office's
    # total, and a page of one still pages through them.
    scope = listing.scope_for(db, world.officer_bali)
    hub = listing.LogFilter(object_type="batch")
    page = listing.event_page(db, scope, hub, Window(1, 1))
    assert page.total == 2 and len(page.items) == 1
    everything = listing.event_page(db, scope, hub, Window(1, 100)).items
    assert {(e.action, e.object_id) for e in everything} == {
        ("shipment.confirm", str(world.batch_a.id)),
        ("shipment.refuse", str(world.batch_b.id))}


def test_another_office_never_reads_the_hub_offices_events_on_batches_not_its_own(
        db: Session, world: World, make_client: object) -> None:
    _bali_decides_an_ntb_and_an_ntt_passage(db, world)
    ntb = signed_in(make_client, "officer.ntb@test.id").get("/audit?lang=en")
    ntt = signed_in(make_client, "officer.ntt@test.id").get("/audit?lang=en")
    # Each origin office reads the decision on its own batch, never the other's.
    assert "NTB seals intact" in ntb.get_data(as_text=True)
    assert "NTT seal number differs" not in ntb.get_data(as_text=True)
    assert "NTT seal number differs" in ntt.get_data(as_text=True)
    assert "NTB seals intact" not in ntt.get_data(as_text=True)
    for office in (world.officer_ntb, world.officer_ntt):
        seen = listing.event_page(db, listing.scope_for(db, office), listing.LogFilter(),
                                  Window(1, 1000)).items
        own = str(world.batch_a.id if office is world.officer_ntb else world.batch_b.id)
        assert {e.object_id for e in seen if e.actor_id == world.officer_bali.id} == {own}
