"""One clock (issue 15 §3): moments are stored and read as aware UTC on both databases
(``registry.db.types.UTCDateTime``); what a person reads is WITA, with the zone said."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import StatementError
from sqlmodel import Session, col, select

from conftest import Client, World
from registry.clock import REGION_TZ, start_of_day
from registry.review.models import Decision
from registry.verify import facts
from registry.verify.models import Scan
from tests.verify.verify_support import path_of, signed_labels

# 05:42 WITA on 2 December is 21:42 UTC on 1 December.
APPROVED_AT = dt.datetime(2026, 12, 2, 5, 42, tzinfo=REGION_TZ)


def test_moments_come_back_aware_utc_whatever_zone_went_in(db: Session, world: World) -> None:
    scan = Scan(created_at=APPROVED_AT, gtin="0" * 14, lot="L", serial="1", verdict="genuine",
                language="en", client="c" * 16)
    db.add(scan)
    db.commit()
    db.expire_all()
    back = db.exec(select(Scan)).one().created_at
    assert back.tzinfo is not None and back.utcoffset() == dt.timedelta(0)
    assert back == APPROVED_AT  # the same moment, now said in UTC
    assert (back.day, back.hour) == (1, 21)


def test_a_naive_moment_is_refused_not_guessed(db: Session) -> None:
    db.add(Scan(created_at=dt.datetime(2026, 12, 2, 5, 42), gtin="0" * 14, lot="L",
                serial="1", verdict="genuine", language="en", client="c" * 16))
    with pytest.raises(StatementError, match="naive datetime"):
        db.flush()
    db.rollback()


def _approved_before_dawn(db: Session, world: World) -> None:
    # Through the column's type, as the registry writes moments (UTC on both databases).
    # Written around the services, as a repair would be: its label's facts follow as
    # `flask facts refresh` puts them right.
    db.execute(update(Decision).where(col(Decision.action) == "approve")
               .values(created_at=APPROVED_AT)
               .execution_options(**{facts.FACTS_REFRESHED: True}))
    facts.refresh(db.connection(), [world.batch_a.id])
    db.commit()


def test_certified_on_is_the_date_in_wita(app: Flask, db: Session, world: World) -> None:
    label = signed_labels(app, world, db, 1)[0]
    _approved_before_dawn(db, world)
    http = app.test_client()
    body = http.get(path_of(label), headers={"Accept": "application/json"}).json
    assert body["batch"]["certified_on"] == "2026-12-02"
    page = http.get(path_of(label) + "&lang=en").get_data(as_text=True)
    assert "<dt>Certified on</dt><dd>Dec 2, 2026</dd>" in page


def test_times_on_pages_say_their_zone(app: Flask, db: Session, world: World,
                                       client: Client) -> None:
    signed_labels(app, world, db, 1)
    _approved_before_dawn(db, world)
    client.login("a@test.id")
    html = client.get(f"/batches/{world.batch_a.id}?lang=en").get_data(as_text=True)
    stamps = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', html)
    assert stamps, "the batch history shows its events"
    for machine, shown in stamps:
        assert dt.datetime.fromisoformat(machine).tzinfo is not None, machine
        assert shown.endswith("WITA"), shown
    # The approval, in the decisions list: 2 December, 05:42 WITA.
    assert "Dec 2, 2026, 5:42:00\u202fAM WITA" in html or "Dec 2, 2026, 5:42:00 AM WITA" in html


def test_a_wita_day_starts_at_16_utc_the_day_before() -> None:
    start = start_of_day(dt.date(2026, 12, 2))
    assert start == dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
    assert start.tzinfo is dt.UTC
    assert start_of_day(dt.date(2027, 1, 1)) == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)
