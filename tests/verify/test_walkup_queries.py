"""The lot's EPCIS events find a batch's approval through the batch's own index (the walk-up
pages read it from the facts kept on the batch row: second test). With a bare
``action = 'approve'`` and ``ORDER BY created_at`` SQLite took the figures' (action,
created_at) index instead and walked every approval in the registry: the lot page took
100–1,400 ms on the benchmark's million batches (bench/verify.py, 2026-12-03) instead of a few
ms. Checked on the statements the pages really send, with SQLite's own ``EXPLAIN QUERY
PLAN``; PostgreSQL plans from statistics and is not asked."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlmodel import Session
from verify_support import signed_labels
from werkzeug.test import TestResponse

from conftest import World
from registry.gs1 import digital_link as gs1

FIGURES_INDEX = "ix_decision_action_created"


def test_walk_up_pages_read_the_batch_s_decisions_by_its_index(app: Flask, world: World,
                                                                 db: Session) -> None:
    engine = app.extensions["engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite query plan")
    label = gs1.parse_uri(signed_labels(app, world, db, quantity=1)[0])
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM decision" in statement:
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        http = app.test_client()
        lot = gs1.lot_path(label.gtin, label.lot)
        for path in (f"/verify{lot}", f"/verify/01/{label.gtin}", f"/epcis{lot}"):
            assert http.get(path, headers={"Accept-Language": "en"}).status_code == 200, path
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert sent, "the pages read no decisions"
    with engine.connect() as connection:
        for statement, parameters in sent:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                              parameters).all()
            steps = " / ".join(str(row[-1]) for row in plan)
            assert FIGURES_INDEX not in steps, (statement, steps)


def statements_of(app: Flask, path: str) -> tuple[TestResponse, list[str]]:
    """GET ``path`` in English, with every SQL statement it sent (whitespace folded)."""
    engine = app.extensions["engine"]
    sent: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        page = app.test_client().get(path, headers={"Accept-Language": "en"})
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return page, sent


def test_the_lot_page_reads_decisions_and_shipments_from_the_batch_row(
        app: Flask, world: World, db: Session) -> None:
    # The lot's approval (office, WITA day) and confirmed shipments are the facts kept on the
    # batch row that its labels' pages read (registry/verify/facts.py): one truth, and three
    # queries fewer on a public page anyone may request at will (README "Session 16": a third
    # of its CPU in one process, a few per cent under load).
    label = gs1.parse_uri(signed_labels(app, world, db, quantity=1)[0])
    page, sent = statements_of(app, f"/verify{gs1.lot_path(label.gtin, label.lot)}")
    assert page.status_code == 200
    assert "Office 52" in page.get_data(as_text=True)  # the certifying office, from the facts
    assert not [s for s in sent if "FROM decision" in s or "FROM shipment" in s], sent


def test_the_product_page_reads_its_lots_columns_in_two_statements(
        app: Flask, world: World, db: Session) -> None:
    # A public page listing the decided lots of a GTIN a page at a time: one page of the lots'
    # columns with the number of all of them, and the product's columns (with its exporter) by
    # the newest lot's key; never whole Batch rows with their kept facts, nor the exporter by
    # a second lookup (README "Session 17": a product page 2.6 → 1.9 ms of CPU in one
    # process). A third statement, for the origins of lots on other pages, only when there
    # are other pages (tests/verify/test_walkup_paging.py).
    label = gs1.parse_uri(signed_labels(app, world, db, quantity=1)[0])
    page, sent = statements_of(app, f"/verify/01/{label.gtin}")
    assert page.status_code == 200
    assert label.lot in page.get_data(as_text=True)
    reads = [s for s in sent if s.startswith("SELECT")]
    assert len(reads) == 2, reads
    assert not [s for s in reads if "verify_facts" in s], reads
    assert [s for s in reads if "LIMIT" in s and "OFFSET" in s], reads  # one page of lots
