"""Bad requests get RFC 9457 problems with field messages, never a 500; the OpenAPI document
is generated from the routes."""

from __future__ import annotations

import io
import json
from typing import Any

from api_helpers import PREFIX, Api, api_for, assert_problem
from flask import Flask
from sqlmodel import Session, select
from test_api_exporter import PRODUCT, batch_body

from conftest import World
from registry.catalog.models import Batch, Product

HUGE = "99999999999999999999999"


def _api(app: Flask, db: Session, world: World) -> Api:
    return api_for(app, db, world.exporter_a)


def test_bad_json_is_400(app: Flask, db: Session, world: World) -> None:
    api = _api(app, db, world)
    for raw in ('{"name_id": ', "[1, 2]", '"text"', "", '{"quantity": NaN}', "\xff\xfe"):
        body = assert_problem(api.post("/products", data=raw,
                                       content_type="application/json"), 400)
        assert "body" in body["errors"]
    wrong_type = api.post("/products", data="name_id=x", content_type="text/plain")
    assert_problem(wrong_type, 400)


def test_wrong_types_are_422_with_field_messages(app: Flask, db: Session, world: World) -> None:
    api = _api(app, db, world)
    body = assert_problem(api.post("/batches", json=batch_body(
        "one", quantity="lots", production_date="yesterday", declared_value_idr=[1])), 422)
    assert set(body["errors"]) == {"product_id", "quantity", "production_date",
                                   "declared_value_idr"}
    assert body["codes"]["product_id"] == "int_parsing"
    assert all(isinstance(m, str) and m for m in body["errors"].values())
    extra = assert_problem(api.post("/products", json={**PRODUCT, "owner": 2}), 422)
    assert extra["codes"] == {"owner": "extra_forbidden"}
    missing = assert_problem(api.post("/products", json={}), 422)
    assert {"name_id", "name_en", "category", "hs_code"} <= set(missing["errors"])
    nul = assert_problem(api.post("/products", json={**PRODUCT, "name_en": "Ma\x00du"}), 422)
    assert "name_en" in nul["errors"]
    assert db.exec(select(Product).where(Product.name_id == PRODUCT["name_id"])).first() is None


def test_out_of_range_numbers_are_refused_not_500(app: Flask, db: Session, world: World) -> None:
    api = _api(app, db, world)
    for override in ({"product_id": 10**30}, {"declared_value_idr": 10**16},
                     {"declared_value_idr": 10**30}, {"declared_value_idr": -1},
                     {"quantity": "1e400"}, {"quantity": "0.0001"}, {"quantity": "Infinity"}):
        response = api.post("/batches", json={**batch_body(world.product_a.id), **override})
        assert_problem(response, 422)
    assert db.exec(select(Batch).where(Batch.lot_code == "API-LOT-1")).first() is None
    # Rp 5 billion is an ordinary shipment: beyond 32 bits, stored as BIGINT.
    ok = api.post("/batches", json={**batch_body(world.product_a.id),
                                    "declared_value_idr": 5_000_000_000})
    assert ok.status_code == 201 and ok.json["declared_value_idr"] == 5_000_000_000


def test_huge_path_ids_are_404(app: Flask, db: Session, world: World) -> None:
    api = _api(app, db, world)
    for path in (f"/batches/{HUGE}", f"/products/{HUGE}", f"/batches/{2**31}",
                 f"/batches/{HUGE}/scans", f"/batches/{HUGE}/decisions"):
        assert_problem(api.get(path), 404)
    for path in (f"/batches/{HUGE}/submit", f"/batches/{HUGE}/print-jobs"):
        assert api.post(path, json={}).status_code in (404, 405)
        assert api.post(path, json={}).mimetype == "application/problem+json"


def test_oversized_bodies_are_413(app: Flask, db: Session, world: World) -> None:
    api = _api(app, db, world)
    app.config["MAX_CONTENT_LENGTH"] = 2048
    big = json.dumps({**PRODUCT, "description": "x" * 4096})
    assert_problem(api.post("/products", data=big, content_type="application/json"), 413)
    upload = api.post(f"/batches/{world.batch_a.id}/documents", data={
        "kind": "halal", "file": (io.BytesIO(b"%PDF-" + b"0" * 4096), "big.pdf")},
        content_type="multipart/form-data")
    assert_problem(upload, 413)


def test_unknown_paths_and_methods_are_problems(app: Flask, db: Session, world: World) -> None:
    api = _api(app, db, world)
    assert_problem(api.get("/nothing-here"), 404)
    assert_problem(api.http.delete(f"{PREFIX}/products/1", headers=api.headers), 405)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_openapi_document_is_generated_from_the_routes(app: Flask) -> None:
    response = app.test_client().get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # Every API route is documented, with the same methods.
    documented = {(method.upper(), PREFIX + path) for path, ops in doc["paths"].items()
                  for method in ops}
    routed = {
        (method, rule.rule.replace("<int:", "{").replace(">", "}"))
        for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
        and rule.endpoint != "api.openapi_json"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    # Request and response schemas come from the pydantic models, and every $ref resolves.
    create = doc["paths"]["/batches"]["post"]
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref == "#/components/schemas/BatchWrite"
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/BatchRead")
    assert create["x-token-scope"] == "write"
    upload = doc["paths"]["/batches/{batch_id}/documents"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    schemas = doc["components"]["schemas"]
    assert "lot_code" in schemas["BatchWrite"]["required"]
    for ref in _refs(doc):
        kind, _, key = ref.removeprefix("#/components/").partition("/")
        assert key in doc["components"][kind], ref
    problem = doc["components"]["responses"]["401"]
    assert "WWW-Authenticate" in problem["headers"]
    assert doc["paths"]["/products"]["get"]["parameters"][0]["name"] == "page"


def test_the_documented_upload_limit_is_the_servers(app: Flask) -> None:
    # Issue 15 §1: "at most 10 MB" was fixed text while the limit came from the environment.
    app.config["MAX_UPLOAD_BYTES"] = 5 * 2**20
    doc = app.test_client().get(f"{PREFIX}/openapi.json").json
    described = doc["components"]["schemas"]["DocumentUpload"]["properties"]["file"]
    assert "at most 5,242,880 bytes (5 MB)" in described["description"]
