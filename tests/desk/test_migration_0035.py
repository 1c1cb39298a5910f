"""Migration 0035 on a registry with scans: the desk's and the copies' indexes become partial
(each with the condition the queries repeat), the index on every verdict goes, and the
downgrade puts the 0034 indexes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from conftest import database_at
from registry.db import migrate
from registry.verify.models import TOLD_COPY, UNBATCHED

SCHEMA = "m0035"


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with database_at(database_url, tmp_path, "0034", SCHEMA) as registry:
        yield registry


def scan_indexes(engine: Engine) -> dict[str, str]:
    """Each index of the scan table with its condition ('' when it has none)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'scan' AND sql IS NOT NULL")).all()
            return {name: sql.partition(" WHERE ")[2] for name, sql in rows}
        rows = conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'scan' "
            "AND schemaname = current_schema() AND indexname <> 'scan_pkey'")).all()
        return {name: definition.partition(" WHERE ")[2].strip("()")
                for name, definition in rows}


def bare(condition: str) -> str:
    """A condition as written in the model, without the casts and parentheses PostgreSQL
    writes back: "(verdict)::text = 'possible_copy'::text"."""
    return condition.replace("::text", "").replace("(", "").replace(")", "")


def test_0035_partial_indexes_and_back(registry: tuple[str, Engine]) -> None:
    url, engine = registry
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO scan (created_at, gtin, lot, serial, verdict, language, mobile, client,"
            " province_code, kind) VALUES ('2026-11-20 06:00:00', '09501101530003', 'L1', '7',"
            " 'not_genuine', 'id', false, 'c', '52', 'bad_signature')"))
    before = scan_indexes(engine)
    assert {"ix_scan_verdict", "ix_scan_desk_province", "ix_scan_desk_organisation"} <= set(
        before)
    assert not any(before.values()), before

    migrate.upgrade(url, "0035")
    after = scan_indexes(engine)
    assert "ix_scan_verdict" not in after
    assert {name: bare(after[name]) for name in (
        "ix_scan_desk_province", "ix_scan_desk_organisation", "ix_scan_copies")} == {
        "ix_scan_desk_province": UNBATCHED, "ix_scan_desk_organisation": UNBATCHED,
        "ix_scan_copies": TOLD_COPY}
    assert after["ix_scan_serial_seen"] == "" and after["ix_scan_figures"] == ""
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM scan WHERE batch_id IS NULL "
                                 "AND province_code = '52'")).scalar() == 1

    migrate.downgrade(url, "0034")
    assert scan_indexes(engine) == before
    migrate.upgrade(url, "0035")
    assert scan_indexes(engine) == after
