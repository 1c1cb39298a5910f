"""The desk's scan lists look back a period (``registry.desk.rules``): the last 90 days unless
the reader picks another (7 or 30 days, 12 months, all time). Seen as its users see it, over
HTTP: what each period lists, that every link of the page keeps the period picked, and that a
period nobody offers falls back to the default. (Bounding the work: test_desk_at_scale.)"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import insert
from sqlmodel import Session

from conftest import World
from registry.clock import utcnow
from registry.desk.rules import DEFAULT_PERIOD, Period, period_from, since
from registry.verify.attribution import Kind
from registry.verify.models import Scan
from registry.verify.rules import Verdict
from tests.integrity.scan_support import desk_page

CURRENT = re.compile(
    r'<nav class="periods"[^>]*>.*?<a href="[^"]*" aria-current="true">([^<]+)</a>', re.S)
LINKS = re.compile(r'href="(/desk\?[^"]+)"')


def _scan(world: World, number: int, days_ago: float, **columns: Any) -> dict[str, Any]:
    b = world.batch_a
    return {"created_at": utcnow() - dt.timedelta(days=days_ago), "batch_id": b.id,
            "gtin": "09501101530003", "lot": b.lot_code, "serial": str(number),
            "serial_number": number, "verdict": Verdict.POSSIBLE_COPY.value, "language": "id",
            "country": "JP", "country_source": "header", "mobile": True,
            "client": f"{number:016x}", "product_id": None, "organisation_id": None,
            "province_code": None, "kind": None, **columns}


@pytest.fixture
def history(db: Session, world: World) -> World:
    """Serials of company A's batch told "possible copy" 2, 45, 200 and 800 days ago, and a
    code naming no known product scanned 3 and 400 days ago (the administrators' desk)."""
    rows = [_scan(world, serial, days) for serial, days in
            ((1002, 2), (1045, 45), (1200, 200), (1800, 800))]
    rows += [_scan(world, 0, days, batch_id=None, serial_number=None, serial="9",
                   verdict=Verdict.NOT_GENUINE.value, product_id=None,
                   kind=Kind.UNKNOWN_PRODUCT.value, gtin="08991234567891", lot="X1")
             for days in (3, 400)]
    db.connection().execute(insert(Scan), rows)
    db.commit()
    return world


def _serials(html: str) -> list[str]:
    return re.findall(r'<tr class="copy"><td>[^<]*</td><td>[^<]*</td><td>(\d+)</td>', html)


@pytest.mark.parametrize("email", ["officer.ntb@test.id", "a@test.id"])
def test_each_period_lists_the_copies_told_in_it(
        history: World, make_client: Any, email: str) -> None:
    default = desk_page(make_client, email, "&show=copies")
    assert _serials(default) == ["1002", "1045"]
    assert CURRENT.search(default).group(1) == "Last 90 days"  # type: ignore[union-attr]
    expected = {"7d": ["1002"], "30d": ["1002"], "90d": ["1002", "1045"],
                "12m": ["1002", "1045", "1200"], "all": ["1002", "1045", "1200", "1800"]}
    for period, serials in expected.items():
        html = desk_page(make_client, email, f"&show=copies&period={period}")
        assert _serials(html) == serials, period
    week = desk_page(make_client, email, "&show=copies&period=7d")
    assert CURRENT.search(week).group(1) == "Last 7 days"  # type: ignore[union-attr]
    assert "No serial was judged a possible copy in this period." in desk_page(
        make_client, "officer.ntt@test.id", "&show=copies&period=all")


def _groups(html: str) -> list[int]:
    """The scan counts of the not-genuine list's groups."""
    return [int(n) for n in re.findall(
        r'<tr class="group">(?:<td>[^<]*</td>){2}<td class="num">(\d+)</td>', html)]


def test_the_administrators_scan_list_looks_back_the_period_too(
        history: World, make_client: Any) -> None:
    assert _groups(desk_page(make_client, "admin@test.id", "&show=scans")) == [1]
    assert _groups(desk_page(make_client, "admin@test.id", "&show=scans&period=7d")) == [1]
    assert _groups(desk_page(make_client, "admin@test.id", "&show=scans&period=12m")) == [1]
    assert _groups(desk_page(make_client, "admin@test.id", "&show=scans&period=all")) == [2]
    nothing = desk_page(make_client, "officer.ntt@test.id", "&show=scans&period=all")
    assert _groups(nothing) == [] and "No not-genuine scans in this period." in nothing


def test_every_link_keeps_the_period_picked(history: World, make_client: Any) -> None:
    html = desk_page(make_client, "admin@test.id", "&show=copies&all=1&period=12m")
    links = {link.replace("&amp;", "&") for link in LINKS.findall(html)}
    assert links == {
        # The administrators' "only what nobody else sees" keeps the period, not "everything".
        "/desk?show=copies&period=12m",
        # The lists' tabs keep both.
        "/desk?show=reports&all=1&period=12m", "/desk?show=scans&all=1&period=12m",
        "/desk?show=copies&all=1&period=12m",
        # The period links keep "everything" and name their own period.
        *(f"/desk?show=copies&period={p}&all=1" for p in ("7d", "30d", "90d", "12m", "all")),
    }


def test_a_period_nobody_offers_is_the_default(history: World, make_client: Any) -> None:
    for asked in ("abc", "", "1000", "90", "90d"):
        html = desk_page(make_client, "officer.ntb@test.id", f"&show=copies&period={asked}")
        assert _serials(html) == ["1002", "1045"], asked


def test_the_period_rules() -> None:
    now = dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC)
    assert period_from(None) is DEFAULT_PERIOD is Period.QUARTER
    assert period_from("all") is Period.ALL and period_from("7d") is Period.WEEK
    assert period_from("7") is DEFAULT_PERIOD and period_from("7d ") is DEFAULT_PERIOD
    assert since(Period.ALL, now) is None
    assert since(Period.WEEK, now) == dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
    assert since(Period.YEAR, now) == now - dt.timedelta(days=365)
