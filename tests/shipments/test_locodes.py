"""UN/LOCODE from UNECE's release (registry/reference/unlocode.csv, SOURCES.md §4): the list,
its search page and API, and the shipment form's typed code, through the Flask client on both
databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import Session, select

from conftest import Client, World
from registry.catalog.certification import Action
from registry.clock import today
from registry.reference import HUB_LOCODES, locodes
from registry.reference.locode_search import search
from registry.shipments.models import Shipment

FORM = {"hub": "benoa", "peb_number": "012345", "transport_document": "MAEU123456789",
        "containers": "CSQU3054383", "quantity": "100"}


def form(locode: str) -> dict[str, str]:
    return {**FORM, "destination_locode": locode,
            "planned_date": (today() + dt.timedelta(days=4)).isoformat(),
            "peb_date": today().isoformat()}


def test_the_list_is_unece_s_ports_and_airports() -> None:
    places = locodes()
    assert len(places) > 10_000
    names = {code: (places[code].name, places[code].country) for code in (
        "NLRTM", "SGSIN", "JPTYO", "JPNRT", "JPUKB", "AUSYD", "IDBOA", "IDDPS", "DKCPH")}
    assert names == {
        "NLRTM": ("Rotterdam", "NL"), "SGSIN": ("Singapore", "SG"), "JPTYO": ("Tokyo", "JP"),
        "JPNRT": ("Narita Apt/Tokyo", "JP"), "JPUKB": ("Kobe", "JP"),
        "AUSYD": ("Sydney", "AU"), "IDBOA": ("Benoa", "ID"), "IDDPS": ("Denpasar, Bali", "ID"),
        # UNECE's own spelling, read from Windows-1252 into UTF-8.
        "DKCPH": ("København", "DK")}
    assert places["CNSHA"].name.startswith("Shanghai") and places["CNSHA"].is_airport
    assert places["NLRTM"].is_port and places["NLRTM"].is_airport
    assert places["IDBOA"].is_port and not places["IDBOA"].is_airport
    assert places["JPNRT"].is_airport and not places["JPNRT"].is_port
    # Every hub's code is in the list, as a place of the mode that leaves through it.
    assert places["IDBOA"].is_port and places["IDDPS"].is_airport
    assert places["IDCEB"].name.startswith("Celukan Bawang") and places["IDCEB"].is_port
    assert HUB_LOCODES == {"benoa": "IDBOA", "ngurah-rai": "IDDPS", "celukan-bawang": "IDCEB"}
    # Only seaports and airports (no rail or road terminal alone), none marked for deletion.
    assert all(p.is_port or p.is_airport for p in places.values())
    assert "BGGTB" not in places  # deleted in 2023-1 ("Use BGTOS"), and no port anyway
    assert locodes() is locodes()  # read once a process


def test_search_by_name_code_and_country() -> None:
    assert search("rotterdam").items[0].code == "NLRTM"
    assert search("NL RTM").items[0].code == "NLRTM"
    assert search("kobenhavn").items[0].code == "DKCPH"
    assert [p.code for p in search("benoa").items] == ["IDBOA"]
    netherlands = search("", country="NL")
    assert netherlands.total > 100 and {p.country for p in netherlands.items} == {"NL"}
    assert "NLRTM" in {p.code for p in search("rotterdam belanda").items}
    assert search("rotterdam", country="JP").total == 0
    assert search("").total == 0


def _certified(world: World) -> int:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    return world.batch_a.id  # type: ignore[return-value]


def test_the_form_takes_a_typed_code_and_refuses_an_unknown_one(
        world: World, db: Session, make_client: Callable[[], Client]) -> None:
    batch_id = _certified(world)  # to NL
    exporter = make_client()
    exporter.login("a@test.id")
    path = f"/batches/{batch_id}/shipments"
    # A well-formed code the list does not have: refused with the reason, nothing written.
    answer = exporter.post(path + "?lang=en", form("NLZZZ"), token_from=path)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "No seaport or airport of the UN/LOCODE list has this code" in page
    assert 'href="/locodes?country=NL&amp;q=NLZZZ"' in page
    # A place's name instead of its code: the places it names in the destination country.
    answer = exporter.post(path + "?lang=en", form("rotterdam"), token_from=path)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "five characters" in page and "<code>NLRTM</code> – Rotterdam" in page
    answer = exporter.post(path + "?lang=id", form("NLZZZ"), token_from=path)
    assert "No seaport" not in answer.get_data(as_text=True)
    db.expire_all()
    assert db.exec(select(Shipment)).all() == []
    # Lower case and spaces are the same code.
    assert exporter.post(path, form(" nl rtm "), token_from=path).status_code == 302
    db.expire_all()
    assert [s.destination_locode for s in db.exec(select(Shipment)).all()] == ["NLRTM"]


def test_the_search_page(world: World, make_client: Callable[[], Client]) -> None:
    exporter = make_client()
    exporter.login("a@test.id")
    page = exporter.get("/locodes?q=rotterdam&lang=en").get_data(as_text=True)
    assert "<code>NLRTM</code>" in page and "Rotterdam" in page and "Netherlands" in page
    assert "seaport, airport" in page
    within = exporter.get("/locodes?q=tokyo&country=JP&lang=en").get_data(as_text=True)
    assert "<code>JPTYO</code>" in within and "Only places in Japan" in within
    none = exporter.get("/locodes?q=zzzqqq&lang=en").get_data(as_text=True)
    assert "No port or airport matches" in none
    indonesian = exporter.get("/locodes?q=belanda&lang=id").get_data(as_text=True)
    assert "<code>NLRTM</code>" in indonesian and "pelabuhan laut" in indonesian
    # An unknown country is ignored rather than an error.
    assert exporter.get("/locodes?q=rotterdam&country=QQ").status_code == 200
    assert make_client().get("/locodes?q=rotterdam").status_code == 302  # signed in only
