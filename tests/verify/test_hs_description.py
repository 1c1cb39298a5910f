"""The verification pages show the product's HS code with its description in the reader's
language: Indonesian where the registry has it, English otherwise, saying so (zh, ja)."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from sqlmodel import Session
from verify_support import signed_labels

from conftest import World
from registry.gs1 import digital_link as gs1

COFFEE_ID = "0901.11 — Kopi, tidak digongseng, tidak dihilangkan kafeinnya"
COFFEE_EN = "0901.11 — Coffee; not roasted or decaffeinated"


@pytest.mark.parametrize(("lang", "expected", "note"), [
    ("id", COFFEE_ID, None),
    ("en", COFFEE_EN, None),
    ("zh", '0901.11 — <span lang="en">Coffee; not roasted or decaffeinated</span>',
     "（仅有英文：暂无该语言的说明）"),
    ("ja", '0901.11 — <span lang="en">Coffee; not roasted or decaffeinated</span>',
     "（英語のみ：この言語の説明はまだありません）"),
])
def test_the_lot_and_product_pages_describe_the_hs_code_in_the_readers_language(
        app: Flask, world: World, db: Session, lang: str, expected: str,
        note: str | None) -> None:
    link = gs1.parse_uri(signed_labels(app, world, db, quantity=1)[0])
    for path in (f"/verify/01/{link.gtin}/10/{link.lot}", f"/verify/01/{link.gtin}"):
        response = app.test_client().get(path, headers={"Accept": "text/html",
                                                        "Accept-Language": lang})
        assert response.status_code == 200, path
        page = html.unescape(response.get_data(as_text=True))
        assert expected in page, path
        if note:
            assert note in page, path
        else:
            assert "English only" not in page and "bahasa Inggris" not in page
