"""Migration 0010 on a registry that already has certified batches and duplicate GTINs.

Its existing submitted and decided batches are frozen as their labels show them today (the
company GTIN, or the registry number for a product without one), drafts stay unfrozen, '' GTINs
become NULL, and of two products sharing a GTIN the first registered keeps it while the later
one loses it, so the unique index can be built. Runs on a database of its own: a temporary
SQLite file, or a schema of its own in the PostgreSQL test database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from conftest import database_at
from registry.db import migrate
from registry.gs1 import digital_link as gs1

SCHEMA = "migration_0010"


@pytest.fixture
def old_registry(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with database_at(database_url, tmp_path, "0009", SCHEMA) as registry:
        yield registry


COMPANY_GTIN = ("899123456789" + gs1.gtin_check_digit("899123456789")).zfill(14)


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        for org, name in ((1, "Company A"), (2, "Company B")):
            conn.execute(text("INSERT INTO organisation (id, kind, name, address, created_at) "
                              "VALUES (:id, 'exporter', :name, '', CURRENT_TIMESTAMP)"),
                         {"id": org, "name": name})
        products = [(1, 1, "Sumbawa Honey", COMPANY_GTIN, "a.png"),
                    (2, 2, "Not Sumbawa Honey", COMPANY_GTIN, None),
                    (3, 1, "Lombok Pearls", "", None),
                    (4, 2, "Bajawa Coffee", None, "c.jpg")]
        for pid, org, name, gtin, photo in products:
            conn.execute(text(
                "INSERT INTO product (id, organisation_id, name_id, name_en, category, hs_code, "
                "gtin, description, photo_stored_name, created_at) VALUES (:id, :org, :name, "
                ":name, 'agriculture', '040900', :gtin, 'desc', :photo, CURRENT_TIMESTAMP)"),
                {"id": pid, "org": org, "name": name, "gtin": gtin, "photo": photo})
        batches = [(1, 1, 1, "LOT-1", "approved"), (2, 2, 2, "LOT-1", "approved"),
                   (3, 1, 3, "LOT-3", "draft"), (4, 2, 4, "LOT-4", "revoked"),
                   (5, 2, 4, "LOT-5", "draft")]
        for bid, org, pid, lot, status in batches:
            conn.execute(text(
                "INSERT INTO batch (id, organisation_id, product_id, lot_code, quantity, unit, "
                "production_date, origin_regency_code, origin_province_code, producer, hub, "
                "destination_country, declared_value_idr, status, version, created_at) VALUES "
                "(:id, :org, :pid, :lot, 10, 'kg', '2026-01-01', '52.04', '52', 'Koperasi', "
                "'benoa', 'NL', 1000, :status, 1, CURRENT_TIMESTAMP)"),
                {"id": bid, "org": org, "pid": pid, "lot": lot, "status": status})


def test_existing_batches_are_frozen_and_duplicate_gtins_resolved(
    old_registry: tuple[str, Engine]
) -> None:
    url, engine = old_registry
    _seed(engine)
    migrate.upgrade(url, "0010")
    with engine.connect() as conn:
        frozen = {row[0]: tuple(row[1:]) for row in conn.execute(text(
            "SELECT id, gtin, product_name_en, product_hs_code, product_photo FROM batch"))}
        gtins = dict(conn.execute(text("SELECT id, gtin FROM product")).all())
    assert frozen == {
        1: (COMPANY_GTIN, "Sumbawa Honey", "040900", "a.png"),
        2: (COMPANY_GTIN, "Not Sumbawa Honey", "040900", None),  # its labels keep resolving
        3: (None, None, None, None),  # a draft is frozen when submitted
        4: (gs1.registry_gtin(4), "Bajawa Coffee", "040900", "c.jpg"),
        5: (None, None, None, None),
    }
    # The first product keeps the GTIN; the later one loses it; '' is no GTIN.
    assert gtins == {1: COMPANY_GTIN, 2: None, 3: None, 4: None}
    with engine.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(text("UPDATE product SET gtin = :g WHERE id = 4"), {"g": COMPANY_GTIN})

    migrate.downgrade(url, "0009")
    with engine.connect() as conn:
        columns = conn.execute(text("SELECT * FROM batch")).keys()
    assert "gtin" not in columns and "product_name_en" not in columns
