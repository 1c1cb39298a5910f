"""Scans: recorded for every resolution (buffered), with coarse facts only, never a raw IP;
shown per batch to the exporter and the trade office, and to nobody else."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlmodel import Session, select
from verify_support import path_of, signed_labels

from conftest import Client, World
from registry.verify import hotpath
from registry.verify.models import Scan
from registry.verify.scanlog import ScanBuffer

IP = "203.0.113.77"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"


@pytest.fixture
def labels(app: Flask, world: World, db: Session) -> list[str]:
    return signed_labels(app, world, db, quantity=3)


def _phone(app: Flask, ip: str = IP, agent: str = PHONE) -> Any:
    phone = app.test_client()
    phone.environ_base.update(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    return phone


def _flush(app: Flask) -> int:
    buffer: ScanBuffer = app.extensions["scan_buffer"]
    return buffer.flush()


def _rows(db: Session) -> list[Scan]:
    db.expire_all()
    return list(db.exec(select(Scan).order_by(Scan.id)).all())  # type: ignore[arg-type]


def test_scans_are_buffered_then_recorded(app: Flask, labels: list[str], db: Session,
                                          world: World) -> None:
    phone = _phone(app)
    phone.get(path_of(labels[0]), headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    phone.get(path_of(labels[0]) + "&lang=ja", headers={"Accept-Language": "zh-CN"})
    phone.get(path_of(labels[1]), headers={"Accept-Language": "en-AU",
                                           "Accept": "application/json"})
    assert _rows(db) == []  # nothing written during the requests
    assert _flush(app) == 3
    rows = _rows(db)
    assert [(r.serial, r.serial_number, r.language, r.verdict) for r in rows] == [
        ("1", 1, "zh", "genuine"), ("1", 1, "ja", "genuine"), ("2", 2, "en", "genuine")]
    assert all(r.batch_id == world.batch_a.id for r in rows)
    assert [r.country for r in rows] == ["CN", "CN", "AU"]
    assert all(r.mobile for r in rows)
    assert all(r.gtin == "00490000000016" and r.lot == "A-LOT-1" for r in rows)
    assert len({r.client for r in rows}) == 1 and len(rows[0].client) == 16


def test_no_raw_ip_anywhere_in_a_scan(app: Flask, labels: list[str], db: Session) -> None:
    _phone(app).get(path_of(labels[0]))
    _flush(app)
    with app.extensions["engine"].connect() as conn:
        rows = conn.execute(text("SELECT * FROM scan")).mappings().all()
    assert len(rows) == 1
    dump = repr(dict(rows[0]))
    assert IP not in dump and IP.replace(".", "") not in dump
    assert "iPhone" not in dump  # nor the user agent
    assert set(rows[0].keys()) == {"id", "created_at", "batch_id", "gtin", "lot", "serial",
                                   "serial_number", "verdict", "language", "country", "mobile",
                                   "client", "country_source", "product_id",
                                   "organisation_id", "province_code", "kind"}


def test_client_hash_rotates_daily(app: Flask, labels: list[str], db: Session,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    phone = _phone(app)
    phone.get(path_of(labels[0]))
    phone.get(path_of(labels[0]))
    real_today = hotpath.today()
    monkeypatch.setattr(hotpath, "today", lambda: real_today + dt.timedelta(days=1))
    phone.get(path_of(labels[0]))
    _phone(app, ip="198.51.100.9").get(path_of(labels[0]))
    _flush(app)
    clients = [r.client for r in _rows(db)]
    assert clients[0] == clients[1]  # the same phone, the same day
    assert clients[2] != clients[0]  # the same phone the next day: not linkable
    assert clients[3] != clients[2]  # another phone


def test_fakes_are_recorded_without_a_batch(app: Flask, labels: list[str], db: Session) -> (
    None
):
    tampered = path_of(labels[0]).replace("/21/1?", "/21/2?")
    _phone(app).get(tampered)
    _flush(app)
    (row,) = _rows(db)
    assert row.verdict == "not_genuine" and row.batch_id is None and row.serial == "2"


def test_exporter_and_office_see_scans_and_suspicious_serials(
    app: Flask, labels: list[str], make_client: Any, world: World,
) -> None:
    app.config.update(COPY_DISTINCT_CLIENTS=3)
    for n in range(4):  # serial 1 from four phones on four networks: looks copied
        _phone(app, ip=f"198.51.{n}.10", agent=f"Phone {n}").get(
            path_of(labels[0]), headers={"Accept-Language": "ja-JP"})
    _phone(app).get(path_of(labels[1]), headers={"Accept-Language": "zh-CN"})
    _flush(app)

    exporter = make_client()
    exporter.login("a@test.id")
    page = exporter.get(f"/batches/{world.batch_a.id}?lang=en").get_data(as_text=True)
    officer = make_client()
    officer.login("officer.ntb@test.id")
    review = officer.get(f"/review/batches/{world.batch_a.id}?lang=en").get_data(as_text=True)
    for html in (page, review):
        assert "Label scans" in html
        section = html[html.index("Label scans"):]
        assert "<dt>Scans</dt><dd>5</dd>" in section
        assert "日本語 (4)" in section and "中文 (1)" in section
        assert "Serials that look copied" in section
        # Four scans of serial 1; the third and fourth phones were told "possible copy".
        assert "<tr><td>1</td><td>4</td><td>2</td><td>" in section
        assert "<tr><td>2</td>" not in section


def test_exporter_list_agrees_with_what_buyers_were_told(
    app: Flask, labels: list[str], make_client: Any, world: World, db: Session,
) -> None:
    """Five earlier days of scans by one buyer (a new client hash each day) are not a copy on
    the page, so the exporter's list does not call them one either."""
    app.config.update(COPY_DISTINCT_CLIENTS=3)
    now = dt.datetime.now(dt.UTC)
    for days_ago in range(1, 6):
        db.add(Scan(created_at=now - dt.timedelta(days=days_ago), batch_id=world.batch_a.id,
                    gtin="00490000000016", lot="A-LOT-1", serial="1", serial_number=1,
                    verdict="genuine", language="en", mobile=True, client=f"{days_ago:016x}"))
    db.commit()
    assert _phone(app).get(path_of(labels[0]), headers={"Accept": "application/json"}
                           ).json["verdict"] == "genuine"
    _flush(app)
    exporter = make_client()
    exporter.login("a@test.id")
    html = exporter.get(f"/batches/{world.batch_a.id}?lang=en").get_data(as_text=True)
    assert "<dt>Scans</dt><dd>6</dd>" in html
    assert "Serials that look copied" not in html


