"""The batch's journey on the public verification page, its JSON and (below) its EPCIS
events: produced → certified → passed the Bali hub → shipped to, in the four languages."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
from flask import Flask
from sqlmodel import Session
from verify_support import label_path, path_of, schema, signed_labels

from conftest import World
from registry.clock import today
from registry.gs1 import digital_link as gs1
from registry.gs1.digital_link import parse_uri
from registry.shipments import services as shipments
from registry.shipments.rules import ShipmentInput


def ship_and_confirm(world: World, db: Session, *, passage: dt.date) -> None:
    """Batch A (NTB, to the Netherlands) leaves through Benoa for Rotterdam; the Bali office
    confirms the passage. A second shipment stays declared: the public never sees it."""
    for locode, quantity in (("NLRTM", "300"), ("NLAMS", "10")):
        hub = "benoa" if locode == "NLRTM" else "ngurah-rai"
        shipment = shipments.declare(db, world.exporter_a, world.batch_a.id, ShipmentInput(
            hub=hub, planned_date=today(), peb_number="012345", peb_date=passage,
            transport_document="MAEU123456789" if hub == "benoa" else "020-12345675",
            containers=("CSQU3054383",) if hub == "benoa" else (),
            destination_locode=locode, quantity=Decimal(quantity)))
        db.commit()
        if locode == "NLRTM":
            shipments.confirm(db, world.officer_bali, shipment.id, passage_date=passage,
                              remarks="")
            db.commit()


EXPECTED = {
    "en": ("Journey", "Harvested or produced in Kabupaten Sumbawa, Nusa Tenggara Barat",
           "Certified by Office 52", "Passed the Bali hub: Pelabuhan Benoa (IDBOA)",
           "Shipped to Rotterdam (NLRTM), Netherlands"),
    "id": ("Perjalanan", "Dipanen atau diproduksi di Kabupaten Sumbawa, Nusa Tenggara Barat",
           "Disertifikasi oleh Office 52", "Melewati hub Bali: Pelabuhan Benoa (IDBOA)",
           "Dikirim ke Rotterdam (NLRTM), Belanda"),
    "zh": ("流转历程", "收获或生产于Kabupaten Sumbawa, Nusa Tenggara Barat", "由Office 52认证",
           "经巴厘岛枢纽：Pelabuhan Benoa (IDBOA)", "运往荷兰 Rotterdam (NLRTM)"),
    "ja": ("たどった道のり", "Kabupaten Sumbawa, Nusa Tenggara Baratで収穫または生産",
           "Office 52が認証", "バリのハブを通過：Pelabuhan Benoa (IDBOA)",
           "オランダ・Rotterdam (NLRTM)へ出荷"),
}


def test_the_page_tells_the_journey_in_four_languages(app: Flask, world: World,
                                                      db: Session) -> None:
    uri = signed_labels(app, world, db, quantity=1)[0]
    passage = today() - dt.timedelta(days=1)
    http = app.test_client()
    before = http.get(path_of(uri) + "&lang=en").get_data(as_text=True)
    assert "Passed the Bali hub" not in before and "Harvested or produced in" in before
    ship_and_confirm(world, db, passage=passage)
    for lang, words in EXPECTED.items():
        page = http.get(path_of(uri) + f"&lang={lang}").get_data(as_text=True)
        for text in words:
            assert text in page, (lang, text)
        # Steps in order, each day as a <time> in the reader's locale.
        positions = [page.index(text) for text in words[1:]]
        assert positions == sorted(positions), lang
        assert f'<time datetime="{passage.isoformat()}">' in page
        assert "Amsterdam" not in page  # declared, not confirmed: not public
        assert "<script" not in page


def test_the_json_carries_the_same_journey(app: Flask, world: World, db: Session) -> None:
    uri = signed_labels(app, world, db, quantity=1)[0]
    passage = today() - dt.timedelta(days=2)
    ship_and_confirm(world, db, passage=passage)
    answer = app.test_client().get(path_of(uri), headers={"Accept": "application/json"})
    body = answer.get_json()
    jsonschema.validate(body, schema("verification.schema.json"))
    journey = body["batch"]["journey"]
    assert [step["step"] for step in journey] == ["produced", "certified", "hub_passage",
                                                  "shipped"]
    assert journey[0]["regency_code"] == "52.04" and journey[0]["province"] == \
        "Nusa Tenggara Barat"
    assert journey[1]["office"] == "Office 52" and journey[1]["date"] == today().isoformat()
    assert journey[2] == {"step": "hub_passage", "date": passage.isoformat(), "hub": "benoa",
                          "hub_name": "Pelabuhan Benoa (IDBOA)", "locode": "IDBOA"}
    assert journey[3] == {"step": "shipped", "country": "NL", "locode": "NLRTM",
                          "port": "Rotterdam"}


EPCIS_SCHEMA = Path(__file__).with_name("schemas_gs1") / "EPCIS-JSON-Schema.json"


def test_the_lot_s_events_are_epcis_2_and_linked_from_the_linkset(
        app: Flask, world: World, db: Session) -> None:
    uri = signed_labels(app, world, db, quantity=1)[0]
    passage = today() - dt.timedelta(days=1)
    ship_and_confirm(world, db, passage=passage)
    http = app.test_client()
    label = parse_uri(uri)
    lot_path = gs1.lot_path(label.gtin, label.lot)
    # The linkset of the label (and of its lot) names the EPCIS events as gs1:epcis.
    linkset = http.get(label_path(uri), headers={"Accept": "application/linkset+json"})
    base = f"{app.config['PUBLIC_SCHEME']}://{app.config['PUBLIC_HOST']}"
    epcis_url = f"{base}/epcis{lot_path}"
    lot_entry = next(e for e in linkset.get_json()["linkset"] if e["anchor"] == base + lot_path)
    assert lot_entry["https://gs1.org/voc/epcis"] == [
        {"href": epcis_url, "title": "EPCIS events of this lot", "type": "application/ld+json"}]
    jsonschema.validate(linkset.get_json(), json.loads(
        (EPCIS_SCHEMA.parent / "gs1-linkset-schema.json").read_text("utf-8")))
    # ?linkType=gs1:epcis on the label walks up to its lot's events.
    redirect = http.get(label_path(uri) + "&linkType=gs1:epcis")
    assert redirect.status_code == 307 and redirect.headers["Location"] == epcis_url

    # Whatever Host the request names, the identifiers are on PUBLIC_HOST.
    answer = http.get(f"/epcis{lot_path}", headers={"Host": "evil.example"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/ld+json"
    document = answer.get_json()
    jsonschema.Draft7Validator(json.loads(EPCIS_SCHEMA.read_text("utf-8")),
                               format_checker=jsonschema.FormatChecker()).validate(document)
    assert "evil.example" not in answer.get_data(as_text=True)
    events = document["epcisBody"]["eventList"]
    assert [(e["action"], e["bizStep"]) for e in events] == [
        ("ADD", "commissioning"), ("OBSERVE", "inspecting"), ("OBSERVE", "departing")]
    lgtin = base + lot_path
    assert all(e["quantityList"][0]["epcClass"] == lgtin for e in events)
    assert events[0]["quantityList"][0] == {"epcClass": lgtin, "quantity": 1200.0,
                                            "uom": "KGM"}
    assert events[0]["readPoint"] == {"id": f"{base}/locations/regencies/52.04"}
    assert events[1]["bizLocation"] == {"id": f"{base}/locations/offices/52"}
    assert events[2]["readPoint"] == {"id": f"{base}/locations/hubs/benoa"}
    assert events[2]["eventTime"] == f"{passage.isoformat()}T00:00:00+08:00"
    assert events[2]["quantityList"][0]["quantity"] == 300.0
    assert events[2]["destinationList"] == [
        {"type": "location", "destination": f"{base}/locations/ports/NLRTM"}]
    assert all(e["eventTimeZoneOffset"] == "+08:00" for e in events)


def test_epcis_of_unknown_or_malformed_lots(app: Flask, world: World, db: Session) -> None:
    http = app.test_client()
    missing = http.get("/epcis/01/09506000134352/10/NOPE")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert http.get("/epcis/01/09506000134353/10/A").status_code == 400  # bad check digit
    assert http.get("/epcis/01/09506000134352").status_code == 400  # no lot
    # A lot under review is nobody's business yet.
    world.submit(world.batch_a, world.exporter_a)
    db.refresh(world.batch_a)
    assert http.get(f"/epcis{gs1.lot_path(world.batch_a.gtin or '', 'A-LOT-1')}"
                    ).status_code == 404


def test_the_lot_page_tells_the_same_journey(app: Flask, world: World, db: Session) -> None:
    uri = signed_labels(app, world, db, quantity=1)[0]
    ship_and_confirm(world, db, passage=today())
    label = parse_uri(uri)
    http = app.test_client()
    for lang, words in EXPECTED.items():
        page = http.get(f"/verify{gs1.lot_path(label.gtin, label.lot)}?lang={lang}"
                        ).get_data(as_text=True)
        for text in words:
            assert text in page, (lang, text)
