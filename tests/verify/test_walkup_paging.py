"""A product's walk-up page (``/verify/01/{gtin}``, the resolver's default for ``/01/{gtin}``)
lists its decided lots a page at a time, newest first, with links to newer and older lots that
keep the reader's language. Before, it listed every decided lot of the GTIN on one page: a
public page whose cost grew with the product's history (a fishery's daily lots), for anyone
who asked. The product's origins stay those of every decided lot, whichever page is shown."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from sqlmodel import Session

from conftest import World, batch_input
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.catalog.rules import ProductInput
from registry.clock import today
from registry.verify import walkup

# Five decided lots of one product, produced a day apart, LOT-1 the oldest; only the oldest
# comes from Lombok Barat, the others from Sumbawa.
LOTS = ("LOT-1", "LOT-2", "LOT-3", "LOT-4", "LOT-5")


def decided_lots(world: World, db: Session) -> str:
    """The five lots approved by NTB's office, and a draft that must never show; their GTIN."""
    batches: list[Batch] = []
    for age, lot in enumerate(reversed(LOTS)):
        regency = "52.01" if lot == "LOT-1" else "52.04"
        batch = catalog.create_batch(db, world.exporter_a, batch_input(
            world.product_a, lot, regency,
            production_date=today() - dt.timedelta(days=10 + age)))
        db.commit()
        world.submit(batch, world.exporter_a)
        world.decide(batch, world.officer_ntb, Action.APPROVE)
        batches.append(batch)
        if lot == "LOT-5":
            # Renamed once the newest lot was submitted: its name stays with that lot, which
            # is the one the page names the product after.
            catalog.update_product(db, world.exporter_a, world.product_a.id, ProductInput(
                name_id="Madu Sumbawa Baru", name_en="New Sumbawa Honey",
                category="agriculture", hs_code="090111"))
            db.commit()
    catalog.create_batch(db, world.exporter_a, batch_input(world.product_a, "DRAFT", "52.04"))
    db.commit()
    gtin = batches[0].gtin
    assert gtin and all(b.gtin == gtin for b in batches)
    return gtin


def links(html: str, rel: str) -> list[str]:
    return [href.replace("&amp;", "&")
            for href in re.findall(rf'<a href="([^"]*)" rel="{rel}">', html)]


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two lots a page, so five lots make three pages (the page size itself is 50).
    monkeypatch.setattr(walkup, "LOTS_PER_PAGE", 2)


@pytest.mark.usefixtures("small_pages")
def test_a_product_s_lots_come_a_page_at_a_time_newest_first(app: Flask, world: World,
                                                             db: Session) -> None:
    gtin = decided_lots(world, db)
    http = app.test_client()
    path = f"/verify/01/{gtin}"
    seen: list[str] = []
    expected = [("1–2", ["LOT-5", "LOT-4"]), ("3–4", ["LOT-3", "LOT-2"]), ("5–5", ["LOT-1"])]
    url: str | None = path
    for number, (span, lots) in enumerate(expected, start=1):
        assert url is not None
        page = http.get(url, headers={"Accept": "text/html", "Accept-Language": "en"})
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        assert f"Lots {span} of 5, newest first" in html
        assert re.findall(r"Lot (LOT-\d)</a>", html) == lots
        # Every page names the product as its newest lot does, and the origins of all five
        # lots, the oldest's included.
        assert "<h1><bdi>Sumbawa Honey</bdi></h1>" in html
        assert "Kabupaten Lombok Barat, Nusa Tenggara Barat" in html
        assert "Kabupaten Sumbawa, Nusa Tenggara Barat" in html
        assert "DRAFT" not in html
        newer, older = links(html, "prev"), links(html, "next")
        assert newer == ([] if number == 1 else
                         [path if number == 2 else f"{path}?page={number - 1}"])
        url = older[0] if older else None
        seen += lots
    assert url is None  # the last page links to no older one
    assert seen == list(reversed(LOTS))


@pytest.mark.usefixtures("small_pages")
def test_paging_keeps_the_reader_s_language_and_forgives_odd_page_numbers(
        app: Flask, world: World, db: Session) -> None:
    gtin = decided_lots(world, db)
    http = app.test_client()
    path = f"/verify/01/{gtin}"

    page = http.get(f"{path}?page=2&lang=id", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert "Lot 3–4 dari 5, terbaru lebih dulu" in html
    assert links(html, "prev") == [f"{path}?lang=id"]
    assert links(html, "next") == [f"{path}?page=3&lang=id"]
    assert ">Lot yang lebih lama<" in html
    # The language links stay on page 2, each with its one language.
    assert f'href="{path}?page=2&amp;lang=ja"' in html
    assert "lang=id&amp;lang" not in html

    for lang, words in (("zh", "共 5 批"), ("ja", "全 5 ロット中 3–4")):
        html = http.get(f"{path}?page=2&lang={lang}").get_data(as_text=True)
        assert words in html, lang

    # Anything that is not a page number is the first page, as on every list of the site;
    # a page past the last has no lots and leads back to the last one.
    for odd in ("abc", "0", "-3", "", "1.5"):
        html = http.get(f"{path}?page={odd}").get_data(as_text=True)
        assert re.findall(r"Lot (LOT-\d)</a>", html) == ["LOT-5", "LOT-4"], odd
    page = http.get(f"{path}?page=99", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.findall(r"Lot (LOT-\d)</a>", html) == []
    assert "newest first" not in html  # no "Lots 197–196 of 5"
    assert links(html, "prev") == [f"{path}?page=3"]
    assert links(html, "next") == []


def test_one_page_of_lots_has_no_pager(app: Flask, world: World, db: Session) -> None:
    gtin = decided_lots(world, db)
    html = app.test_client().get(f"/verify/01/{gtin}",
                                 headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.findall(r"Lot (LOT-\d)</a>", html) == list(reversed(LOTS))
    assert "<h1><bdi>Sumbawa Honey</bdi></h1>" in html
    assert "Kabupaten Lombok Barat, Nusa Tenggara Barat" in html
    assert "newest first" not in html
    assert 'rel="next"' not in html and 'rel="prev"' not in html
