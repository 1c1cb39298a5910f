"""The public verification page on a phone, in Debian chromium, with JavaScript disabled:
a buyer opens a real label URI in English, Indonesian, Chinese and Japanese."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import Session

from conftest import World
from registry.catalog.certification import Action
from registry.catalog.services import label_gtin
from registry.printing import services as printing
from registry.signing import keys

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
VERDICTS = {
    "en": "Genuine and certified",
    "id": "Asli dan tersertifikasi",
    "zh": "正品，已认证",
    "ja": "本物・認証済み",
}
LOCALES = {"en": "en-GB", "id": "id-ID", "zh": "zh-CN", "ja": "ja-JP"}
SCREENSHOT_DIR = Path(os.environ.get("VERIFY_SCREENSHOT_DIR", "/tmp"))


@pytest.fixture
def label_path(app: Flask, world: World, db: Session) -> str:
    """A printed serial of company A's certified batch, signed with the registry's key as
    the label PDF is."""
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    job = printing.order_job(db, world.exporter_a, world.batch_a.id,
                             printer_org_id=world.print_org.id, stock="a4-3x7", quantity=5,
                             net_quantity="500 g")
    db.commit()
    with app.app_context():
        uri = keys.signer().label_uri(app.config["PUBLIC_HOST"],
                                      label_gtin(world.product_a),
                                      world.batch_a.lot_code, str(job.serial_last),
                                      app.config["PUBLIC_SCHEME"])
    parts = urlsplit(uri)
    return f"{parts.path}?{parts.query}"


def _phone(new_context: Callable[..., Any], lang: str) -> Page:
    context = new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                          has_touch=True, java_script_enabled=False, locale=LOCALES[lang])
    return context.new_page()


def _scroll(page: Page) -> tuple[int, int]:
    # Measured with an isolated world script, which works with page JavaScript disabled.
    return page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")


@pytest.mark.parametrize("lang", ["en", "id", "zh", "ja"])
def test_verdict_in_the_buyers_language_on_a_phone(new_context: Callable[..., Any],
                                                   label_path: str, lang: str) -> None:
    page = _phone(new_context, lang)
    response = page.goto(label_path)  # the language comes from the phone's Accept-Language
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", lang)
    verdict = page.get_by_role("heading", level=1)
    expect(verdict).to_have_text(VERDICTS[lang], ignore_case=True)
    expect(page.locator(".verdict")).to_have_class("verdict ok")
    expect(page.get_by_role("heading", level=2).first).to_be_visible()
    width, visible = _scroll(page)
    assert width <= visible, f"horizontal scroll in {lang}: {width} > {visible}"
    # The verdict is the first thing on the screen, without scrolling.
    box = verdict.bounding_box()
    assert box is not None and box["y"] + box["height"] < PHONE["height"] / 2
    if lang == "ja":
        page.screenshot(path=str(SCREENSHOT_DIR / "verify-page-ja.png"), full_page=True)
    if lang == "en":
        page.screenshot(path=str(SCREENSHOT_DIR / "verify-page-en.png"), full_page=False)


def test_switching_language_keeps_it_in_the_url(new_context: Callable[..., Any],
                                                label_path: str) -> None:
    page = _phone(new_context, "en")
    page.goto(label_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(VERDICTS["en"], ignore_case=True)
    for lang in ("zh", "ja", "id", "en"):
        page.locator(f'nav a[hreflang="{lang}"]').click()
        expect(page.get_by_role("heading", level=1)).to_have_text(VERDICTS[lang],
                                                                  ignore_case=True)
        assert f"lang={lang}" in page.url and "s=" in page.url
        page.reload()  # the choice lives in the URL, not in a cookie or script
        expect(page.locator("html")).to_have_attribute("lang", lang)


def test_report_form_works_without_javascript(new_context: Callable[..., Any],
                                              label_path: str, db: Session) -> None:
    from sqlmodel import select

    from registry.verify.models import FakeReport

    page = _phone(new_context, "ja")
    page.goto(label_path)
    page.get_by_role("link", name="偽造の疑いを報告する").click()
    page.get_by_label("どこがおかしいですか？").fill("ホログラムがありません")
    page.get_by_role("button", name="報告を送信").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ありがとうございます")
    page.get_by_role("link", name="認証結果に戻る").click()  # back to the label's verdict
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(".verdict")).to_have_class("verdict ok")
    db.expire_all()
    assert db.exec(select(FakeReport)).one().message == "ホログラムがありません"


def test_not_genuine_on_a_phone(new_context: Callable[..., Any], label_path: str) -> None:
    page = _phone(new_context, "zh")
    tampered = label_path.replace("/21/5?", "/21/4?")
    page.goto(tampered)
    expect(page.get_by_role("heading", level=1)).to_have_text("非正品标签")
    expect(page.locator(".verdict")).to_have_class("verdict bad")
    page.goto("/01/123/10/x/21/1")
    expect(page.get_by_role("heading", level=1)).to_have_text("非正品标签")
    width, visible = _scroll(page)
    assert width <= visible
