"""Issue 17 §2: an XLSX export of the figures is written by the task queue's real worker
(``flask --app registry worker`` on a SQLite file and on Redis), never in the request; the
asker's page follows it and offers the file, which holds exactly the CSV's rows."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlmodel import Session

from conftest import Client, World
from registry.figures.models import ExportFile
from tests.figures.export_support import (
    PERIOD,
    as_csv_numbers,
    ask_xlsx,
    csv_rows,
    export_id,
    many_certified,
    xlsx_rows_as_csv,
)
from tests.taskqueue.queue_support import wait_until

pytestmark = pytest.mark.slow


def export_row(db: Session, number: int) -> ExportFile | None:
    db.expire_all()
    return db.get(ExportFile, number)


def test_the_worker_writes_the_export_and_the_page_follows_it(
        queued_app: Flask, workers: object, world: World, db: Session) -> None:
    counts = many_certified(world, db, 3_000)
    officer = Client(queued_app.test_client())
    officer.login("officer.ntb@test.id")
    # The request only records the export and sends it: nothing is written before a worker
    # takes it, and the page says so and reloads itself.
    number = export_id(ask_xlsx(officer, f"{PERIOD}&lang=en"))
    page = officer.get(f"/figures/exports/{number}").get_data(as_text=True)
    assert 'data-state="queued"' in page and 'http-equiv="refresh"' in page
    assert "counting the rows" in page
    row = export_row(db, number)
    assert row is not None and row.state == "queued" and row.object_name is None

    worker = workers()  # type: ignore[operator]
    wait_until(lambda: (r := export_row(db, number)) and r.state == "ready", 120,
               "the worker to write the export", worker)
    page = officer.get(f"/figures/exports/{number}").get_data(as_text=True)
    assert 'data-state="ready"' in page and 'http-equiv="refresh"' not in page
    download = officer.get(f"/figures/exports/{number}.xlsx")
    assert download.status_code == 200
    expected = csv_rows(officer, f"{PERIOD}&lang=en")
    assert len(expected) == 1 + counts["52"]
    assert xlsx_rows_as_csv(download.get_data()) == as_csv_numbers(expected)
    row = export_row(db, number)
    assert row is not None and (row.rows_done, row.rows_total, row.attempts) == (
        counts["52"], counts["52"], 1)