def test_other_exporter_sees_nothing(app: Flask, labels: list[str], make_client: Any,
                                     world: World) -> None:
    _phone(app).get(path_of(labels[0]))
    _flush(app)
    other: Client = make_client()
    other.login("b@test.id")
    assert other.get(f"/batches/{world.batch_a.id}").status_code == 404
    own = other.get(f"/batches/{world.batch_b.id}").get_data(as_text=True)
    assert "A-LOT-1" not in own
    assert "Label scans" not in own  # a draft batch has no labels to scan
    officer_bali = make_client()
    officer_bali.login("officer.bali@test.id")
    assert officer_bali.get(f"/review/batches/{world.batch_a.id}").status_code == 404


def test_buffer_keeps_rows_when_the_database_fails(app: Flask, tmp_path: Any) -> None:
    """(A row the database refuses is another matter: tests/integrity/test_scan_poison.py.)"""
    from registry.db import make_engine

    buffer = ScanBuffer(make_engine(f"sqlite:///{tmp_path}/missing/x.db"), background=False)
    buffer.add({"created_at": dt.datetime.now(dt.UTC), "gtin": "00490000000016", "lot": "L",
                "serial": "1", "verdict": "genuine", "language": "en", "mobile": False,
                "client": "0" * 16})
    with pytest.raises(Exception):
        buffer.flush()
    assert len(buffer) == 1  # kept for the next attempt


def test_head_requests_and_link_previews_are_not_scans(app: Flask, labels: list[str]) -> None:
    uri = path_of(labels[0])
    client = app.test_client()
    assert client.head(uri).status_code == 200
    assert client.get(uri, headers={"User-Agent": "WhatsApp/2.23.20.0 A"}).status_code == 200
    assert client.get(uri, headers={"User-Agent": "facebookexternalhit/1.1"}).status_code == 200
    assert app.extensions["scan_buffer"].flush() == 0
    client.get(uri, headers={"User-Agent": "Mozilla/5.0 (iPhone) Mobile"})
    assert app.extensions["scan_buffer"].flush() == 1
