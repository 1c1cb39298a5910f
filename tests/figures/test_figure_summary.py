"""The figures' summary table (issue 17 §2): what the decisions add up incrementally equals a
rebuild from the base tables, the dashboard read from it equals the live queries, two
officers approving at once are both counted, and rejection reasons keep their writing.

The decisions are taken through ``review.services.decide`` on a clock the test moves (the
services' ``utcnow``), so approvals fall on both sides of WITA month boundaries.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from conftest import Client, World, batch_input
from registry.accounts.models import User
from registry.catalog import services as catalog
from registry.catalog.certification import Action, Status
from registry.catalog.models import Batch, Product
from registry.catalog.rules import ProductInput
from registry.clock import REGION_TZ, today
from registry.db import migrate
from registry.exceptions import Conflict, ValidationError
from registry.figures import queries, summary
from registry.figures.queries import Filters
from registry.printing import services as printing
from registry.review import services as review
from registry.verify.models import Scan

# Deliberately messy writings of two reasons: case, outer and inner spaces.
REASONS = ("Missing phytosanitary certificate", "missing PHYTOSANITARY  certificate",
           "Lab results expired", "lab results EXPIRED")
REGENCIES = ("52.04", "52.71", "53.09", "51.71")
DESTINATIONS = ("NL", "JP", "SG")


class Clock:
    """The services' 'now', moved by the test (aware UTC)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # 2026-03-31 20:00 WITA: the first steps cross into April (midnight WITA is 16:00 UTC).
    c = Clock(dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(review, "utcnow", c)
    monkeypatch.setattr(catalog, "utcnow", c)
    return c


def cells(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(
        select(*summary.cell_t.c).order_by(*[summary.cell_t.c[k] for k in summary.KEY]))]


def officer_for(world: World, batch: Batch) -> User:
    return {"51": world.officer_bali, "52": world.officer_ntb,
            "53": world.officer_ntt}[batch.origin_province_code]


def make_batches(world: World, rnd: random.Random, n: int) -> list[Batch]:
    s = world.session
    fish = catalog.create_product(s, world.exporter_a, ProductInput(
        name_id="Tuna", name_en="Tuna", category="fishery", hs_code="030342"))
    products: list[tuple[User, Product]] = [(world.exporter_a, world.product_a),
                                            (world.exporter_a, fish),
                                            (world.exporter_b, world.product_b)]
    batches = []
    for i in range(n):
        exporter, product = rnd.choice(products)
        unit, qty = rnd.choice((("kg", Decimal("1200.5")), ("t", Decimal("2.125")),
                                ("l", Decimal("300")), ("pcs", Decimal("40"))))
        batches.append(catalog.create_batch(s, exporter, batch_input(
            product, f"R-{i}", rnd.choice(REGENCIES), unit=unit, quantity=qty,
            destination_country=rnd.choice(DESTINATIONS),
            declared_value_idr=rnd.randrange(1, 900) * 1_000_000)))
    s.commit()
    return batches


def step(world: World, rnd: random.Random, batch: Batch) -> None:
    """One valid next step of ``batch``'s life, through the services."""
    s = world.session
    s.refresh(batch)
    status = Status(batch.status)
    exporter = world.exporter_a if batch.organisation_id == world.company_a.id \
        else world.exporter_b
    if status in (Status.DRAFT, Status.REJECTED):
        world.submit(batch, exporter)
        return
    action = rnd.choice({
        Status.SUBMITTED: (Action.APPROVE, Action.APPROVE, Action.REJECT),
        Status.APPROVED: (Action.SUSPEND, Action.REVOKE),
        Status.SUSPENDED: (Action.REINSTATE, Action.REVOKE),
    }.get(status, ()) or (None,))
    if action is None:  # revoked: final
        return
    kwargs: dict[str, Any] = {}
    if action is Action.APPROVE:
        kwargs["valid_until"] = today() + dt.timedelta(days=365)
    if action in (Action.REJECT, Action.SUSPEND, Action.REVOKE):
        kwargs["reason"] = rnd.choice(REASONS)
    review.decide(s, officer_for(world, batch), batch.id, action=action,
                  expected_version=batch.version, **kwargs)
    s.commit()


NET = {"kg": "1 kg", "t": "1 kg", "l": "1 l", "pcs": "1 pcs"}


def order_labels(world: World, rnd: random.Random, batch: Batch) -> None:
    s = world.session
    exporter = world.exporter_a if batch.organisation_id == world.company_a.id \
        else world.exporter_b
    try:
        printing.order_job(s, exporter, batch.id, printer_org_id=world.print_org.id,
                           stock="a4-3x7", quantity=rnd.randrange(1, 4),
                           net_quantity=NET[batch.unit])
    except (ValidationError, Conflict):  # e.g. suspended, or over the label bound: no job
        s.rollback()
        return
    s.commit()


def scan(world: World, rnd: random.Random, at: dt.datetime, batch: Batch | None) -> None:
    """A scan row as the verification's buffer writes it (in bulk, at its moment)."""
    s = world.session
    attributed = rnd.random() < 0.5
    s.add(Scan(created_at=at, batch_id=batch.id if batch else None, gtin="0" * 14,
               lot=batch.lot_code if batch else "FAKE", serial="1", serial_number=1,
               verdict=rnd.choice(("genuine", "genuine", "possible_copy")) if batch
               else "not_genuine",
               language=rnd.choice(("en", "id", "zh")), country=rnd.choice(("NL", "JP", None)),
               country_source=rnd.choice(("header", "language")), client="c" * 16,
               product_id=world.product_a.id if not batch and attributed else None,
               organisation_id=world.company_a.id if not batch and attributed else None,
               province_code="52" if not batch and attributed else None))
    s.commit()


def filter_sets() -> list[dict[str, Any]]:
    march, april, may = dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 5, 1)
    return [
        {"start": march, "end": march}, {"start": april, "end": april},
        {"start": march, "end": dt.date(2026, 6, 1)},
        {"start": march, "end": may, "province": "52"},
        {"start": march, "end": may, "category": "fishery"},
        {"start": march, "end": may, "destination": "NL"},
        {"start": april, "end": may, "category": "agriculture", "destination": "JP",
         "province": "53"},
        {"start": dt.date(2025, 1, 1), "end": dt.date(2026, 12, 1)},
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_cells_equal_a_rebuild_and_the_live_figures(
        world: World, db: Session, clock: Clock, seed: int) -> None:
    rnd = random.Random(seed)
    batches = make_batches(world, rnd, 14)
    for _ in range(90):
        # From minutes to two days a step: some decisions land minutes either side of
        # midnight WITA on the 1st (March → April → May).
        clock.now += dt.timedelta(minutes=rnd.choice((7, 50, 300, 1500, 2900)))
        batch = rnd.choice(batches)
        r = rnd.random()
        if r < 0.15:
            db.refresh(batch)
            if batch.status == "approved":
                order_labels(world, rnd, batch)
        elif r < 0.35:
            # Only a certified batch has labels to scan (its facts frozen since submission).
            db.refresh(batch)
            certified = batch.status in ("approved", "suspended", "revoked")
            scan(world, rnd, clock.now, batch if certified and rnd.random() < 0.8 else None)
        elif r < 0.4:
            summary.roll_up_scans(db)  # the worker's sweep (the test's scans are settled)
            db.commit()
        else:
            step(world, rnd, batch)
    scan(world, rnd, clock.now, None)  # one scan after the last roll-up: the live tail
    assert db.execute(select(func.count()).select_from(Scan).where(
        Scan.id > summary.scan_watermark(db))).scalar_one() >= 1
    for actor in (world.admin, world.officer_ntb, world.officer_ntt, world.exporter_a,
                  world.exporter_b):
        for f in filter_sets():
            filters = Filters(**f)
            assert queries.dashboard(db, actor, filters) == \
                queries.dashboard(db, actor, filters, live=True), (actor.email, f)
    whole = queries.dashboard(db, world.admin, Filters(start=dt.date(2026, 3, 1),
                                                       end=dt.date(2026, 6, 1)))
    assert whole.total.batches == sum(1 for b in batches if b.decided_at and b.status in
                                      ("approved", "suspended", "revoked"))
    assert {r.key for r in whole.by_month if r.batches} >= {"2026-04"}

    summary.roll_up_scans(db)
    incremental = cells(db)
    # The sequence exercised every kind of cell and moved batches between statuses.
    assert {c[0] for c in incremental} == {"rm", "cc", "d", "lt", "rej", "rr", "pj", "sco",
                                           "scl", "scv", "wm"}
    actions = set(db.execute(text("SELECT DISTINCT action FROM decision")).scalars())
    assert {"approve", "reject"} <= actions and actions & {"suspend", "revoke", "reinstate"}
    summary.rebuild(db)
    db.flush()
    rebuilt = cells(db)
    assert set(rebuilt) - set(incremental) == set() and set(incremental) - set(rebuilt) == set()
    assert rebuilt == incremental


def test_a_status_change_moves_the_batch_between_status_cells(
        world: World, db: Session, clock: Clock) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.submit(world.batch_b, world.exporter_b)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)  # 31 March, 20:00 WITA
    clock.now += dt.timedelta(hours=5)
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)  # 1 April, 01:00 WITA
    march = Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1))
    both = Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1))
    assert queries.dashboard(db, world.admin, march).current_status == {"approved": 1}
    clock.now += dt.timedelta(days=40)  # May: the batch still counts in its approval month
    world.decide(world.batch_a, world.officer_ntb, Action.SUSPEND)
    assert queries.dashboard(db, world.admin, march).current_status == {"suspended": 1}
    world.decide(world.batch_a, world.officer_ntb, Action.REVOKE)
    f = queries.dashboard(db, world.admin, both)
    assert f.current_status == {"revoked": 1, "approved": 1}
    assert [(r.key, r.batches) for r in f.by_month] == [("2026-03", 1), ("2026-04", 1)]
    assert f == queries.dashboard(db, world.admin, both, live=True)


