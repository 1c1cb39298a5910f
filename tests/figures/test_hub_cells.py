"""The dashboard's "Through the Bali hub" figures from the summary cells (kind ``hp``): what
``shipments.services.confirm`` adds equals the live figures and a rebuild, for every kind
of reader and filter; declared, refused and cancelled shipments never count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlmodel import Session

from conftest import World
from registry.catalog.certification import Action
from registry.clock import today
from registry.figures import queries, summary
from registry.figures.queries import Filters
from registry.shipments import services as shipments
from registry.shipments.rules import ShipmentInput
from tests.figures.test_figure_summary import cells


def _declare(world: World, batch_id: int, exporter: object, hub: str, quantity: str) -> int:
    sea = hub != "ngurah-rai"
    shipment = shipments.declare(world.session, exporter, batch_id, ShipmentInput(  # type: ignore[arg-type]
        hub=hub, planned_date=today() + dt.timedelta(days=4), peb_number="012345",
        peb_date=today() - dt.timedelta(days=5),
        transport_document="MAEU123456789" if sea else "126-12345675",
        containers=("CSQU3054383",) if sea else (),
        destination_locode="NLRTM" if sea else "NLAMS", quantity=Decimal(quantity)))
    world.session.commit()
    return shipment.id


def test_hub_cells_equal_the_live_figures_and_a_rebuild(world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.submit(world.batch_b, world.exporter_b)
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)
    a, b = world.batch_a.id, world.batch_b.id
    declared = [_declare(world, a, world.exporter_a, "benoa", "100"),
                _declare(world, a, world.exporter_a, "ngurah-rai", "100"),
                _declare(world, a, world.exporter_a, "benoa", "100"),
                _declare(world, b, world.exporter_b, "benoa", "100"),
                _declare(world, b, world.exporter_b, "ngurah-rai", "100")]
    for shipment_id, back in zip(declared[:4], (0, 1, 3, 2), strict=True):
        shipments.confirm(db, world.officer_bali, shipment_id,
                          passage_date=today() - dt.timedelta(days=back))
        db.commit()
    shipments.refuse(db, world.officer_bali, declared[4], reason="Dokumen PEB tidak cocok")
    db.commit()

    month = today().replace(day=1)
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    filter_sets = [Filters(start=month, end=month), Filters(start=previous, end=month),
                   Filters(start=previous, end=month, province="52"),
                   Filters(start=previous, end=month, destination="NL"),
                   Filters(start=previous, end=month, category="agriculture"),
                   Filters(start=previous, end=month, destination="JP"),
                   Filters(start=dt.date(2020, 1, 1), end=dt.date(2020, 1, 1))]
    readers = (world.admin, world.officer_bali, world.officer_ntb, world.officer_ntt,
               world.exporter_a, world.exporter_b)
    for reader in readers:
        for f in filter_sets:
            assert queries.hub_figures(db, reader, f) == \
                queries.hub_figures(db, reader, f, live=True), (reader.email, f)
    # What the admin reads for the period holding every passage: three through Benoa, one
    # through Ngurah Rai (the refused one is not counted).
    whole = {h.hub: h for h in queries.hub_figures(db, world.admin, filter_sets[1])}
    assert (whole["benoa"].shipments, whole["ngurah-rai"].shipments) == (3, 1)
    assert whole["celukan-bawang"].shipments == 0 and whole["celukan-bawang"].median_days is None
    mine = {h.hub: h.shipments for h in queries.hub_figures(db, world.exporter_b, filter_sets[1])}
    assert mine == {"benoa": 1, "ngurah-rai": 0, "celukan-bawang": 0}

    incremental = cells(db)
    assert any(c[0] == "hp" for c in incremental)
    summary.rebuild(db)
    db.flush()
    assert cells(db) == incremental
    db.rollback()


def test_the_median_is_statistics_median() -> None:
    import statistics

    for values in ([3], [1, 2], [5, 1, 1, 9], [2, 2, 2, 7, 7, 40], [-1, 0, 0, 4, 100]):
        histogram: dict[int, int] = {}
        for v in values:
            histogram[v] = histogram.get(v, 0) + 1
        assert queries.median(histogram) == float(statistics.median(values)), values
