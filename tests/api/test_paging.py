"""Long lists come a page at a time, counted and cut in SQL: an officer's queue and decided
batches on the web and through the API, an exporter's batches filtered by shown status."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from api_helpers import api_for
from flask import Flask
from sqlmodel import Session

from conftest import World
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.clock import today

SUBMITTED = 55  # more than one web page (50)


@pytest.fixture
def queue(world: World, db: Session) -> list[str]:
    """55 NTB batches of company A waiting for review, oldest submission first."""
    lots = []
    for n in range(SUBMITTED):
        batch = world.batch(world.exporter_a, world.product_a, f"Q-{n:03d}", "52.04")
        world.attach_evidence(batch, world.exporter_a)
        catalog.submit_batch(db, world.exporter_a, batch.id)
        lots.append(batch.lot_code)
    db.commit()
    return lots


def _approved(world: World, db: Session, lots: list[str]) -> list[Batch]:
    """Company A's NTB batches with these lots, submitted and approved in this order."""
    batches = [world.batch(world.exporter_a, world.product_a, lot, "52.04") for lot in lots]
    db.commit()
    for batch in batches:
        world.submit(batch, world.exporter_a)
        world.decide(batch, world.officer_ntb, Action.APPROVE)
    return batches


def _lots(html: str) -> list[str]:
    return re.findall(r">(Q-\d{3})</a>", html)


def test_officer_queue_comes_in_pages(make_client: Any, queue: list[str]) -> None:
    officer = make_client()
    officer.login("officer.ntb@test.id")
    first = officer.get("/review/?lang=en").get_data(as_text=True)
    assert _lots(first) == queue[:50]
    assert "1–50 of 55" in first
    assert 'href="/review/?page=2" rel="next"' in first and 'rel="prev"' not in first

    second = officer.get("/review/?page=2&lang=en").get_data(as_text=True)
    assert _lots(second) == queue[50:]
    assert "51–55 of 55" in second
    assert 'href="/review/?page=1" rel="prev"' in second and 'rel="next"' not in second

    past = officer.get("/review/?page=9")
    assert past.status_code == 302 and past.headers["Location"].endswith("/review/?page=2")
    assert _lots(officer.get("/review/?page=x").get_data(as_text=True)) == queue[:50]


def test_officer_of_another_province_gets_an_empty_first_page(
    make_client: Any, queue: list[str],
) -> None:
    officer = make_client()
    officer.login("officer.ntt@test.id")
    page = officer.get("/review/?page=3&lang=en")
    assert page.status_code == 200  # nothing to show: no redirect loop to a "last" page
    html = page.get_data(as_text=True)
    assert _lots(html) == [] and "No batches wait for review in your province." in html


def test_api_queue_pages_cover_the_queue_once_in_order(app: Flask, db: Session, world: World,
                                        queue: list[str]) -> None:
    api = api_for(app, db, world.officer_ntb)
    third = api.get("/review/queue?per_page=20&page=3")
    assert third.status_code == 200
    assert third.json["total"] == SUBMITTED and third.json["next"] is None
    assert [i["lot_code"] for i in third.json["items"]] == queue[40:]
    assert 'queue?page=2&per_page=20&status=submitted>; rel="prev"' in third.headers["Link"]
    seen = [i["lot_code"] for n in (1, 2, 3)
            for i in api.get(f"/review/queue?per_page=20&page={n}").json["items"]]
    assert seen == queue  # every batch once, in order, across pages


def test_api_batch_filter_by_shown_status(app: Flask, db: Session, world: World) -> None:
    """"expired" is approved with a validity in the past: the filter says so in SQL."""
    batches = _approved(world, db, ["S-0", "S-1", "S-2"])
    expired = db.get(Batch, batches[0].id)
    assert expired is not None
    expired.valid_until = today() - dt.timedelta(days=1)  # its validity ran out yesterday
    db.add(expired)
    db.commit()

    api = api_for(app, db, world.exporter_a)
    listing = api.get("/batches?status=expired")
    assert [i["lot_code"] for i in listing.json["items"]] == ["S-0"]
    assert listing.json["items"][0]["display_status"] == "expired"
    approved = api.get("/batches?status=approved&per_page=1")
    assert approved.json["total"] == 2 and len(approved.json["items"]) == 1
    assert approved.json["items"][0]["lot_code"] == "S-2"  # newest first
    assert api.get("/batches?status=approved&per_page=1&page=2").json["items"][0][
        "lot_code"] == "S-1"
    assert api.get("/batches").json["total"] == 4  # and the world's draft


def test_decided_batches_latest_decision_first(make_client: Any, db: Session,
                                               world: World) -> None:
    batches = _approved(world, db, ["Q-000", "Q-001", "Q-002"])
    world.decide(batches[0], world.officer_ntb, Action.SUSPEND)  # the latest decision
    officer = make_client()
    officer.login("officer.ntb@test.id")
    html = officer.get("/review/certified?lang=en").get_data(as_text=True)
    assert _lots(html) == ["Q-000", "Q-002", "Q-001"]
    assert "<th>Decided</th>" in html


def test_exporter_dashboard_shows_the_latest_of_each_status_then_pages(
    make_client: Any, db: Session, world: World,
) -> None:
    for n in range(52):  # 52 drafts: a page of 50 and a second of 2
        world.batch(world.exporter_a, world.product_a, f"Q-{n:03d}", "52.04")
    db.commit()
    world.submit(world.batch_a, world.exporter_a)
    exporter = make_client()
    exporter.login("a@test.id")
    overview = exporter.get("/batches?lang=en").get_data(as_text=True)
    assert "<strong>52</strong> Draft" in overview and "<strong>1</strong> Submitted" in overview
    assert len(_lots(overview)) == 50 and _lots(overview)[0] == "Q-051"  # newest first
    assert "A-LOT-1" in overview  # the submitted group is shown beside the drafts
    assert 'href="/batches?status=draft">All 52</a>' in overview

    drafts = exporter.get("/batches?status=draft&page=2&lang=en").get_data(as_text=True)
    assert _lots(drafts) == ["Q-001", "Q-000"] and "A-LOT-1" not in drafts
    assert "51–52 of 52" in drafts
    assert 'href="/batches?page=1&amp;status=draft" rel="prev"' in drafts
    past = exporter.get("/batches?status=draft&page=7")
    assert past.status_code == 302 and past.headers["Location"].endswith(
        "/batches?status=draft&page=2")
    none = exporter.get("/batches?status=revoked&lang=en").get_data(as_text=True)
    assert "No batches with this status." in none
    assert len(_lots(exporter.get("/batches?status=nonsense").get_data(as_text=True))) == 50