def _approve_at_once(engine: Engine, officer_id: int, batch_ids: list[int]) -> list[BaseException]:
    """Each batch approved by its own thread and connection, released together."""
    barrier = threading.Barrier(len(batch_ids))
    errors: list[BaseException] = []

    def approve(batch_id: int) -> None:
        try:
            with Session(engine, expire_on_commit=False) as s:
                officer = s.get_one(User, officer_id)
                batch = s.get_one(Batch, batch_id)
                barrier.wait(timeout=10)
                review.decide(s, officer, batch_id, action=Action.APPROVE,
                              expected_version=batch.version,
                              valid_until=today() + dt.timedelta(days=365))
                s.commit()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(b,)) for b in batch_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_two_officers_approving_the_same_cell_at_once_are_both_counted(
        world: World, db: Session, engine: Engine) -> None:
    s = world.session
    second = catalog.create_batch(s, world.exporter_a, batch_input(
        world.product_a, "A-LOT-2", "52.04"))  # same regency, category, destination, month
    third = catalog.create_batch(s, world.exporter_a, batch_input(
        world.product_a, "A-LOT-3", "52.04"))
    s.commit()
    for b in (world.batch_a, second, third):
        world.submit(b, world.exporter_a)
    errors = _approve_at_once(engine, world.officer_ntb.id,
                              [world.batch_a.id, second.id, third.id])
    assert not errors, errors
    db.expire_all()
    now = dt.datetime.now(REGION_TZ).date().replace(day=1)
    f = queries.dashboard(db, world.admin, Filters(start=now, end=now))
    assert (f.total.batches, f.total.value_idr) == (3, 3 * 540_000_000)
    assert f.by_regency[0].key == "52.04" and f.by_regency[0].batches == 3
    incremental = cells(db)
    summary.rebuild(db)
    assert cells(db) == incremental
    db.rollback()


