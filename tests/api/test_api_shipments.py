"""Shipments through the API: the exporter declares, the Bali office confirms or refuses,
the origin office reads; every rule answers 422 with a code per field."""

from __future__ import annotations

import datetime as dt

from api_helpers import api_for, assert_problem
from flask import Flask
from sqlmodel import Session

from conftest import World
from registry.catalog.certification import Action
from registry.clock import today


def _body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "hub": "ngurah-rai", "planned_date": (today() + dt.timedelta(days=1)).isoformat(),
        "peb_number": "012345", "peb_date": today().isoformat(),
        "transport_document": "020 1234 5675", "containers": [],
        "destination_locode": "NLAMS", "quantity": "400.5"}
    body.update(overrides)
    return body


def test_declare_confirm_refuse_through_the_api(app: Flask, db: Session, world: World) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    exporter = api_for(app, db, world.exporter_a)
    path = f"/batches/{world.batch_a.id}/shipments"
    created = exporter.post(path, json=_body())
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["transport_document"] == "020-12345675"
    assert (created.json["status"], created.json["quantity"]) == ("declared", "400.500")

    bad = assert_problem(exporter.post(path, json=_body(
        transport_document="020-12345676", containers=["CSQU3054383"],
        destination_locode="JPNRT", peb_number="1")), 422)
    assert bad["codes"] == {"transport_document": "bad_awb",
                            "containers": "no_containers_by_air",
                            "destination_locode": "wrong_country", "peb_number": "bad_peb"}
    over = assert_problem(exporter.post(path, json=_body(quantity="800")), 422)
    assert over["codes"] == {"quantity": "over_shipped"} and over["remaining"] == "799.5"

    # Only the Bali office sees the hub's queue and decides passages, with a write token.
    assert_problem(api_for(app, db, world.officer_ntb).get("/hub/shipments"), 403)
    bali = api_for(app, db, world.officer_bali)
    queue = bali.get("/hub/shipments")
    assert [i["id"] for i in queue.json["items"]] == [created.json["id"]]
    passage = f"/shipments/{created.json['id']}/passage"
    assert_problem(api_for(app, db, world.officer_ntb).post(passage, json={
        "decision": "confirm", "passage_date": today().isoformat()}), 403)
    assert_problem(api_for(app, db, world.officer_bali, access="read").post(passage, json={
        "decision": "confirm", "passage_date": today().isoformat()}), 403)
    no_day = assert_problem(bali.post(passage, json={"decision": "confirm"}), 422)
    assert no_day["codes"] == {"passage_date": "required"}
    done = bali.post(passage, json={"decision": "confirm",
                                    "passage_date": today().isoformat(), "remarks": "ok"})
    assert done.status_code == 200 and done.json["status"] == "confirmed"
    assert_problem(bali.post(passage, json={"decision": "refuse", "reason": "late"}), 409)

    # The origin office reads the batch's shipments; other offices do not see the batch.
    listed = api_for(app, db, world.officer_ntb).get(path)
    assert [i["status"] for i in listed.json["items"]] == ["confirmed"]
    assert_problem(api_for(app, db, world.officer_ntt).get(path), 404)
    assert_problem(api_for(app, db, world.exporter_b).post(path, json=_body()), 404)
