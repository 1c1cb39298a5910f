"""The Bali office's hub queue pages in SQL (registry.db.paging) and keeps its filters (hub,
origin province) in the pages' links, through the Flask client on both databases."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from sqlmodel import Session

from conftest import Client, World
from registry.accounts.models import User
from registry.catalog.certification import Action
from registry.clock import today
from registry.db.paging import PER_PAGE
from registry.shipments import services as shipments
from registry.shipments.rules import ShipmentInput


def _declare(db: Session, exporter: User, batch_id: int, *, air: bool, locode: str) -> None:
    shipments.declare(db, exporter, batch_id, ShipmentInput(
        hub="ngurah-rai" if air else "benoa", planned_date=today(), peb_number="012345",
        peb_date=today(), transport_document="020-12345675" if air else "MAEU123456789",
        containers=(), destination_locode=locode, quantity=Decimal("1")))


def _ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/hub/shipments/(\d+)"', page)]


def test_the_hub_queue_pages_and_keeps_its_filters(
        world: World, db: Session, make_client: Callable[[], Client]) -> None:
    world.submit(world.batch_a, world.exporter_a)  # NTB
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.submit(world.batch_b, world.exporter_b)  # NTT
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)
    assert world.batch_a.id is not None and world.batch_b.id is not None
    from_ntb = PER_PAGE + 5
    for _ in range(from_ntb):
        _declare(db, world.exporter_a, world.batch_a.id, air=False, locode="NLRTM")
    for _ in range(2):
        _declare(db, world.exporter_b, world.batch_b.id, air=True, locode="NLAMS")
    db.commit()
    bali = make_client()
    bali.login("officer.bali@test.id")

    first = bali.get("/hub/?lang=en").get_data(as_text=True)
    assert len(_ids(first)) == PER_PAGE and f"1–{PER_PAGE} of {from_ntb + 2}" in first
    second = bali.get("/hub/?page=2&lang=en").get_data(as_text=True)
    assert len(_ids(second)) == 7 and not set(_ids(first)) & set(_ids(second))

    # One origin province: counted in SQL, and the next page's link keeps the filter.
    ntb = bali.get("/hub/?origin=52&lang=en").get_data(as_text=True)
    assert f"1–{PER_PAGE} of {from_ntb}" in ntb and "B-LOT-1" not in ntb
    assert 'href="/hub/?page=2&amp;origin=52"' in ntb
    rest = bali.get("/hub/?page=2&origin=52&lang=en").get_data(as_text=True)
    assert len(_ids(rest)) == 5 and "B-LOT-1" not in rest
    assert 'href="/hub/?page=1&amp;origin=52"' in rest
    # One hub: the airport's two.
    airport = bali.get("/hub/?hub=ngurah-rai&lang=en").get_data(as_text=True)
    assert len(_ids(airport)) == 2 and "A-LOT-1" not in airport and 'rel="next"' not in airport
    both = bali.get("/hub/?hub=benoa&origin=53&lang=en").get_data(as_text=True)
    assert _ids(both) == [] and "No shipments wait for the hub." in both
    # Past the end (a bookmark of a longer queue): the last page, the filter kept.
    late = bali.get("/hub/?page=9&origin=52")
    assert late.status_code == 302 and late.headers["Location"].endswith("/hub/?origin=52&page=2")
    # A filter that names nothing is said on the form, and the whole queue is shown.
    odd = bali.get("/hub/?hub=nowhere&lang=en")
    assert odd.status_code == 200 and len(_ids(odd.get_data(as_text=True))) == PER_PAGE