def test_two_workers_first_scan_roll_ups_at_once_count_each_scan_once(
        world: World, db: Session, engine: Engine) -> None:
    """Two workers' minute sweeps on a registry whose scans were never rolled up (no
    watermark row yet): both finish without an error and every scan counts once."""
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    rnd = random.Random(5)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    for _ in range(6):
        scan(world, rnd, past, world.batch_a)
    db.execute(summary.cell_t.delete().where(summary.cell_t.c.kind == "wm"))
    db.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    added: list[int] = []

    def roll_up() -> None:
        try:
            with Session(engine) as s:
                s.execute(select(func.count()).select_from(Scan)).scalar_one()
                barrier.wait(timeout=10)
                added.append(summary.roll_up_scans(s))
                s.commit()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=roll_up) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(added) == [0, 6]
    db.expire_all()
    month = dt.datetime.now(REGION_TZ).date().replace(day=1)
    f = queries.dashboard(db, world.admin, Filters(start=month.replace(
        year=month.year - 1), end=month))
    assert f.scans == 6
    assert f == queries.dashboard(db, world.admin, Filters(start=month.replace(
        year=month.year - 1), end=month), live=True)


def test_rejection_reasons_are_grouped_but_shown_as_written(
        world: World, db: Session, clock: Clock, make_client: Any) -> None:
    s = world.session
    lots = [catalog.create_batch(s, world.exporter_a, batch_input(
        world.product_a, f"A-REJ-{i}", "52.04")) for i in range(3)]
    s.commit()
    writings = ("Surat kesehatan ikan dari SKIPM belum dilampirkan",
                "surat  kesehatan ikan dari skipm belum DILAMPIRKAN",
                "Surat kesehatan ikan dari SKIPM belum dilampirkan")
    for batch, reason in zip(lots, writings, strict=True):
        clock.now += dt.timedelta(hours=1)
        world.submit(batch, world.exporter_a)
        world.decide(batch, world.officer_ntb, Action.REJECT, reason=reason)
    month = Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1))
    f = queries.dashboard(db, world.admin, month)
    # One group of three, in the latest writing: the acronym as the officer wrote it.
    assert f.common_reasons == [(writings[2], 3)]
    assert f == queries.dashboard(db, world.admin, month, live=True)

    admin = make_client()
    admin.login("admin@test.id")
    page = admin.get("/figures/?from_month=2026-03&to_month=2026-04").get_data(as_text=True)
    assert "Surat kesehatan ikan dari SKIPM belum dilampirkan" in page
    assert "surat kesehatan ikan dari skipm" not in page  # no lower-cased key shown


