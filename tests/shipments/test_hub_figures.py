"""The figures' hub table: passages confirmed per hub in the period and the median days from
certification to the passage; an exporter counts only its own company's."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

from sqlmodel import Session

from conftest import Client, World
from registry.accounts.models import User
from registry.catalog.certification import Action
from registry.clock import today
from registry.shipments import services as shipments
from registry.shipments.rules import ShipmentInput


def _ship(world: World, db: Session, batch_id: int, exporter: User, *, hub: str,
          locode: str, passage: dt.date | None) -> None:
    air = hub == "ngurah-rai"
    shipment = shipments.declare(db, exporter, batch_id, ShipmentInput(
        hub=hub, planned_date=today(), peb_number="012345",
        peb_date=passage or today(),
        transport_document="020-12345675" if air else "MAEU123456789", containers=(),
        destination_locode=locode, quantity=Decimal("10")))
    db.commit()
    if passage is not None:
        shipments.confirm(db, world.officer_bali, shipment.id, passage_date=passage)
        db.commit()


def _row(page: str, hub: str) -> list[str]:
    row = re.search(rf"<tr><td>{re.escape(hub)}</td>(.*?)</tr>", page)
    assert row, hub
    return re.findall(r'<td class="num">(.*?)</td>', row.group(1))


def test_hub_table(world: World, db: Session, make_client: Callable[[], Client]) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.submit(world.batch_b, world.exporter_b)
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)
    # Certified today: passages today (0 days) and a waiting one that does not count.
    _ship(world, db, world.batch_a.id, world.exporter_a, hub="benoa", locode="NLRTM",
          passage=today())
    _ship(world, db, world.batch_a.id, world.exporter_a, hub="benoa", locode="NLRTM",
          passage=today())
    _ship(world, db, world.batch_a.id, world.exporter_a, hub="ngurah-rai", locode="NLAMS",
          passage=None)
    _ship(world, db, world.batch_b.id, world.exporter_b, hub="ngurah-rai", locode="NLAMS",
          passage=today())
    admin = make_client()
    admin.login("admin@test.id")
    page = admin.get("/figures/?lang=en").get_data(as_text=True)
    assert "Through the Bali hub" in page
    assert _row(page, "Pelabuhan Benoa (IDBOA)") == ["2", "0"]
    assert _row(page, "Bandara I Gusti Ngurah Rai (DPS)") == ["1", "0"]
    assert _row(page, "Pelabuhan Celukan Bawang") == ["0", "—"]
    exporter = make_client()
    exporter.login("b@test.id")
    page = exporter.get("/figures/?lang=id").get_data(as_text=True)
    assert "Melalui hub Bali" in page
    assert _row(page, "Pelabuhan Benoa (IDBOA)") == ["0", "—"]
    assert _row(page, "Bandara I Gusti Ngurah Rai (DPS)") == ["1", "0"]
