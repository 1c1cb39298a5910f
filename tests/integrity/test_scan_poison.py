"""Issue 11 §5 (poison): one bad value can never stop scan recording. Rows are normalised at
the edge; a row the database still refuses is dropped and logged alone, the rest of the flush
is kept; every failure is logged and visible to operators in /healthz."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from scan_support import certified_labels, flush, path_of, phone
from sqlalchemy import text
from sqlmodel import Session

from conftest import World
from registry.clock import utcnow
from registry.verify.scanlog import ScanBuffer


def _scans(app: Flask) -> list[dict]:
    with app.extensions["engine"].connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT serial, country, language FROM scan ORDER BY id")).mappings()]


def test_a_raw_byte_in_accept_language_is_no_country_and_stops_nothing(
        app: Flask, world: World, db: Session) -> None:
    labels = certified_labels(app, world, db, quantity=2)
    buyer = phone(app, "203.0.113.9")
    # gunicorn hands the raw byte on as latin-1: "ß".upper() is "SS", so "SSSS" today.
    assert buyer.get(path_of(labels[0]), headers={"Accept-Language": "en-ßß"}).status_code == 200
    assert buyer.get(path_of(labels[1]), headers={"Accept-Language": "en-AU"}).status_code == 200
    flush(app)
    assert _scans(app) == [{"serial": "1", "country": None, "language": "en"},
                           {"serial": "2", "country": "AU", "language": "en"}]


@pytest.mark.parametrize("header", ["xx-ZZ", "en-A1", "en-ＡＵ", "de-DE-x-ÿÿ"])
def test_only_iso_3166_alpha_2_countries_are_kept(
        app: Flask, world: World, db: Session, header: str) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    assert phone(app, "203.0.113.9").get(
        path_of(label), headers={"Accept-Language": header}).status_code == 200
    flush(app)
    assert [r["country"] for r in _scans(app)] == [None if header != "de-DE-x-ÿÿ" else "DE"]


def _row(serial: str, **changes: object) -> dict:
    row = {"created_at": utcnow(), "batch_id": None, "gtin": "00490000000016", "lot": "A-LOT-1",
           "serial": serial, "serial_number": int(serial), "verdict": "not_genuine",
           "language": "en", "country": None, "mobile": False, "client": "0" * 16}
    row.update(changes)
    return row


def test_a_row_the_database_refuses_is_dropped_and_logged_alone(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """The real buffer on the real database: a row naming a batch that does not exist
    (a foreign key both databases enforce) among good ones."""
    buffer = ScanBuffer(app.extensions["engine"], background=False)
    buffer.add(_row("1"))
    buffer.add(_row("2", batch_id=999_999))
    buffer.add(_row("3"))
    with caplog.at_level(logging.WARNING, logger="registry.verify.scanlog"):
        assert buffer.flush() == 2
    assert [r["serial"] for r in _scans(app)] == ["1", "3"]
    assert len(buffer) == 0  # nothing left to retry forever
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and "serial=2" in refused[0].getMessage()
    assert buffer.stats()["rows_refused"] == 1
    assert buffer.stats()["flush_failures"] == 1
    # ... and the next flush is clean.
    buffer.add(_row("4"))
    assert buffer.flush() == 1
    assert [r["serial"] for r in _scans(app)] == ["1", "3", "4"]


def test_an_unreachable_database_keeps_the_rows_and_says_so(
        app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from registry.db import make_engine

    broken = make_engine(f"sqlite:///{tmp_path}/no/such/dir/x.sqlite3")
    buffer = ScanBuffer(broken, background=False)
    buffer.add(_row("1"))
    with caplog.at_level(logging.WARNING, logger="registry.verify.scanlog"), \
            pytest.raises(Exception):
        buffer.flush()
    assert len(buffer) == 1  # kept for the next attempt
    assert any("flush failed" in r.getMessage() for r in caplog.records)
    buffer.engine = app.extensions["engine"]
    assert buffer.flush() == 1
    assert [r["serial"] for r in _scans(app)] == ["1"]


def test_healthz_shows_the_buffer_depth_and_failures(
        app: Flask, world: World, db: Session) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    phone(app, "203.0.113.9").get(path_of(label))
    health = app.test_client().get("/healthz").get_json()
    assert health["status"] == "ok"
    assert health["scan_buffer"]["pending"] == 1
    assert health["scan_buffer"]["flush_failures"] == 0
    flush(app)
    health = app.test_client().get("/healthz").get_json()
    assert health["scan_buffer"]["pending"] == 0 and health["scan_buffer"]["rows_written"] == 1
