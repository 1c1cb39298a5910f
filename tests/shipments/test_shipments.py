"""Shipments through the Bali hub, through the Flask client on both databases: the exporter
declares, the Bali office confirms or refuses, the origin office reads; bad input is said on
the form and writes nothing; the certified quantity holds under parallel declarations."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlmodel import Session, select

from conftest import Client, Inbox, World, mail_text
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.clock import today
from registry.shipments.models import Shipment

FORM = {"hub": "benoa", "peb_number": "012345", "transport_document": "MAEU123456789",
        "containers": "CSQU3054383\nMSKU9070323", "destination_locode": "NLRTM",
        "quantity": "700"}


def form(**overrides: str) -> dict[str, str]:
    return {**FORM, "planned_date": (today() + dt.timedelta(days=4)).isoformat(),
            "peb_date": today().isoformat(), **overrides}


def certified(world: World) -> int:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    return world.batch_a.id  # type: ignore[return-value]


def signed_in(make_client: Callable[[], Client], email: str) -> Client:
    client = make_client()
    client.login(email)
    return client


def shipments(db: Session) -> list[Shipment]:
    db.expire_all()
    return list(db.exec(select(Shipment).order_by(Shipment.id)).all())


def test_declare_confirm_and_everyone_sees_it(world: World, db: Session,
                                             make_client: Callable[[], Client]) -> None:
    batch_id = certified(world)
    exporter = signed_in(make_client, "a@test.id")
    path = f"/batches/{batch_id}/shipments"
    page = exporter.get(path + "?lang=en").get_data(as_text=True)
    assert "Declare a shipment" in page and "/locodes?country=NL" in page
    answer = exporter.post(path + "?lang=en", form(destination_locode="nl rtm"),
                           token_from=path)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    [shipment] = shipments(db)
    assert (shipment.status, shipment.container_list, shipment.transport_document) == (
        "declared", ["CSQU3054383", "MSKU9070323"], "MAEU123456789")
    page = exporter.get(path + "?lang=en").get_data(as_text=True)
    assert "Declared, waiting for the hub" in page and "left to ship: 500 kg" in page
    assert shipment.destination_locode == "NLRTM" and "NLRTM – Rotterdam, Netherlands" in page

    bali = signed_in(make_client, "officer.bali@test.id")
    queue = bali.get("/hub/?lang=en").get_data(as_text=True)
    assert "A-LOT-1" in queue and "Company A" in queue and "Pelabuhan Benoa" in queue
    # An NTB batch: the Bali office confirms its passage but never decides its certification.
    assert bali.get(f"/review/batches/{batch_id}").status_code == 404
    hub_page = f"/hub/shipments/{shipment.id}"
    answer = bali.post(f"{hub_page}/confirm", {"passage_date": today().isoformat(),
                                               "remarks": "Seals intact"}, token_from=hub_page)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    [shipment] = shipments(db)
    assert (shipment.status, shipment.passage_date, shipment.remarks) == (
        "confirmed", today(), "Seals intact")
    assert "No shipments wait for the hub." in bali.get("/hub/?lang=en").get_data(as_text=True)

    # The origin office reads it on its batch page, in Indonesian too.
    ntb = signed_in(make_client, "officer.ntb@test.id")
    review = ntb.get(f"/review/batches/{batch_id}?lang=en").get_data(as_text=True)
    assert "Passed the hub" in review and "Seals intact" in review
    review_id = ntb.get(f"/review/batches/{batch_id}?lang=id").get_data(as_text=True)
    assert "Pengiriman" in review_id
    # A confirmed shipment can no longer be cancelled, nor decided again.
    answer = exporter.post(f"{path}/{shipment.id}/cancel", token_from=path)
    assert answer.status_code == 409
    answer = bali.post(f"{hub_page}/refuse", {"reason": "late"}, token_from="/hub/")
    assert answer.status_code == 409
    actions = [e.action for e in db.exec(select(AuditEvent).where(
        AuditEvent.object_type == "batch", AuditEvent.object_id == str(batch_id))).all()]
    assert "shipment.declare" in actions and "shipment.confirm" in actions


def test_refusal_frees_the_quantity_and_says_why(world: World, db: Session, inbox: Inbox,
                                                 make_client: Callable[[], Client]) -> None:
    batch_id = certified(world)
    exporter = signed_in(make_client, "a@test.id")
    path = f"/batches/{batch_id}/shipments"
    assert exporter.post(path, form(quantity="1200"), token_from=path).status_code == 302
    answer = exporter.post(path + "?lang=en", form(quantity="1"), token_from=path)
    assert answer.status_code == 422
    assert "left to ship: 0 kg" in answer.get_data(as_text=True) or \
        "0 kg are left to ship" in answer.get_data(as_text=True)
    [shipment] = shipments(db)
    bali = signed_in(make_client, "officer.bali@test.id")
    hub_page = f"/hub/shipments/{shipment.id}"
    empty = bali.post(f"{hub_page}/refuse?lang=en", {"reason": " "}, token_from=hub_page)
    assert empty.status_code == 422
    answer = bali.post(f"{hub_page}/refuse", {"reason": "Seal number differs"},
                       token_from=hub_page)
    assert answer.status_code == 302
    page = exporter.get(path + "?lang=en").get_data(as_text=True)
    assert "Refused at the hub" in page and "Seal number differs" in page
    # The exporter is told by mail (in Indonesian, its default), with the reason.
    [told] = inbox.to("a@test.id")
    assert told["Subject"] == "Lintasan pengiriman batch A-LOT-1 melalui hub Bali ditolak"
    assert "Seal number differs" in mail_text(told)
    assert inbox.to("officer.ntb@test.id") == [] and inbox.to("b@test.id") == []
    assert exporter.post(path, form(quantity="1200"), token_from=path).status_code == 302


def test_bad_input_is_said_and_writes_nothing(world: World, db: Session,
                                              make_client: Callable[[], Client]) -> None:
    batch_id = certified(world)
    exporter = signed_in(make_client, "a@test.id")
    path = f"/batches/{batch_id}/shipments"
    cases = {
        "containers": ("CSQU3054384", "does not add up"),
        "destination_locode": ("JPYOK", "certified destination country"),
        "peb_number": ("12-345", "six digits"),
        "transport_document": ("A!", "4 to 35 letters"),
        "quantity": ("abc", ""),
    }
    for name, (value, words) in cases.items():
        answer = exporter.post(path + "?lang=en", form(**{name: value}), token_from=path)
        assert answer.status_code == 422, name
        assert words in answer.get_data(as_text=True), name
    air = form(hub="ngurah-rai", containers="", destination_locode="NLAMS",
               transport_document="020-12345676")
    answer = exporter.post(path + "?lang=en", air, token_from=path)
    assert answer.status_code == 422 and "check digit" in answer.get_data(as_text=True)
    answer = exporter.post(path + "?lang=id", form(containers="CSQU3054384"), token_from=path)
    assert answer.status_code == 422 and "does not add up" not in answer.get_data(as_text=True)
    assert shipments(db) == []


def test_only_certified_batches_ship(world: World, db: Session,
                                     make_client: Callable[[], Client]) -> None:
    world.submit(world.batch_a, world.exporter_a)
    exporter = signed_in(make_client, "a@test.id")
    path = f"/batches/{world.batch_a.id}/shipments"
    answer = exporter.post(path, form(), token_from=path)
    assert answer.status_code == 409
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.decide(world.batch_a, world.officer_ntb, Action.SUSPEND)
    assert exporter.post(path, form(), token_from=path).status_code == 409
    assert shipments(db) == []


def _post(start: threading.Barrier, answers: list[Any], client: Client, path: str,
          token: str) -> None:
    start.wait()
    answers.append(client.http.post(path, data={**form(), "csrf_token": token}))


def test_parallel_declarations_stay_within_the_certified_quantity(
        app: Flask, world: World, db: Session, make_client: Callable[[], Client]) -> None:
    """Two declarations of 700 kg of a 1,200 kg batch at once: one passes, one is refused,
    in each of three rounds (each request in its own session and transaction)."""
    for round_ in range(3):
        batch = world.batch(world.exporter_a, world.product_a, f"RACE-{round_}", "52.04")
        world.submit(batch, world.exporter_a)
        world.decide(batch, world.officer_ntb, Action.APPROVE)
        path = f"/batches/{batch.id}/shipments"
        clients = [signed_in(make_client, "a@test.id") for _ in range(2)]
        tokens = [c.token(path) for c in clients]
        start = threading.Barrier(2, timeout=30)
        answers: list[Any] = []
        threads = [threading.Thread(target=_post, args=(start, answers, c, path, t))
                   for c, t in zip(clients, tokens, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(a.status_code for a in answers) == [302, 422], [
            a.get_data(as_text=True)[:500] for a in answers]
        db.expire_all()
        stored = db.exec(select(Shipment).where(Shipment.batch_id == batch.id)).all()
        assert len(stored) == 1
