"""The API finds UN/LOCODE seaports and airports by code, place or country (GET
/api/v1/locodes, read scope), as the shipment's destination_locode takes them."""

from __future__ import annotations

from api_helpers import api_for, assert_problem
from flask import Flask
from sqlmodel import Session

from conftest import World


def test_the_api_finds_codes(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    body = api.get("/locodes?q=rotterdam").get_json()
    assert body["items"][0] == {"code": "NLRTM", "name": "Rotterdam", "country": "NL",
                                "port": True, "airport": True}
    assert api.get("/locodes?q=tokyo&country=JP&limit=2").get_json()["total"] > 2
    assert api.get("/locodes").get_json() == {"total": 0, "items": []}
    assert_problem(api.get("/locodes?limit=0"), 422)
    assert_problem(api.get("/locodes?country=NLD"), 422)
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "/locodes" in doc["paths"] or "/api/v1/locodes" in doc["paths"]
