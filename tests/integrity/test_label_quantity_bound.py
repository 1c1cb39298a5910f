"""Issue 11 §4: labels bounded by what was certified.

A 1,240 kg batch once accepted orders for 100,165 labels of "1 kg". The sum over a batch's
jobs of labels × net content may not exceed the certified quantity plus the tolerance
(``LABEL_QUANTITY_TOLERANCE_PERCENT``, default 2 %) plus what an officer of the batch's
province allowed; from the web form and the API alike, and under parallel orders.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from conftest import Client, World, batch_input
from registry.accounts.models import User
from registry.api import tokens
from registry.audit.models import AuditEvent
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.exceptions import ValidationError
from registry.printing import services as printing
from registry.printing.models import PrintJob, SerialCounter


def _certified(world: World, quantity: str = "1240", unit: str = "kg") -> Batch:
    catalog.update_batch(world.session, world.exporter_a, world.batch_a.id, batch_input(
        world.product_a, "A-LOT-1", "52.04", quantity=Decimal(quantity), unit=unit))
    world.session.commit()
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    return world.batch_a


def _order(client: Client, world: World, batch: Batch, quantity: int, net: str) -> Any:
    return client.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "a4-3x7", "quantity": str(quantity),
        "net_quantity": net})


def _labelled(db: Session, batch: Batch) -> list[tuple[int, str]]:
    db.expire_all()
    return [(j.quantity, j.net_quantity) for j in db.exec(
        select(PrintJob).where(PrintJob.batch_id == batch.id).order_by(PrintJob.id)).all()]


def test_orders_beyond_the_certified_quantity_are_refused(client: Client, world: World,
                                                          db: Session) -> None:
    batch = _certified(world)
    client.login("a@test.id")
    # Today's reproduction: 100,000 + 165 labels of 1 kg on 1,240 kg.
    first = _order(client, world, batch, 100_000, "1 kg")
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "1,264.8" in page and "100,000" in page  # allowed, this order
    assert _order(client, world, batch, 165, "1 kg").status_code == 302
    refused = _order(client, world, batch, 1_100, "1 kg")
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    for number in ("165", "1,100", "1,264.8"):  # ordered already, this order, allowed
        assert number in page
    assert _labelled(db, batch) == [(165, "1 kg")]
    # Nothing of a refused order stays behind: the serials go on from the accepted job.
    assert db.get(SerialCounter, batch.id).next_serial == 166
    # Up to the tolerance exactly: 1,240 kg × 1.02 = 1,264.8 kg.
    assert _order(client, world, batch, 2_199, "500 g").status_code == 302  # 1,264.5 kg
    assert _order(client, world, batch, 1, "500 g").status_code == 200  # 1,265 > 1,264.8
    assert sum(n * (0.5 if net == "500 g" else 1) for n, net in _labelled(db, batch)) == 1264.5


def test_exact_bound_with_tolerance(client: Client, world: World, db: Session) -> None:
    batch = _certified(world, "1000")
    client.login("a@test.id")
    assert _order(client, world, batch, 1020, "1 kg").status_code == 302  # 1,000 kg + 2 %
    refused = _order(client, world, batch, 1, "1 g")
    assert refused.status_code == 200 and "1,020" in refused.get_data(as_text=True)
    assert _labelled(db, batch) == [(1020, "1 kg")]


def test_the_tolerance_is_a_setting(app: Flask, client: Client, world: World,
                                    db: Session) -> None:
    app.config["LABEL_QUANTITY_TOLERANCE_PERCENT"] = 0
    batch = _certified(world, "1000")
    client.login("a@test.id")
    assert _order(client, world, batch, 1001, "1 kg").status_code == 200
    assert _order(client, world, batch, 1000, "1 kg").status_code == 302


@pytest.mark.parametrize(("unit", "net", "ok"), [
    ("kg", "1 l", False), ("kg", "1 pcs", False), ("pcs", "1 kg", False),
    ("l", "250 g", False), ("head", "1 pcs", False), ("t", "25 kg", True), ("l", "500 ml", True),
    ("pcs", "12 pcs", True), ("head", "1 head", True), ("kg", "1.5 pcs", False),
])
def test_net_content_must_be_comparable_with_the_batch_unit(
        client: Client, world: World, db: Session, unit: str, net: str, ok: bool) -> None:
    batch = _certified(world, "100", unit)
    client.login("a@test.id")
    response = _order(client, world, batch, 1, net)
    assert response.status_code == (302 if ok else 200), net
    if not ok:
        assert "net quantity" in response.get_data(as_text=True).lower()
        assert _labelled(db, batch) == []


def test_indonesian_form_message(client: Client, world: World) -> None:
    batch = _certified(world)
    client.login("a@test.id")
    client.get(f"/batches/{batch.id}/labels?lang=id")
    page = _order(client, world, batch, 2_000, "1 kg").get_data(as_text=True)
    assert "1.264,8" in page and "2.000" in page and "sudah dipesan" in page


def test_api_answers_a_problem_with_the_numbers(app: Flask, world: World, db: Session) -> None:
    batch = _certified(world)
    secret = tokens.create_token(db, world.exporter_a, name="ERP", access="write").secret
    db.commit()
    http = app.test_client()
    order = {"printer_org_id": world.print_org.id, "stock": "a4-3x7", "quantity": 100_000,
             "net_quantity": "1 kg"}
    auth = {"Authorization": f"Bearer {secret}"}
    response = http.post(f"/api/v1/batches/{batch.id}/print-jobs", json=order, headers=auth)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["codes"] == {"quantity": "over_certified_quantity"}
    assert "1,264.8" in body["detail"] and "100,000" in body["detail"]
    assert body["labelled"] == {"ordered": "0", "this_order": "100000", "allowed": "1264.8",
                                "unit": "kg"}
    indonesian = http.post(f"/api/v1/batches/{batch.id}/print-jobs", json=order,
                           headers={**auth, "Accept-Language": "id"})
    assert indonesian.status_code == 422 and "1.264,8" in indonesian.get_json()["detail"]
    bad_unit = http.post(f"/api/v1/batches/{batch.id}/print-jobs",
                         json={**order, "quantity": 1, "net_quantity": "1 l"}, headers=auth)
    assert bad_unit.status_code == 422
    assert bad_unit.get_json()["codes"] == {"net_quantity": "incomparable_unit"}
    assert _labelled(db, batch) == []


def test_officer_of_the_province_raises_the_allowance(client: Client, make_client: Any,
                                                      world: World, db: Session) -> None:
    batch = _certified(world)
    client.login("a@test.id")
    assert _order(client, world, batch, 1_264, "1 kg").status_code == 302
    assert _order(client, world, batch, 100, "1 kg").status_code == 200
    url = f"/review/batches/{batch.id}/label-allowance"
    other = make_client()
    other.login("officer.ntt@test.id")
    assert other.post(url, {"amount": "100", "reason": "x"},
                      token_from=f"/batches/{world.batch_b.id}").status_code in (403, 404)
    officer = make_client()
    officer.login("officer.ntb@test.id")
    review = f"/review/batches/{batch.id}"
    no_reason = officer.post(url, {"amount": "100", "reason": ""}, token_from=review)
    assert no_reason.status_code == 422
    assert db.exec(select(AuditEvent).where(
        AuditEvent.action == "batch.label_allowance")).all() == []
    granted = officer.post(url, {"amount": "100", "reason": "Second harvest weighed in"},
                           token_from=review)
    assert granted.status_code == 302
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "batch.label_allowance")).one()
    assert event.object_id == str(batch.id)
    assert "Second harvest weighed in" in officer.get(review).get_data(as_text=True)
    assert "Second harvest weighed in" in client.get(f"/batches/{batch.id}").get_data(
        as_text=True)
    assert _order(client, world, batch, 100, "1 kg").status_code == 302
    assert _order(client, world, batch, 1, "1 kg").status_code == 200  # 1,364.8 kg reached
    assert [n for n, _ in _labelled(db, batch)] == [1_264, 100]


def test_reprints_do_not_count(client: Client, make_client: Any, world: World,
                               db: Session) -> None:
    batch = _certified(world)
    client.login("a@test.id")
    assert _order(client, world, batch, 1_260, "1 kg").status_code == 302
    printer = make_client()
    printer.login("printer@test.id")
    job = db.exec(select(PrintJob)).one()
    reprint = printer.post(f"/print-shop/jobs/{job.id}/reprint",
                           {"sheet_first": "1", "sheet_last": "2", "reason": "jammed"})
    assert reprint.status_code == 200
    assert _order(client, world, batch, 4, "1 kg").status_code == 302  # 1,264 ≤ 1,264.8


def test_parallel_orders_never_exceed_the_bound(app: Flask, world: World, db: Session) -> None:
    """Six exporters' sessions order 300 kg each at once on 1,240 kg (+2 %): four fit."""
    batch = _certified(world)
    barrier = threading.Barrier(6, timeout=30)
    accepted: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def order(n: int) -> None:
        try:
            with Session(app.extensions["engine"], expire_on_commit=False) as session:
                exporter = session.get(User, world.exporter_a.id)
                barrier.wait()
                try:
                    with app.test_request_context():
                        printing.order_job(session, exporter, batch.id,
                                           printer_org_id=world.print_org.id, stock="a4-3x7",
                                           quantity=300, net_quantity="1 kg")
                    session.commit()
                    accepted.append(n)
                except ValidationError:
                    session.rollback()
                    refused.append(n)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=order, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert (len(accepted), len(refused)) == (4, 2)
    jobs = _labelled(db, batch)
    assert sum(n for n, _ in jobs) == 1_200
    ranges = sorted((j.serial_first, j.serial_last) for j in db.exec(select(PrintJob)).all())
    assert ranges == [(1, 300), (301, 600), (601, 900), (901, 1200)]
