"""An exporter registers a product under any HS 2022 subheading, found by code or by words in
Indonesian or English (issue 18 §4): the product form, the HS search page, and the pages that
show the code with its description in the reader's language."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from conftest import Client, World
from registry.audit.models import AuditEvent
from registry.catalog.models import Product

INDONESIAN = {"Accept-Language": "id-ID,id;q=0.9"}
ENGLISH = {"Accept-Language": "en"}
DRIED_FISH_ID = "Ikan lainnya yang tidak termasuk dalam subpos 0305.5, dikeringkan"
DRIED_FISH_EN = "Fish; dried, whether or not salted but not smoked"


@pytest.fixture
def exporter(client: Client, world: World) -> Client:
    client.login("a@test.id")
    return client


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def product(hs_code: str, name_en: str = "Dried skipjack") -> dict[str, str]:
    return {"name_id": "Ikan cakalang kering", "name_en": name_en, "category": "fishery",
            "hs_code": hs_code, "gtin": "", "description": ""}


def stored(db: Session, name_en: str) -> list[str]:
    db.expire_all()
    return list(db.exec(select(Product.hs_code).where(Product.name_en == name_en)).all())


def writes(db: Session) -> tuple[int, int]:
    db.expire_all()
    return (len(db.exec(select(Product.id)).all()), len(db.exec(select(AuditEvent.id)).all()))


@pytest.mark.parametrize(("typed", "code"), [
    ("030559", "030559"), ("0305.59", "030559"), ("1513.11", "151311"), ("2008.19", "200819"),
])
def test_an_exporter_registers_a_product_under_any_hs_2022_code(
        exporter: Client, db: Session, typed: str, code: str) -> None:
    # Before the whole nomenclature, 0305.59, 1513.11 and 2008.19 were refused.
    response = exporter.post("/products/new", product(typed))
    assert response.status_code == 302, text(response)[:3000]
    assert stored(db, "Dried skipjack") == [code]
    listing = text(exporter.get("/products", headers=ENGLISH))
    assert f"{code[:4]}.{code[4:]} — " in listing


def test_the_product_list_shows_the_description_in_indonesian(exporter: Client) -> None:
    assert exporter.post("/products/new", product("030559")).status_code == 302
    listing = text(exporter.get("/products", headers=INDONESIAN))
    assert f"0305.59 — {DRIED_FISH_ID}" in listing
    assert f"0305.59 — {DRIED_FISH_EN}" in text(exporter.get("/products", headers=ENGLISH))


def test_without_indonesian_text_the_english_is_shown_and_said_so(exporter: Client) -> None:
    # 1211.20 (ginseng roots) has no Indonesian description.
    assert exporter.post("/products/new", product("121120", "Ginseng")).status_code == 302
    listing = text(exporter.get("/products", headers=INDONESIAN))
    assert '1211.20 — <span lang="en">Ginseng roots' in listing
    assert "(hanya dalam bahasa Inggris: belum ada uraian dalam bahasa ini)" in listing


@pytest.mark.parametrize(("headers", "words"), [
    (ENGLISH, "This is not an HS 2022 code. Enter its six digits, e.g. 0305.59, or search the "
              "list by words."),
    (INDONESIAN, "Ini bukan kode HS 2022. Masukkan enam digitnya, misalnya 0305.59, atau cari "
                 "di daftar dengan kata."),
])
def test_an_unknown_code_is_refused_clearly_and_nothing_is_written(
        exporter: Client, db: Session, headers: dict[str, str], words: str) -> None:
    before = writes(db)
    response = exporter.post("/products/new", product("999999"), headers=headers)
    assert response.status_code == 200
    assert words in text(response)
    assert writes(db) == before


def test_words_typed_as_the_code_list_the_codes_they_match(exporter: Client,
                                                          db: Session) -> None:
    """No scripts needed: the form comes back with the codes "ikan kering" matches, and the
    exporter saves with one of them."""
    before = writes(db)
    page = text(exporter.post("/products/new", product("ikan kering"), headers=INDONESIAN))
    assert "Kode HS yang cocok dengan “ikan kering”" in page
    assert f"0305.59 — {DRIED_FISH_ID}" in page
    assert writes(db) == before
    assert exporter.post("/products/new", product("0305.59")).status_code == 302
    assert stored(db, "Dried skipjack") == ["030559"]


def test_the_form_suggests_the_typical_codes(exporter: Client) -> None:
    page = text(exporter.get("/products/new", headers=ENGLISH))
    assert 'list="hs-typical"' in page
    assert '<option value="0901.11">' in page
    assert page.count("<option value=") >= 65
    assert 'href="/hs-codes"' in page


def test_the_search_page_finds_a_code_by_an_indonesian_word(exporter: Client) -> None:
    page = text(exporter.get("/hs-codes?q=ikan+kering", headers=INDONESIAN))
    assert f"0305.59 — {DRIED_FISH_ID}" in page
    english = text(exporter.get("/hs-codes?q=dried+fish", headers=ENGLISH))
    assert f"0305.59 — {DRIED_FISH_EN}" in english


@pytest.mark.parametrize(("query", "expected"), [
    ("0305", "0305.59 — "), ("030559", "0305.59 — "), ("0305.59", "0305.59 — "),
    ("kelapa", "1513.11 — "), ("coconut", "1513.11 — "), ("keramik", "6912.00 — "),
])
def test_the_search_page_by_code_and_words(exporter: Client, query: str, expected: str) -> None:
    assert expected in text(exporter.get(f"/hs-codes?q={query}", headers=ENGLISH))


def test_the_search_page_lists_the_typical_codes_first(exporter: Client) -> None:
    page = text(exporter.get("/hs-codes", headers=ENGLISH))
    assert "0901.11 — Coffee; not roasted or decaffeinated" in page
    page = text(exporter.get("/hs-codes?q=ikan", headers=ENGLISH))
    # 0303.89 (typical: grouper) before 0301.11 (ornamental fish, not typical), against code
    # order; beef is not fish.
    assert page.index("0303.89 — ") < page.index("0301.11 — ")
    assert "0201.10 — " not in page


def test_the_search_page_says_when_nothing_matches(exporter: Client) -> None:
    page = text(exporter.get("/hs-codes?q=zzzzqqq", headers=ENGLISH))
    assert "No HS code matches “zzzzqqq”." in page


def test_the_search_page_is_for_signed_in_users(client: Client, world: World) -> None:
    response = client.get("/hs-codes?q=kopi")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_batch_page_shows_the_hs_description(exporter: Client, world: World,
                                                 app: Flask) -> None:
    page = text(exporter.get(f"/batches/{world.batch_a.id}", headers=INDONESIAN))
    assert "0901.11 — Kopi, tidak digongseng, tidak dihilangkan kafeinnya" in page
