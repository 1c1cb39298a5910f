"""Production plots through the web and the API (issue 18 §3): a coffee batch is submitted
only with plots; crossing polygons, plots outside the regency and short coordinates are
refused with words that say what to fix; the export validates against the schema kept in
registry/plots/schemas; the public page says only that plot geolocation is on record."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, select

from conftest import Client, World
from registry.catalog.models import Batch
from registry.plots import rules
from registry.plots.models import Plot
from tests.api.api_helpers import api_for, assert_problem
from tests.verify.verify_support import label_path, signed_labels

SCHEMA = json.loads((Path(rules.__file__).parent / "schemas"
                     / "eudr-geolocation.schema.json").read_text(encoding="utf-8"))
CENTRE = rules.regency_shapes()["52.04"].representative_point()
LAT, LON = CENTRE.y, CENTRE.x
PERIOD = {"production_start": "2026-03-01", "production_end": "2026-08-31"}
FIELDS = {"production_place": "Desa Tepal", "producer_name": "Koperasi Tepal", **PERIOD}


def _square(side: float, *, bow: bool = False) -> str:
    corners = [(0, 0), (side, 0), (side, side), (0, side)]
    if bow:
        corners = [(0, 0), (side, side), (side, 0), (0, side)]
    return "\n".join(f"{LAT + dy:.6f}, {LON + dx:.6f}" for dy, dx in corners)


def _plots(db: Session, batch_id: int) -> int:
    return db.exec(select(func.count()).select_from(Plot).where(Plot.batch_id == batch_id)).one()


def _status(db: Session, batch_id: int) -> str:
    db.expire_all()
    return db.get_one(Batch, batch_id).status


def _add(client: Client, batch_id: int, **data: Any) -> Any:
    return client.post(f"/batches/{batch_id}/plots", {**FIELDS, **data},
                       content_type="multipart/form-data", token_from=f"/batches/{batch_id}/plots")


def _clear_plots(client: Client, db: Session, batch_id: int) -> None:
    for plot_id in db.exec(select(Plot.id).where(Plot.batch_id == batch_id)).all():
        assert client.post(f"/batches/{batch_id}/plots/{plot_id}/delete",
                           token_from=f"/batches/{batch_id}/plots").status_code == 302
    assert _plots(db, batch_id) == 0


def test_a_coffee_batch_is_not_submitted_without_plots(client: Client, world: World,
                                                       db: Session, app: Flask) -> None:
    batch = world.batch_a
    world.attach_evidence(batch, world.exporter_a)
    db.commit()
    client.login("a@test.id")
    _clear_plots(client, db, batch.id)
    response = client.post(f"/batches/{batch.id}/submit", token_from=f"/batches/{batch.id}")
    assert response.status_code == 422
    assert "falls under the EU Deforestation Regulation" in response.get_data(as_text=True)
    assert _status(db, batch.id) == "draft"

    body = assert_problem(api_for(app, db, world.exporter_a).post(
        f"/batches/{batch.id}/submit"), 422)
    assert body["codes"] == {"plots": "plots_missing"}
    assert _status(db, batch.id) == "draft"

    assert _add(client, batch.id, coordinates=f"{LAT:.6f}, {LON:.6f}",
                declared_ha="1.5").status_code == 302
    page = client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert "Desa Tepal" in page and "<svg" in page
    assert client.post(f"/batches/{batch.id}/submit").status_code == 302
    assert _status(db, batch.id) == "submitted"
    # Frozen with the batch: no more changes, and the office of the origin sees the plots.
    assert _add(client, batch.id, coordinates=f"{LAT:.6f}, {LON:.6f}",
                declared_ha="1").status_code == 409
    office = Client(app.test_client())
    office.login("officer.ntb@test.id")
    review = office.get(f"/review/batches/{batch.id}").get_data(as_text=True)
    assert "Desa Tepal" in review and 'class="plot-map"' in review
    assert office.get(f"/batches/{batch.id}/plots").status_code == 200


def test_each_bad_plot_is_refused_with_a_clear_message(client: Client, world: World,
                                                       db: Session) -> None:
    batch = world.batch_a.id
    client.login("a@test.id")
    before = _plots(db, batch)
    crossing = _add(client, batch, coordinates=_square(0.003, bow=True), declared_ha="10")
    assert crossing.status_code == 422
    assert "sides cross each other near" in crossing.get_data(as_text=True)

    outside = f"{-8.65:.6f}, {115.216667:.6f}"  # Denpasar, Bali: not Sumbawa
    refused = _add(client, batch, coordinates=outside, declared_ha="1")
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "km outside Kabupaten Sumbawa" in text and "Kota Denpasar" in text

    short = _add(client, batch, coordinates=f"{LAT:.4f}, {LON:.4f}", declared_ha="1")
    assert short.status_code == 422
    assert re.search(r"at least 6 decimals \(about 10 cm\); [-\d.]+ has 4", short.get_data(
        as_text=True))

    wrong_area = _add(client, batch, coordinates=_square(0.003), declared_ha="4")
    assert wrong_area.status_code == 422
    assert "they must agree within 10 % or 0.1 ha" in wrong_area.get_data(as_text=True)
    # Nothing of any of them was recorded.
    assert _plots(db, batch) == before


def test_uploads_and_the_eu_geojson_export(client: Client, world: World, db: Session,
                                          app: Flask) -> None:
    batch = world.batch_a.id
    client.login("a@test.id")
    area = rules.area_ha(rules.parse_text(_square(0.004))[0].geometry)
    # Six decimals that a float keeps (LAT itself is -8.7366: json.dumps would write four).
    lat = LAT + 0.000123
    ring = [[round(LON + dx, 6), round(lat + dy, 6)] for dy, dx in
            [(0, 0), (0, 0.004), (0.004, 0.004), (0.004, 0), (0, 0)]]
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"Area": float(area), "ProductionPlace": "Kebun A"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}},
        {"type": "Feature", "properties": {"Area": 0.8, "ProductionPlace": "Kebun B"},
         "geometry": {"type": "Point", "coordinates": [round(LON + 0.01, 6),
                                                       round(lat + 0.01, 6)]}}]}
    text = json.dumps(collection).encode()
    response = _add(client, batch, file=(io.BytesIO(text), "plots.geojson"))
    assert response.status_code == 302, re.findall(r"<li>Plot.{0,300}",
                                                   response.get_data(as_text=True))
    kml = (f'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>Kebun C</name>'
           f'<Point><coordinates>{LON - 0.01:.6f},{LAT - 0.01:.6f},0</coordinates></Point>'
           f'</Placemark></kml>').encode()
    assert _add(client, batch, file=(io.BytesIO(kml), "c.kml"),
                declared_ha="2").status_code == 302

    exported = client.get(f"/batches/{batch}/plots.geojson")
    assert exported.status_code == 200 and exported.mimetype == "application/geo+json"
    body = json.loads(exported.get_data(as_text=True))
    jsonschema.validate(body, SCHEMA)
    places = [f["properties"]["ProductionPlace"] for f in body["features"]]
    assert places == ["Desa Batu Dulang", "Kebun A", "Kebun B", "Kebun C"]
    assert {f["properties"]["ProducerCountry"] for f in body["features"]} == {"ID"}
    assert [f["geometry"]["type"] for f in body["features"]][1:] == ["Polygon", "Point",
                                                                     "Point"]
    # Every coordinate written with at least six decimals, as the EU counts them.
    numbers = re.findall(r'"coordinates":(\[[^"]*\])', exported.get_data(as_text=True))
    assert numbers and all(len(n.split(".")[1]) >= 6
                           for block in numbers for n in re.findall(r"-?\d+\.\d+", block))

    api = api_for(app, db, world.exporter_a)
    via_api = api.get(f"/batches/{batch}/plots.geojson")
    assert via_api.status_code == 200
    jsonschema.validate(json.loads(via_api.get_data(as_text=True)), SCHEMA)
    assert_problem(api_for(app, db, world.exporter_b).get(f"/batches/{batch}/plots.geojson"),
                   404)
    spec = api.get("/openapi.json").get_json()
    assert "application/geo+json" in json.dumps(
        spec["paths"]["/batches/{batch_id}/plots.geojson"])


def test_public_page_says_plots_are_on_record_never_where(app: Flask, world: World,
                                                          db: Session) -> None:
    labels = signed_labels(app, world, db, quantity=1)
    phone = app.test_client()
    path = "/verify" + label_path(labels[0])
    plot_geometry = db.exec(select(Plot.geometry).where(
        Plot.batch_id == world.batch_a.id)).one()
    lon, lat = json.loads(plot_geometry)["coordinates"]
    sentences = {"en": "Plot geolocation is on record for EU due diligence.",
                 "id": "Geolokasi", "zh": "欧盟", "ja": "EU"}
    for lang, words in sentences.items():
        page = phone.get(path, headers={"Accept-Language": lang}).get_data(as_text=True)
        assert words in page, lang
        assert f"{lat:.4f}" not in page and f"{lon:.4f}" not in page
    as_json = phone.get(path, headers={"Accept": "application/json"}).get_data(as_text=True)
    assert json.loads(as_json)["batch"]["plot_geolocation_on_record"] is True
    linkset = phone.get(label_path(labels[0]).split("?")[0],
                        query_string={"linkType": "linkset"}).get_data(as_text=True)
    for text in (as_json, linkset):
        assert f"{lat:.4f}" not in text and f"{lon:.4f}" not in text


def test_honey_needs_no_plots_and_drafts_stay_with_the_exporter(
        client: Client, world: World, db: Session, app: Flask) -> None:
    honey = world.product(world.exporter_a, "Madu Hutan", "Forest Honey")
    honey.hs_code = "040900"
    db.add(honey)
    db.commit()
    batch = world.batch(world.exporter_a, honey, "HNY-1", "52.04")
    world.attach_evidence(batch, world.exporter_a)
    db.commit()
    client.login("a@test.id")
    page = client.get(f"/batches/{batch.id}/plots").get_data(as_text=True)
    assert "plots are optional" in page
    assert client.post(f"/batches/{batch.id}/submit",
                       token_from=f"/batches/{batch.id}").status_code == 302
    assert _status(db, batch.id) == "submitted" and _plots(db, batch.id) == 0

    office = Client(app.test_client())
    office.login("officer.ntb@test.id")
    # Batch A is still a draft: its plots are the exporter's alone.
    assert office.get(f"/batches/{world.batch_a.id}/plots").status_code == 404
    assert office.get(f"/batches/{world.batch_a.id}/plots.geojson").status_code == 404


def test_every_plot_problem_has_words_in_english_and_indonesian(app: Flask) -> None:
    from flask_babel import force_locale

    from registry.plots.presenters import issue_message

    detail = {"line": 2, "text": "-8.51", "format": "KML", "kind": "LineString", "max": 500,
              "decimals": 2, "lat": "-8.500000", "lon": "117.400000", "reason": "Too few points",
              "area": Decimal("5"), "declared": Decimal("5"), "measured": Decimal("7.25"),
              "km": 12.5, "regency": "52.04", "found": "51.71"}
    with app.test_request_context():
        for issue in rules.Issue:
            item = rules.PlotIssue(issue, 3, detail)
            with force_locale("en"):
                english = issue_message(item)
            with force_locale("id"):
                indonesian = issue_message(item)
            assert english.startswith("Plot 3: ") and indonesian.startswith("Petak 3: "), issue
            assert english != indonesian and "%(" not in english + indonesian, issue


def test_a_file_over_the_upload_limit_is_refused_by_its_field(client: Client, world: World,
                                                              db: Session, app: Flask) -> None:
    app.config["MAX_UPLOAD_BYTES"] = 200
    client.login("a@test.id")
    before = _plots(db, world.batch_a.id)
    big = b'{"type":"FeatureCollection","features":[]}' + b" " * 400
    response = _add(client, world.batch_a.id, file=(io.BytesIO(big), "big.geojson"))
    assert response.status_code == 422
    assert "The file is too large" in response.get_data(as_text=True)
    assert _plots(db, world.batch_a.id) == before


def test_a_shipments_geojson_is_the_batchs_plots_with_its_peb(client: Client, world: World,
                                                               db: Session) -> None:
    """Per shipment (issue 18 §3): the batch's plots, each naming the shipment's customs
    export declaration; valid against the same schema; only for a shipment of that batch."""
    from registry.catalog.certification import Action
    from registry.shipments import services as shipments
    from tests.test_access import shipment_input

    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    shipment = shipments.declare(db, world.exporter_a, world.batch_a.id, shipment_input())
    db.commit()
    client.login("a@test.id")
    path = f"/batches/{world.batch_a.id}/shipments/{shipment.id}/plots.geojson"
    answer = client.get(path)
    assert answer.status_code == 200 and answer.mimetype == "application/geo+json"
    assert f"shipment-{shipment.id}" in answer.headers["Content-Disposition"]
    body = json.loads(answer.get_data(as_text=True))
    jsonschema.validate(body, SCHEMA)
    whole = json.loads(client.get(f"/batches/{world.batch_a.id}/plots.geojson")
                       .get_data(as_text=True))
    assert [f["geometry"] for f in body["features"]] == [f["geometry"] for f in
                                                         whole["features"]]
    assert {f["properties"]["Shipment"] for f in body["features"]} == {
        f"PEB {shipment.peb_number} {shipment.peb_date:%Y-%m-%d}"}
    # A shipment number of another batch (or none) is not found.
    assert client.get(f"/batches/{world.batch_b.id}/shipments/{shipment.id}/plots.geojson"
                      ).status_code == 404
    assert client.get(f"/batches/{world.batch_a.id}/shipments/99999/plots.geojson"
                      ).status_code == 404


def test_the_commodity_is_named_in_the_readers_language(client: Client, world: World) -> None:
    """The annex's commodity on the batch's pages: "kopi" in Indonesian, never the annex's
    English code (it read "This product (coffee) …" on the Indonesian pages)."""
    client.login("a@test.id")
    batch = world.batch_a.id
    for path in (f"/batches/{batch}", f"/batches/{batch}/plots"):
        for lang, word, other in (("id", "(kopi)", "(coffee)"), ("en", "(coffee)", "(kopi)")):
            page = client.get(path, headers={"Accept-Language": lang}).get_data(as_text=True)
            assert word in page and other not in page, (path, lang)


def _parcel(dlon: float, side: float = 0.002) -> list[list[float]]:
    lat = LAT + 0.000123  # six decimals a float keeps
    return [[round(LON + dlon + dx, 6), round(lat + dy, 6)] for dy, dx in
            [(0, 0), (0, side), (side, side), (side, 0), (0, 0)]]


def test_a_plot_of_two_parcels_is_recorded_shown_and_exported(
        client: Client, world: World, db: Session) -> None:
    """A farmer's plot made of two separate parcels, as GIS programs write it (a
    MultiPolygon): recorded as one plot with both parcels' area, listed as such, and
    exported to the EU file as the MultiPolygon it is; overlapping parcels are refused with
    where they overlap."""
    batch = world.batch_a.id
    client.login("a@test.id")
    both = {"type": "MultiPolygon", "coordinates": [[_parcel(0)], [_parcel(0.004)]]}
    area = rules.area_ha(rules.parse_geojson(json.dumps(both).encode())[0].geometry)
    before = _plots(db, batch)

    overlapping = {"type": "MultiPolygon", "coordinates": [[_parcel(0)], [_parcel(0.001)]]}
    refused = _add(client, batch, file=(io.BytesIO(json.dumps(
        {"type": "Feature", "properties": {"Area": float(area)},
         "geometry": overlapping}).encode()), "overlap.geojson"))
    assert refused.status_code == 422
    assert re.search(r"Plot 1: The parcels of this plot overlap near -?\d+\.\d{6}, "
                     r"-?\d+\.\d{6}: give each piece of land once\.",
                     refused.get_data(as_text=True))
    assert _plots(db, batch) == before

    text = json.dumps({"type": "Feature", "properties": {
        "Area": float(area), "ProductionPlace": "Kebun Dua Petak"}, "geometry": both}).encode()
    response = _add(client, batch, file=(io.BytesIO(text), "dua.geojson"))
    assert response.status_code == 302, re.findall(r"<li>Plot.{0,300}",
                                                   response.get_data(as_text=True))
    assert _plots(db, batch) == before + 1
    page = client.get(f"/batches/{batch}/plots?lang=en").get_data(as_text=True)
    assert "Polygon of 2 parcels" in page and "Kebun Dua Petak" in page
    assert "Poligon dengan 2 bidang" in client.get(
        f"/batches/{batch}/plots?lang=id").get_data(as_text=True)

    exported = json.loads(client.get(f"/batches/{batch}/plots.geojson").get_data(as_text=True))
    jsonschema.validate(exported, SCHEMA)
    (plot,) = [f for f in exported["features"]
               if f["properties"]["ProductionPlace"] == "Kebun Dua Petak"]
    assert plot["geometry"]["type"] == "MultiPolygon"
    assert [len(part[0]) for part in plot["geometry"]["coordinates"]] == [5, 5]
    assert plot["properties"]["Area"] == float(area)
