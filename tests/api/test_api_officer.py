"""Trade-office officers through the API: their province's queue, reading, deciding."""

from __future__ import annotations

import datetime as dt

from api_helpers import api_for, assert_problem
from flask import Flask
from sqlmodel import Session, select

from conftest import World
from registry.audit.models import AuditEvent
from registry.catalog.models import Batch
from registry.clock import today
from registry.review.models import Decision


def _until(days: int = 365) -> str:
    return (today() + dt.timedelta(days=days)).isoformat()


def _version(db: Session, batch_id: int) -> int:
    db.expire_all()
    batch = db.get(Batch, batch_id)
    assert batch is not None
    return batch.version


def test_queue_lists_only_the_officers_province(app: Flask, db: Session, world: World) -> None:
    world.submit(world.batch_a, world.exporter_a)  # NTB
    world.submit(world.batch_b, world.exporter_b)  # NTT
    ntb = api_for(app, db, world.officer_ntb).get("/review/queue")
    assert ntb.status_code == 200
    assert [(i["id"], i["exporter"]["name"]) for i in ntb.json["items"]] == [
        (world.batch_a.id, "Company A")]
    bali = api_for(app, db, world.officer_bali).get("/review/queue")
    assert bali.json["items"] == [] and bali.json["total"] == 0
    decided = api_for(app, db, world.officer_ntb).get("/review/queue?status=approved")
    assert decided.json["items"] == []


def test_officer_reads_batches_of_the_province_only(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.officer_ntb, "read")
    assert_problem(api.get(f"/batches/{world.batch_a.id}"), 404)  # still a draft
    world.submit(world.batch_a, world.exporter_a)
    world.submit(world.batch_b, world.exporter_b)
    read = api.get(f"/batches/{world.batch_a.id}")
    assert read.status_code == 200
    assert read.json["exporter"]["name"] == "Company A"
    assert set(read.json["allowed_actions"]) == {"approve", "reject"}
    assert_problem(api.get(f"/batches/{world.batch_b.id}"), 404)  # NTT's
    assert_problem(api.get(f"/batches/{world.batch_b.id}/decisions"), 404)
    # Exporter-only operations.
    assert_problem(api.get("/products"), 403)
    assert_problem(api.get("/batches"), 403)
    assert_problem(api.get("/print-options"), 403)


def test_decisions_with_versions_conflicts_and_audit(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.officer_ntb)
    world.submit(world.batch_a, world.exporter_a)
    url = f"/batches/{world.batch_a.id}/decisions"
    version = _version(db, world.batch_a.id)

    no_date = assert_problem(api.post(url, json={"action": "approve",
                                                 "expected_version": version}), 422)
    assert "valid_until" in no_date["errors"]
    stale = api.post(url, json={"action": "approve", "expected_version": version - 1,
                                "valid_until": _until()})
    assert_problem(stale, 409)

    approved = api.post(url, json={"action": "approve", "expected_version": version,
                                   "valid_until": _until()})
    assert approved.status_code == 201, approved.json
    assert approved.json["to_status"] == "approved"
    # The same request again is stale now.
    again = api.post(url, json={"action": "approve", "expected_version": version,
                                "valid_until": _until()})
    assert_problem(again, 409)

    version = _version(db, world.batch_a.id)
    no_reason = api.post(url, json={"action": "suspend", "expected_version": version})
    assert "reason" in assert_problem(no_reason, 422)["errors"]
    for action in ("suspend", "reinstate", "revoke"):
        response = api.post(url, json={"action": action, "reason": "Inspection",
                                       "expected_version": _version(db, world.batch_a.id)})
        assert response.status_code == 201, (action, response.json)
    impossible = api.post(url, json={"action": "reinstate",
                                     "expected_version": _version(db, world.batch_a.id)})
    assert_problem(impossible, 409)  # revoked is final

    assert [d.action for d in db.exec(select(Decision).order_by(Decision.id))] == [
        "approve", "suspend", "reinstate", "revoke"]
    audit = [e.action for e in db.exec(select(AuditEvent).where(
        AuditEvent.actor_id == world.officer_ntb.id).order_by(AuditEvent.seq))]
    assert audit[-4:] == ["batch.approve", "batch.suspend", "batch.reinstate", "batch.revoke"]
    history = api.get(f"/batches/{world.batch_a.id}/decisions").json
    assert history["status"] == "revoked" and len(history["items"]) == 4


def test_officers_cannot_decide_outside_their_province_or_submit(
    app: Flask, db: Session, world: World
) -> None:
    world.submit(world.batch_b, world.exporter_b)  # NTT
    version = _version(db, world.batch_b.id)
    ntb = api_for(app, db, world.officer_ntb)
    outside = ntb.post(f"/batches/{world.batch_b.id}/decisions", json={
        "action": "approve", "expected_version": version, "valid_until": _until()})
    assert_problem(outside, 404)
    ntt = api_for(app, db, world.officer_ntt)
    submit = ntt.post(f"/batches/{world.batch_b.id}/decisions",
                      json={"action": "submit", "expected_version": version})
    assert "action" in assert_problem(submit, 422)["errors"]
    assert_problem(ntt.post(f"/batches/{world.batch_b.id}/submit"), 403)
    assert_problem(ntt.post("/products", json={}), 422)  # shape first, then the role
    read_only = api_for(app, db, world.officer_ntt, "read")
    assert_problem(read_only.post(f"/batches/{world.batch_b.id}/decisions", json={
        "action": "approve", "expected_version": version, "valid_until": _until()}), 403)
    assert db.get(Batch, world.batch_b.id).status == "submitted"
