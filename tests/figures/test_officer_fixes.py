"""What the trade officers hit on the figures (issue 17 §4): a period that cannot be shown says
why, lead times read with a useful precision, the monthly PDF embeds its fonts and never ends
on a page holding only its footnote, and the dashboard's form controls are labelled once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pikepdf
import pypdfium2
import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import text
from sqlmodel import Session
from test_access import build_scene

from conftest import Client, World
from registry.catalog.certification import Action
from registry.clock import today
from registry.figures import exports, queries, summary
from registry.figures.queries import Filters, Row
from registry.reference import regencies

APRIL = dt.date(2026, 4, 1)


@pytest.fixture
def admin(world: World, make_client: Any) -> Client:
    client = make_client()
    client.login("admin@test.id")
    return client


def _alert(html: str) -> str:
    found = re.search(r'<div class="flash flash-error" role="alert">(.*?)</div>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def _month(day: dt.date, lang: str) -> str:
    from babel.dates import format_date

    return format_date(day, "MMM yyyy", locale=lang)


# ---------------------------------------------------------------- the period


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ("would end in", "before it starts in", "the last twelve months are shown")),
    ("id", ("akan berakhir pada", "sebelum dimulai pada", "dua belas bulan terakhir")),
])
def test_a_period_ending_before_it_starts_says_what_was_asked_and_what_is_shown(
        admin: Client, lang: str, words: tuple[str, ...]) -> None:
    html = admin.get(f"/figures/?from_month=2026-05&to_month=2026-01&lang={lang}").get_data(
        as_text=True)
    alert = _alert(html)
    for word in words:
        assert word in alert, alert
    end = today().replace(day=1)
    start = queries.add_months(end, -11)
    assert _month(dt.date(2026, 1, 1), lang) in alert and _month(dt.date(2026, 5, 1), lang) in alert
    assert f"{_month(start, lang)} – {_month(end, lang)}" in alert


def test_an_end_alone_before_the_default_start_names_the_start_it_met(admin: Client) -> None:
    """Only the end was given: the start the visitor never typed is named, not left to guess."""
    alert = _alert(admin.get("/figures/?to_month=2020-01&lang=en").get_data(as_text=True))
    start = queries.add_months(today().replace(day=1), -11)
    assert f"would end in Jan 2020, before it starts in {_month(start, 'en')}" in alert


@pytest.mark.parametrize(("query", "lang", "words"), [
    ("from_month=2026-13", "en", ("From month", "“2026-13” is not a month", "is used instead")),
    ("to_month=garbage", "id", ("Sampai bulan", "“garbage” bukan bulan", "digunakan")),
])
def test_an_unreadable_month_is_named_with_the_month_used_instead(
        admin: Client, query: str, lang: str, words: tuple[str, ...]) -> None:
    alert = _alert(admin.get(f"/figures/?{query}&lang={lang}").get_data(as_text=True))
    for word in words:
        assert word in alert, alert


def test_a_too_long_period_says_what_is_shown(admin: Client) -> None:
    alert = _alert(admin.get("/figures/?from_month=1900-01&to_month=2026-01&lang=en")
                   .get_data(as_text=True))
    assert "at most 120 months: Jan 1900 – Jan 2026 is longer, so Feb 2016 – Jan 2026" in alert


# ---------------------------------------------------------------- the lead time


@pytest.mark.parametrize(("minutes", "en", "id_"), [
    (None, "—", "—"), (0, "0 min", "0 menit"), (45, "45 min", "45 menit"), (60, "1 h", "1 jam"),
    (90, "1.5 h", "1,5 jam"), (95, "1.5 h", "1,5 jam"), (300, "5 h", "5 jam"),
    (26 * 60 + 20, "26 h", "26 jam"),
    (60 * 60, "2.5 days", "2,5 hari"), (240 * 60, "10 days", "10 hari"),
    (1000 * 24 * 60, "1,000 days", "1.000 hari"),
])
def test_lead_time_reads_in_minutes_hours_or_days(app: Flask, minutes: int | None, en: str,
                                                  id_: str) -> None:
    with app.test_request_context():
        for lang, expected in (("en", en), ("id", id_)):
            with force_locale(lang):
                assert exports.lead_time_text(minutes) == expected


def test_an_approval_within_the_hour_is_not_zero_hours(world: World, db: Session,
                                                       admin: Client) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    approved = db.execute(text("SELECT created_at FROM decision WHERE batch_id = :id"),
                          {"id": world.batch_a.id}).scalar_one()
    if isinstance(approved, str):  # SQLite hands the stored text back
        approved = dt.datetime.fromisoformat(approved)
    db.execute(text("UPDATE batch SET submitted_at = :t WHERE id = :id"),
               {"t": approved - dt.timedelta(minutes=45), "id": world.batch_a.id})
    summary.rebuild(db)  # moved behind the services' back: the summary cells are rebuilt
    db.commit()
    html = admin.get("/figures/?lang=en").get_data(as_text=True)
    median = re.search(r"Median lead time</dt><dd>([^<]*)</dd>", html)
    assert median and median.group(1) == "45 min"
    pdf = admin.get(f"/figures/report.pdf?month={today():%Y-%m}&province=all&lang=id")
    assert "45 menit" in _pdf_text(pdf.get_data())


# ---------------------------------------------------------------- the monthly PDF


def _pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    return "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def _unembedded_fonts(data: bytes) -> set[str]:
    """Base names of the fonts whose program is not in the file, on any page."""
    missing: set[str] = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            fonts = page.obj.get("/Resources", {}).get("/Font", {})
            for font in fonts.values():
                descendants = font.get("/DescendantFonts")
                for f in ([*descendants] if descendants is not None else [font]):
                    descriptor = f.get("/FontDescriptor")
                    if descriptor is None or not any(
                            k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                        missing.add(str(f.get("/BaseFont")))
    return missing


FOOTNOTE = {"en": "Certified batches are batches approved in the month",
            "id": "Batch tersertifikasi adalah batch yang disetujui"}


def _pages(data: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(data)
    return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]


@pytest.mark.parametrize("lang", ["en", "id"])
def test_monthly_pdf_embeds_its_fonts(world: World, admin: Client, lang: str) -> None:
    response = admin.get(f"/figures/report.pdf?month=2026-04&province=all&lang={lang}")
    assert response.status_code == 200
    assert _unembedded_fonts(response.get_data()) == set()


def test_no_page_of_the_monthly_pdf_holds_only_the_footnote(app: Flask, world: World,
                                                            db: Session) -> None:
    """Whatever the number of regencies and destinations, the footnote shares its page with
    figures: the lengths that pushed it alone onto a last page are among those tried."""
    names = sorted(regencies())
    countries = ["NL", "JP", "SG", "AU", "US", "CN", "DE", "FR", "KR", "TW", "MY", "AE", "GB",
                 "IT", "ES"]
    with app.test_request_context(), force_locale("en"):
        empty = queries.dashboard(db, world.admin, Filters(start=APRIL, end=APRIL))
        checked = 0
        for n_regencies in (1, 6, 12):
            for n_destinations in range(len(countries) + 1):
                figures = dataclasses.replace(
                    empty,
                    by_regency=[Row(k, 1, 10_000_000 * (i + 1), {"kg": Decimal(5)})
                                for i, k in enumerate(names[:n_regencies])],
                    by_destination=[Row(c, 1, 5_000_000, {"kg": Decimal(5), "l": Decimal(2)})
                                    for c in countries[:n_destinations]],
                    by_category=[Row(c, 2, 9_000_000, {"kg": Decimal(7)})
                                 for c in ("agriculture", "fishery", "handicraft")])
                data = exports.monthly_pdf(figures, province=None, month=APRIL)
                pages = _pages(data)
                last = pages[-1]
                assert FOOTNOTE["en"] in last
                body = last.split(FOOTNOTE["en"])[0]
                assert re.search(r"\w", body), (
                    f"{n_regencies} regencies, {n_destinations} destinations: "
                    f"page {len(pages)} holds only the footnote")
                assert _unembedded_fonts(data) == set()
                checked += 1
    assert checked == 48


# ---------------------------------------------------------------- the dashboard's markup


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_for: list[str] = []
        self.empty_th = 0
        self._th: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "label" and a.get("for"):
            self.label_for.append(a["for"] or "")
        if tag == "th":
            self._th = []

    def handle_data(self, data: str) -> None:
        if self._th is not None:
            self._th.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._th is not None:
            self.empty_th += not "".join(self._th).strip()
            self._th = None


def _parse(html: str) -> _Ids:
    parser = _Ids()
    parser.feed(html)
    return parser


def test_dashboard_ids_are_unique_and_each_label_names_its_own_control(admin: Client) -> None:
    html = admin.get("/figures/?lang=en").get_data(as_text=True)
    parsed = _parse(html)
    duplicates = {i for i in parsed.ids if parsed.ids.count(i) > 1}
    assert duplicates == set()
    assert all(target in parsed.ids for target in parsed.label_for)
    report = re.search(r'<form [^>]*aria-label="Monthly report".*?</form>', html, re.S)
    assert report is not None
    label = re.search(r'<label for="([^"]+)">Province</label>', report.group(0))
    assert label and re.search(rf'<select [^>]*id="{label.group(1)}"', report.group(0))
    # The report's fields keep their names: the query string of /figures/report.pdf.
    assert {"month", "province", "lang"} <= set(re.findall(r'name="(\w+)"', report.group(0)))


@pytest.mark.parametrize(("email", "path"), [
    ("admin@test.id", "/admin/users"), ("admin@test.id", "/accounts/pending"),
    ("a@test.id", "/account/tokens"), ("a@test.id", "/products"),
])
def test_no_empty_table_header(world: World, db: Session, app: Flask, make_client: Any,
                               email: str, path: str) -> None:
    build_scene(world, db, app, state="draft")  # a pending exporter, a token of A
    client = make_client()
    client.login(email)
    html = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert "<th" in html
    assert _parse(html).empty_th == 0
