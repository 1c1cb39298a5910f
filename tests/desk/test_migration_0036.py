"""Migration 0036 on a registry with scans: the administrators' whole desk gets its partial
index of unbatched scans by time, and the downgrade takes it away again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from test_migration_0035 import bare, scan_indexes

from conftest import database_at
from registry.db import migrate
from registry.verify.models import UNBATCHED

SCHEMA = "m0036"


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with database_at(database_url, tmp_path, "0035", SCHEMA) as registry:
        yield registry


def test_0036_unbatched_index_and_back(registry: tuple[str, Engine]) -> None:
    url, engine = registry
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO scan (created_at, gtin, lot, serial, verdict, language, mobile, client,"
            " kind) VALUES ('2026-11-20 06:00:00', '08991234567891', 'X1', '7', 'not_genuine',"
            " 'id', false, 'c', 'unknown_product')"))
    before = scan_indexes(engine)
    assert "ix_scan_unbatched" not in before

    migrate.upgrade(url, "0036")
    after = scan_indexes(engine)
    assert bare(after.pop("ix_scan_unbatched")) == UNBATCHED
    assert after == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM scan WHERE batch_id IS NULL "
                                 "AND created_at >= '2026-11-01'")).scalar() == 1

    migrate.downgrade(url, "0035")
    assert scan_indexes(engine) == before
    migrate.upgrade(url, "0036")
    assert bare(scan_indexes(engine)["ix_scan_unbatched"]) == UNBATCHED
