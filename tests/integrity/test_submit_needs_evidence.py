"""A batch goes to the trade office only with evidence: at least one document, and the kinds
``REQUIRED_EVIDENCE`` names for the product's category (issue 11, section 8)."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, select

from conftest import Client, World, evidence_pdf
from registry.audit.models import AuditEvent
from registry.catalog.models import Batch
from tests.api.api_helpers import api_for, assert_problem


def _status(db: Session, batch_id: int) -> str:
    db.expire_all()
    return db.get(Batch, batch_id).status


def _submits(db: Session) -> int:
    return db.exec(select(func.count()).select_from(AuditEvent)
                   .where(AuditEvent.action == "batch.submit")).one()


def _upload(client: Client, batch_id: int, kind: str) -> None:
    response = client.post(f"/batches/{batch_id}/documents", {
        "kind": kind, "file": (io.BytesIO(evidence_pdf()), f"{kind}.pdf")},
        content_type="multipart/form-data", token_from=f"/batches/{batch_id}")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_web_submit_without_evidence_is_refused(client: Client, world: World,
                                                db: Session) -> None:
    client.login("a@test.id")
    response = client.post(f"/batches/{world.batch_a.id}/submit",
                           token_from=f"/batches/{world.batch_a.id}")
    assert response.status_code == 422
    assert "Add at least one evidence document" in response.get_data(as_text=True)
    assert _status(db, world.batch_a.id) == "draft"
    assert _submits(db) == 0

    _upload(client, world.batch_a.id, "lab_results")
    assert client.post(f"/batches/{world.batch_a.id}/submit").status_code == 302
    assert _status(db, world.batch_a.id) == "submitted"


def test_api_submit_without_evidence_is_a_422_problem(app: Flask, world: World,
                                                      db: Session) -> None:
    api = api_for(app, db, world.exporter_a)
    body = assert_problem(api.post(f"/batches/{world.batch_a.id}/submit"), 422)
    assert body["codes"] == {"documents": "evidence_missing"}
    assert "evidence document" in body["errors"]["documents"]
    assert _status(db, world.batch_a.id) == "draft"


def test_required_kinds_per_category_are_a_setting(app: Flask, client: Client, world: World,
                                                   db: Session) -> None:
    app.config["REQUIRED_EVIDENCE"] = {"agriculture": ["phytosanitary", "certificate_of_origin"]}
    client.login("a@test.id")
    _upload(client, world.batch_a.id, "lab_results")
    response = client.post(f"/batches/{world.batch_a.id}/submit")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Phytosanitary certificate" in page and "Certificate of origin" in page
    assert _status(db, world.batch_a.id) == "draft"

    _upload(client, world.batch_a.id, "phytosanitary")
    response = client.post(f"/batches/{world.batch_a.id}/submit")
    assert response.status_code == 422
    assert "Phytosanitary certificate" not in response.get_data(as_text=True).split(
        "needs these documents")[-1].split("</")[0]
    _upload(client, world.batch_a.id, "certificate_of_origin")
    assert client.post(f"/batches/{world.batch_a.id}/submit").status_code == 302
    assert _status(db, world.batch_a.id) == "submitted"

    api = api_for(app, db, world.exporter_b)
    _doc = world.attach_evidence(world.batch_b, world.exporter_b, kind="other")
    db.commit()
    # Company B's coffee is also "agriculture": the API names the missing kinds as codes.
    body = assert_problem(api.post(f"/batches/{world.batch_b.id}/submit"), 422)
    assert body["codes"] == {"documents": "evidence_kinds_missing"}
    assert body["missing_kinds"] == ["phytosanitary", "certificate_of_origin"]