def test_rebuild_command_restores_cells_after_a_repair(
        world: World, db: Session, app: Any) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    before = cells(db)
    db.execute(text("DELETE FROM figure_cell"))
    db.commit()
    result = app.test_cli_runner().invoke(args=["figures", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "cells" in result.output
    db.expire_all()
    assert cells(db) == before


def test_exporters_read_only_their_company_cells(world: World, db: Session, clock: Clock,
                                                client: Client) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.submit(world.batch_b, world.exporter_b)
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)
    month = Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1))
    assert queries.dashboard(db, world.exporter_a, month).total.batches == 1
    assert queries.dashboard(db, world.admin, month).total.batches == 2
    # What the exporter reads are company A's cells, not the base tables nor B's cells.
    db.execute(summary.cell_t.delete().where(summary.cell_t.c.org == str(world.company_a.id)))
    assert queries.dashboard(db, world.exporter_a, month).total.batches == 0
    assert queries.dashboard(db, world.exporter_a, month, live=True).total.batches == 1
    assert queries.dashboard(db, world.exporter_b, month).total.batches == 1
    assert queries.dashboard(db, world.admin, month).total.batches == 2


def test_migration_0026_moves_the_cells_to_companies_and_back(
        world: World, db: Session, clock: Clock, app: Any) -> None:
    """Upgraded, the cells are those a rebuild writes (each company's and all companies');
    downgraded, 0023's table keeps the all-companies cells."""
    rnd = random.Random(7)
    batches = make_batches(world, rnd, 6)
    for _ in range(30):
        clock.now += dt.timedelta(minutes=rnd.choice((50, 1500)))
        step(world, rnd, rnd.choice(batches))
    before = cells(db)
    assert {c[1] for c in before} >= {"*", str(world.company_a.id), str(world.company_b.id)}
    db.close()
    url = app.config["DATABASE_URL"]
    migrate.downgrade(url, "0025")
    with Session(db.get_bind()) as s:
        old = sorted(tuple(r) for r in s.execute(text(
            "SELECT kind, category, destination, month, province, k1, k2, k3, unit, batches "
            "FROM figure_cell")))
    assert old == sorted(c[:1] + c[2:11] for c in before if c[1] in ("*", ""))
    migrate.upgrade(url, "head")
    db.expire_all()
    assert cells(db) == before
