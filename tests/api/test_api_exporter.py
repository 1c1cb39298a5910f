"""Exporters through the API: products, batches, evidence, submission, labels and scans."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from api_helpers import api_for, assert_problem
from flask import Flask
from sqlmodel import Session, select

from conftest import World, evidence_pdf
from registry.api import schemas as s
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Document, Product
from registry.clock import today, utcnow
from registry.verify.models import Scan

PRODUCT = {"name_id": "Kelor Sumbawa", "name_en": "Sumbawa Moringa", "category": "agriculture",
           "hs_code": "090111", "gtin": None, "description": "Dried leaves"}


def batch_body(product_id: int, lot: str = "API-LOT-1", **overrides: Any) -> dict[str, Any]:
    body = {
        "product_id": product_id, "lot_code": lot, "quantity": "950.5", "unit": "kg",
        "production_date": (today() - dt.timedelta(days=3)).isoformat(), "best_before": None,
        "origin_regency_code": "52.04", "producer": "Koperasi Batu Dulang", "hub": "benoa",
        "destination_country": "JP", "declared_value_idr": 123_000_000,
    }
    body.update(overrides)
    return body


def actions(db: Session) -> list[tuple[str, int | None]]:
    db.expire_all()
    return [(e.action, e.actor_id) for e in db.exec(select(AuditEvent).order_by(AuditEvent.seq))]


def test_products_create_list_read_update(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    created = api.post("/products", json=PRODUCT)
    assert created.status_code == 201, created.json
    product = s.ProductRead.model_validate(created.json)
    assert created.headers["Location"].endswith(f"/api/v1/products/{product.id}")
    assert ("product.create", world.exporter_a.id) in actions(db)

    read = api.get(f"/products/{product.id}")
    assert read.status_code == 200 and read.json["name_en"] == "Sumbawa Moringa"
    assert "photo_stored_name" not in read.json and read.json["has_photo"] is False
    etag = read.headers["ETag"]
    assert api.get(f"/products/{product.id}", headers={"If-None-Match": etag}).status_code == 304

    updated = api.put(f"/products/{product.id}", json={**PRODUCT, "name_en": "Moringa leaves"})
    assert updated.status_code == 200 and updated.json["name_en"] == "Moringa leaves"
    assert ("product.update", world.exporter_a.id) in actions(db)
    # The representation changed, so the old ETag no longer matches.
    assert api.get(f"/products/{product.id}", headers={"If-None-Match": etag}).status_code == 200

    listing = api.get("/products")
    assert listing.status_code == 200
    page = s.ProductPage.model_validate(listing.json)
    assert page.total == 2 and {p.name_en for p in page.items} == {"Moringa leaves",
                                                                   "Sumbawa Honey"}


def test_lists_are_paginated_with_next_and_link(app: Flask, db: Session, world: World) -> None:
    for i in range(4):
        world.product(world.exporter_a, f"Produk {i}", f"Product {i}")
    db.commit()
    api = api_for(app, db, world.exporter_a)
    first = api.get("/products?per_page=2")
    assert first.json["total"] == 5 and len(first.json["items"]) == 2
    assert first.json["next"] == "/api/v1/products?page=2&per_page=2"
    assert '</api/v1/products?page=2&per_page=2>; rel="next"' in first.headers["Link"]
    assert 'rel="last"' in first.headers["Link"]
    last = api.get("/products?page=3&per_page=2")
    assert len(last.json["items"]) == 1 and last.json["next"] is None
    assert 'rel="prev"' in last.headers["Link"] and 'rel="next"' not in last.headers["Link"]
    beyond = api.get("/products?page=9&per_page=2")
    assert beyond.status_code == 200 and beyond.json["items"] == []
    body = assert_problem(api.get("/products?per_page=1000"), 422)
    assert "per_page" in body["errors"]
    assert_problem(api.get("/products?page=abc"), 422)


def test_product_validation_reports_fields(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    response = api.post("/products", json={**PRODUCT, "hs_code": "999999", "gtin": "123"})
    body = assert_problem(response, 422)
    assert body["codes"] == {"hs_code": "unknown", "gtin": "bad_gtin"}
    assert "GTIN" in body["errors"]["gtin"]
    assert db.exec(select(Product).where(Product.name_en == "Sumbawa Moringa")).first() is None


def test_batch_lifecycle_through_the_api(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    created = api.post("/batches", json=batch_body(world.product_a.id))
    assert created.status_code == 201, created.json
    batch = s.BatchRead.model_validate(created.json)
    assert batch.status == "draft" and batch.allowed_actions == ["submit"]
    assert batch.quantity == 950.5 and created.json["quantity"] == "950.500"
    assert batch.exporter.name == "Company A" and batch.product.id == world.product_a.id

    updated = api.put(f"/batches/{batch.id}", json=batch_body(world.product_a.id,
                                                             declared_value_idr=5))
    assert updated.status_code == 200 and updated.json["declared_value_idr"] == 5
    assert updated.json["version"] == batch.version + 1

    pdf = evidence_pdf()
    # A control character in the file name is refused, not silently dropped (issue 11).
    bell = api.post(f"/batches/{batch.id}/documents", data={
        "kind": "phytosanitary", "is_public": "true",
        "file": (io.BytesIO(pdf), "Sertifikat\x07.pdf")}, content_type="multipart/form-data")
    assert assert_problem(bell, 422)["codes"] == {"file": "bad_filename"}
    upload = api.post(f"/batches/{batch.id}/documents", data={
        "kind": "phytosanitary", "is_public": "true",
        "file": (io.BytesIO(pdf), "Sertifikat.pdf")}, content_type="multipart/form-data")
    assert upload.status_code == 201, upload.json
    assert upload.json["kind"] == "phytosanitary" and upload.json["is_public"] is True
    assert upload.json["original_name"] == "Sertifikat.pdf" and "stored_name" not in upload.json
    assert db.exec(select(Document)).one().size == len(pdf)

    bad_file = api.post(f"/batches/{batch.id}/documents", data={
        "kind": "halal", "file": (io.BytesIO(b"GIF89a..."), "x.gif")},
        content_type="multipart/form-data")
    assert assert_problem(bad_file, 422)["codes"] == {"file": "bad_type"}
    missing = api.post(f"/batches/{batch.id}/documents", data={"kind": "halal"},
                       content_type="multipart/form-data")
    assert "file" in assert_problem(missing, 422)["errors"]

    # Coffee: without production plots the submission is refused (EU due diligence).
    assert assert_problem(api.post(f"/batches/{batch.id}/submit"), 422)["codes"] == {
        "plots": "plots_missing"}
    world.add_plot(db.get_one(Batch, batch.id), world.exporter_a)
    db.commit()
    submitted = api.post(f"/batches/{batch.id}/submit")
    assert submitted.status_code == 200 and submitted.json["status"] == "submitted"
    assert len(submitted.json["documents"]) == 1 and submitted.json["allowed_actions"] == []
    # Frozen from submission on.
    assert_problem(api.put(f"/batches/{batch.id}", json=batch_body(world.product_a.id)), 409)
    assert_problem(api.post(f"/batches/{batch.id}/submit"), 409)
    assert_problem(api.post(f"/batches/{batch.id}/documents", data={
        "kind": "halal", "file": (io.BytesIO(pdf), "h.pdf")},
        content_type="multipart/form-data"), 409)

    mine = [(a, actor) for a, actor in actions(db) if actor == world.exporter_a.id]
    for action in ("batch.create", "batch.update", "document.add", "batch.submit"):
        assert (action, world.exporter_a.id) in mine

    listing = api.get("/batches?status=submitted")
    assert [b["id"] for b in listing.json["items"]] == [batch.id]
    assert api.get("/batches?status=draft").json["total"] == 1  # the world's batch_a
    assert_problem(api.get("/batches?status=nonsense"), 422)


def test_status_and_decisions_are_readable(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.REJECT, reason="Lab results missing")
    decisions = api.get(f"/batches/{world.batch_a.id}/decisions")
    assert decisions.status_code == 200
    assert decisions.json["status"] == "rejected"
    assert decisions.json["items"][0]["reason"] == "Lab results missing"
    assert decisions.json["items"][0]["action"] == "reject"
    read = api.get(f"/batches/{world.batch_a.id}")
    assert read.json["allowed_actions"] == ["submit"] and read.json["decisions"]
    assert "officer_id" not in read.json["decisions"][0]


def test_print_jobs_and_scan_figures(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    options = api.get("/print-options")
    assert options.status_code == 200
    stock = options.json["stocks"][0]["id"]
    printer = options.json["printers"][0]["id"]
    assert printer == world.print_org.id
    order = {"printer_org_id": printer, "stock": stock, "quantity": 10, "net_quantity": "250 g"}
    # Only certified batches get labels.
    assert_problem(api.post(f"/batches/{world.batch_a.id}/print-jobs", json=order), 409)
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)

    first = api.post(f"/batches/{world.batch_a.id}/print-jobs", json=order)
    assert first.status_code == 201, first.json
    assert (first.json["serial_first"], first.json["serial_last"]) == (1, 10)
    second = api.post(f"/batches/{world.batch_a.id}/print-jobs", json={**order, "quantity": 5})
    assert (second.json["serial_first"], second.json["serial_last"]) == (11, 15)
    assert ("printjob.order", world.exporter_a.id) in actions(db)
    bad = api.post(f"/batches/{world.batch_a.id}/print-jobs",
                   json={**order, "stock": "nope", "net_quantity": "lots"})
    assert assert_problem(bad, 422)["codes"] == {"stock": "unknown",
                                                 "net_quantity": "bad_net_quantity"}
    jobs = api.get(f"/batches/{world.batch_a.id}/print-jobs")
    assert [j["quantity"] for j in jobs.json["items"]] == [10, 5]
    assert jobs.json["items"][0]["printer"]["name"] == "Print shop"

    now = utcnow()
    for i, (verdict, lang, country) in enumerate([
        ("genuine", "en", "NL"), ("genuine", "ja", "JP"), ("possible_copy", "en", "NL"),
        ("not_genuine", "zh", None),
    ]):
        db.add(Scan(created_at=now - dt.timedelta(hours=i), batch_id=world.batch_a.id,
                    gtin="0" * 14, lot="A-LOT-1", serial="000001", serial_number=1,
                    verdict=verdict, language=lang, country=country, client="c" * 16))
    db.add(Scan(created_at=now, batch_id=world.batch_b.id, gtin="0" * 14, lot="B-LOT-1",
                serial="000001", verdict="genuine", language="en", client="d" * 16))
    db.commit()
    figures = api.get(f"/batches/{world.batch_a.id}/scans")
    assert figures.status_code == 200
    assert figures.json["total"] == 4 and figures.json["suspicious"] == 2
    assert figures.json["by_language"] == {"en": 2, "ja": 1, "zh": 1}
    assert figures.json["by_country"] == {"NL": 2, "JP": 1, "unknown": 1}
    assert figures.json["by_verdict"]["genuine"] == 2
    assert figures.json["first_scan_at"] < figures.json["last_scan_at"]


def test_other_companies_objects_are_404(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    world.submit(world.batch_b, world.exporter_b)
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)
    b, p = world.batch_b.id, world.product_b.id
    pdf = evidence_pdf()
    calls = [
        api.get(f"/products/{p}"), api.put(f"/products/{p}", json=PRODUCT),
        api.get(f"/batches/{b}"), api.put(f"/batches/{b}", json=batch_body(world.product_a.id)),
        api.post(f"/batches/{b}/submit"), api.get(f"/batches/{b}/decisions"),
        api.get(f"/batches/{b}/print-jobs"), api.get(f"/batches/{b}/scans"),
        api.post(f"/batches/{b}/print-jobs", json={"printer_org_id": world.print_org.id,
                                                   "stock": "a4-3x7", "quantity": 1,
                                                   "net_quantity": "1 kg"}),
        api.post(f"/batches/{b}/documents", data={"kind": "halal",
                                                  "file": (io.BytesIO(pdf), "x.pdf")},
                 content_type="multipart/form-data"),
    ]
    for response in calls:
        assert_problem(response, 404)
    # Someone else's product cannot carry my batch either.
    body = assert_problem(api.post("/batches", json=batch_body(p)), 422)
    assert body["codes"] == {"product_id": "unknown"}
    listing = api.get("/batches").json
    assert [x["id"] for x in listing["items"]] == [world.batch_a.id]
    assert db.get(Batch, b).status == "approved"


def test_officer_only_operations_are_refused_to_exporters(
    app: Flask, db: Session, world: World
) -> None:
    api = api_for(app, db, world.exporter_a)
    assert_problem(api.get("/review/queue"), 403)
    world.submit(world.batch_a, world.exporter_a)
    db.refresh(world.batch_a)
    decision = {"action": "approve", "expected_version": world.batch_a.version,
                "valid_until": (today() + dt.timedelta(days=30)).isoformat()}
    assert_problem(api.post(f"/batches/{world.batch_a.id}/decisions", json=decision), 403)
    assert db.get(Batch, world.batch_a.id).status == "submitted"
