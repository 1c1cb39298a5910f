"""Issue 14 §4: every verification-family page (a label's verdict, a lot's and a product's
walk-up page, the report form) renders exporter-entered text that is hostile: markup that
must stay text, a right-to-left override that must not reverse the page's own words, and a
very long word; in all four languages.

The text is written straight into the rows (as if it had got past every form): the pages
must be safe whatever the database holds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from conftest import World
from registry.gs1 import digital_link as gs1
from tests.verify.verify_support import path_of, signed_labels

MARKUP = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&'
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "\u202edlrow" shows as "world"
LONG = "Madu" + "x" * 280


@pytest.fixture
def hostile(app: Flask, world: World, db: Session) -> str:
    label = signed_labels(app, world, db, 1)[0]
    # The facts as frozen with the certified batch (what every public page shows), and the
    # exporter's name.
    company, batch = world.company_a, world.batch_a
    db.refresh(batch)
    batch.product_name_en = f"{MARKUP} {RLO}yenoH {LONG}"[:300]
    batch.product_name_id = f"{MARKUP} {RLO}uMad"
    batch.product_description = f"{MARKUP} {RLO}txet {LONG}"
    batch.producer = f"{MARKUP} {RLO}iloppuK"[:200]
    company.name = f"{MARKUP} {RLO}A ynapmoC"
    db.add(batch)
    db.add(company)
    db.commit()
    return label


def _pages(label: str) -> dict[str, str]:
    link = gs1.parse_uri(label)
    return {"label": path_of(label),
            "lot": f"/verify/01/{link.gtin}/10/{link.lot}",
            "product": f"/verify/01/{link.gtin}",
            "report": "/verify/report?uri=" + path_of(label).replace("&", "%26").replace(
                "?", "%3F")}


def _outside_bdi(html: str) -> str:
    """The page without its isolated runs: <bdi> elements, and first-strong isolates (U+2068
    … U+2069) where markup cannot go (the title)."""
    return re.sub(r"<bdi>.*?</bdi>|\u2068.*?\u2069", "", html, flags=re.S)


@pytest.mark.parametrize("lang", ["en", "id", "zh", "ja"])
def test_hostile_exporter_text_stays_text_on_every_verification_page(
        app: Flask, hostile: str, lang: str) -> None:
    http = app.test_client()
    for name, path in _pages(hostile).items():
        joiner = "&" if "?" in path else "?"
        response = http.get(f"{path}{joiner}lang={lang}", headers={"Accept": "text/html"})
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (name, html[:500])
        assert f'<html lang="{lang}">' in html, name
        # Markup is shown, never run: no tag of the exporter's reaches the page.
        assert "<script>alert" not in html and "<img src=x" not in html, name
        assert "onerror=alert(2)" not in html.replace("&lt;img src=x onerror=alert(2)&gt;", "")
        if name != "report":  # the report form shows only the label's code
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name
            # A right-to-left override is isolated with the text it came in.
            assert RLO in html, name
            assert RLO not in _outside_bdi(html), name
    # The long word is printed whole (wrapping is the style sheet's job: overflow-wrap).
    page = http.get(_pages(hostile)["product"]).get_data(as_text=True)
    assert LONG[:200] in page


def test_the_bad_code_page_never_echoes_the_code(app: Flask) -> None:
    http = app.test_client()
    for lang in ("en", "id", "zh", "ja"):
        response = http.get(f"/01/{MARKUP}?lang={lang}".replace(" ", "%20"),
                            headers={"Accept": "text/html", "Accept-Language": lang})
        html: Any = response.get_data(as_text=True)
        assert response.status_code in (400, 404)
        assert "<script>alert" not in html
