"""The API takes any HS 2022 subheading for a product and finds codes by code or words
(GET /api/v1/hs-codes, read scope)."""

from __future__ import annotations

from api_helpers import api_for, assert_problem
from flask import Flask
from sqlmodel import Session, select

from conftest import World
from registry.catalog.models import Product

PRODUCT = {"name_id": "Minyak kelapa murni", "name_en": "Virgin coconut oil",
           "category": "processed-food", "hs_code": "151319"}


def test_a_product_under_any_hs_2022_code(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    created = api.post("/products", json=PRODUCT)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["hs_code"] == "151319"
    db.expire_all()
    assert db.exec(select(Product.hs_code).where(
        Product.name_en == "Virgin coconut oil")).all() == ["151319"]


def test_an_unknown_code_is_refused(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    for code in ("999999", "0305.59", "0305"):
        body = assert_problem(api.post("/products", json={**PRODUCT, "hs_code": code}), 422)
        assert body["codes"] == {"hs_code": "unknown"}
    db.expire_all()
    assert db.exec(select(Product).where(Product.name_en == "Virgin coconut oil")).first() is None


def test_codes_are_found_by_indonesian_words(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    body = api.get("/hs-codes?q=ikan+kering").get_json()
    dried = next(item for item in body["items"] if item["code"] == "030559")
    assert dried["description_en"].startswith("Fish; dried")
    assert dried["description_id"].startswith("Ikan lainnya")
    assert dried["typical"] is False
    assert body["total"] >= len(body["items"])


def test_codes_are_found_by_code_and_the_typical_come_without_a_query(
        app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.officer_ntb, access="read")
    assert [i["code"] for i in api.get("/hs-codes?q=0305.59").get_json()["items"]] == ["030559"]
    typical = api.get("/hs-codes?limit=200").get_json()
    assert typical["total"] == 65 and all(i["typical"] for i in typical["items"])
    assert api.get("/hs-codes?q=0305&limit=3").get_json()["total"] == 22


def test_a_bad_query_is_a_problem(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    assert_problem(api.get("/hs-codes?limit=0"), 422)
    assert_problem(api.get("/hs-codes?q=" + "x" * 201), 422)


def test_the_openapi_document_describes_the_code_without_listing_them(app: Flask) -> None:
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    hs = doc["components"]["schemas"]["ProductWrite"]["properties"]["hs_code"]
    assert "enum" not in hs and hs["pattern"] == "^[0-9]{6}$"
    assert "/api/v1/hs-codes" in doc["paths"] or "/hs-codes" in doc["paths"]
