"""Issue 11 §5 (flood): scan rows per client are bounded. 1,000 label URIs with a garbage
signature from one phone cost a bounded number of rows; every page still answers, and
other readers' scans are still recorded."""

from __future__ import annotations

from flask import Flask
from scan_support import certified_labels, flush, path_of, phone
from sqlalchemy import text
from sqlmodel import Session

from conftest import World


def _count(app: Flask, where: str = "1 = 1") -> int:
    with app.extensions["engine"].connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM scan WHERE {where}")).scalar_one())


def test_a_flood_of_garbage_from_one_client_costs_a_bounded_number_of_rows(
        app: Flask, world: World, db: Session) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    gtin_lot = path_of(label).split("/21/")[0]
    garbage = "A" * 96  # key id and signature of zeros: well formed, not valid
    flooder = phone(app, "203.0.113.66")
    for serial in range(1, 1001):
        response = flooder.get(f"{gtin_lot}/21/{serial}?s={garbage}",
                               headers={"Accept": "application/json"})
        assert response.status_code == 200
        assert response.json["verdict"] == "not_genuine"
    flush(app)
    bound = app.config.get("SCAN_ROWS_PER_CLIENT", 100)
    assert bound < 1000
    assert _count(app) <= bound
    # Another reader is still recorded while the flooder is cut off.
    assert phone(app, "198.51.100.5").get(path_of(label)).status_code == 200
    flush(app)
    assert _count(app, "verdict = 'genuine'") == 1


def test_one_client_rescanning_one_serial_is_recorded_a_few_times_only(
        app: Flask, world: World, db: Session) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    buyer = phone(app, "203.0.113.67")
    for _ in range(30):
        assert buyer.get(path_of(label)).status_code == 200
    flush(app)
    assert _count(app) == app.config.get("SCAN_ROWS_PER_SERIAL", 3)
    # ... so one phone alone never reaches "too many scans in an hour" (20) either.
    assert buyer.get(path_of(label), headers={"Accept": "application/json"}
                     ).json["verdict"] == "genuine"
