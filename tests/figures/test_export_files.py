"""Issue 17 §2: an XLSX export of a large period is a background job. The request only records
what was asked (POST with the filters and the CSRF token) and sends it to the task queue; the
worker writes the workbook (openpyxl write-only) into the file store, reporting progress on
the export's page; only the asker downloads it; it expires; it holds exactly the CSV's rows.

"Today" (before): the XLSX was built inside the GET request in a spooled file, so a period
of a few hundred thousand batches held a gunicorn worker past its timeout.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlmodel import Session

from conftest import Client, World, delete_object, stored_objects
from registry.audit.models import AuditEvent
from registry.clock import utcnow
from registry.figures import exportfiles, exports
from registry.figures.models import ExportFile
from registry.figures.queries import Filters
from registry.figures.tasks import sweep_export_files, write_export_file
from tests.figures.export_support import (
    PERIOD,
    as_csv_numbers,
    ask_xlsx,
    csv_rows,
    export_id,
    many_certified,
    xlsx_export,
    xlsx_rows_as_csv,
)


@pytest.fixture
def login(make_client: Any) -> Any:
    def signed_in(email: str) -> Client:
        client = make_client()
        client.login(email)
        return client
    return signed_in


def events(db: Session, action: str, export: int) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(  # type: ignore[call-overload]
        AuditEvent.action == action, AuditEvent.object_type == "export_file",
        AuditEvent.object_id == str(export))).scalars().all())


def row_of(db: Session, export: int) -> ExportFile:
    db.expire_all()
    found = db.get(ExportFile, export)
    assert found is not None
    return found


def test_the_xlsx_of_a_large_period_holds_exactly_the_csv_rows(
        app: Flask, world: World, db: Session, login: Any) -> None:
    counts = many_certified(world, db, 3_000)
    admin = login("admin@test.id")
    query = f"{PERIOD}&province=all&lang=en"
    expected = csv_rows(admin, query)
    assert len(expected) == 1 + 3_000
    response = xlsx_export(admin, query)
    assert response.mimetype == exportfiles.CONTENT_TYPE
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="batches-all-2026-03_2026-04.xlsx"')
    assert response.headers["Cache-Control"] == "private, no-store"
    got = xlsx_rows_as_csv(response.get_data())
    assert got == as_csv_numbers(expected)
    statuses = {r[exports.COLUMNS.index("status")] for r in got[1:]}
    assert statuses == {"Certified", "Suspended", "Revoked", "Expired"}

    # An officer's own province: the rows the CSV gives them, in Indonesian.
    officer = login("officer.ntb@test.id")
    query = f"{PERIOD}&lang=id"
    expected = csv_rows(officer, query)
    assert len(expected) == 1 + counts["52"]
    assert expected[0][exports.COLUMNS.index("exporter")] == "Eksportir"
    got = xlsx_rows_as_csv(xlsx_export(officer, query).get_data())
    assert got == as_csv_numbers(expected)

    # Each export is recorded: asked for (with its filters), written (rows, size, digest),
    # downloaded; the file is in the store once.
    db.expire_all()
    mine = db.exec(select(ExportFile).where(  # type: ignore[call-overload]
        ExportFile.requested_by == world.officer_ntb.id)).scalars().one()
    asked = json.loads(events(db, "exportfile.request", mine.id)[0].after or "{}")
    assert asked == {"from_month": "2026-03", "to_month": "2026-04", "province": "52",
                     "category": None, "destination": None, "lang": "id"}
    written = json.loads(events(db, "exportfile.written", mine.id)[0].after or "{}")
    assert written["rows"] == counts["52"] and written["bytes"] == mine.size
    assert written["sha256"] == mine.sha256
    assert len(events(db, "exportfile.download", mine.id)) == 1
    assert mine.object_name in stored_objects(app)
    assert (mine.rows_done, mine.rows_total, mine.attempts) == (counts["52"], counts["52"], 1)


def test_progress_is_shown_while_the_worker_writes_and_a_dead_worker_is_replaced(
        app: Flask, world: World, db: Session, login: Any) -> None:
    """Driven step by step: the export is asked for but its message never reaches a worker
    (a Redis restarted empty); a worker claims it, reports half of the rows and dies; the
    sweep hands it to another, which writes the whole file."""
    counts = many_certified(world, db, 2_000)
    officer = login("officer.ntt@test.id")
    with app.test_request_context():
        export = exportfiles.request_export(
            db, world.officer_ntt, Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1),
                                           province="53"), "en")
    db.commit()
    page = officer.get(f"/figures/exports/{export.id}?lang=en").get_data(as_text=True)
    assert 'data-state="queued"' in page and 'http-equiv="refresh"' in page
    assert "waiting for the worker" in page and "counting the rows" in page
    assert ".xlsx" not in page  # nothing to download yet

    assert exportfiles.claim(db, export.id, "dead:1:x", 60)
    assert exportfiles.report(db, export.id, "dead:1:x", 500, 60, total=counts["53"])
    db.commit()
    page = officer.get(f"/figures/exports/{export.id}").get_data(as_text=True)
    assert 'data-state="writing"' in page and 'http-equiv="refresh"' in page
    assert f'<progress value="500" max="{counts["53"]}">' in page
    assert "500 of 1,000 rows (50%)" in page

    # A message delivered again while that worker's lease holds changes nothing.
    with app.app_context():
        write_export_file(export.id)
    assert row_of(db, export.id).state == "writing"
    # The worker died: its lease lapses; the sweep sends the export again and it completes.
    row = row_of(db, export.id)
    row.lease_until = utcnow() - dt.timedelta(seconds=1)
    db.add(row)
    db.commit()
    with app.app_context():
        sweep_export_files()  # in-process queue: the write runs when sent
    row = row_of(db, export.id)
    assert (row.state, row.attempts, row.rows_done, row.lease_token) == (
        "ready", 2, counts["53"], None)
    starts = events(db, "exportfile.write_start", export.id)
    assert [json.loads(e.after or "{}")["attempt"] for e in starts] == [1, 2]
    page = officer.get(f"/figures/exports/{export.id}").get_data(as_text=True)
    assert 'data-state="ready"' in page and 'http-equiv="refresh"' not in page
    assert f'href="/figures/exports/{export.id}.xlsx"' in page
    got = xlsx_rows_as_csv(officer.get(f"/figures/exports/{export.id}.xlsx").get_data())
    assert got == as_csv_numbers(csv_rows(officer, f"{PERIOD}&province=53&lang=en"))
    # The user's list shows it too.
    listing = officer.get("/figures/exports").get_data(as_text=True)
    assert f'data-export="{export.id}" data-state="ready"' in listing


def test_only_the_asker_can_read_or_download_an_export(
        world: World, db: Session, login: Any) -> None:
    many_certified(world, db, 20)
    officer = login("officer.ntb@test.id")
    number = export_id(ask_xlsx(officer, PERIOD))
    assert officer.get(f"/figures/exports/{number}.xlsx").status_code == 200
    for email in ("officer.ntt@test.id", "officer.bali@test.id", "a@test.id", "b@test.id",
                  "admin@test.id"):
        other = login(email)
        assert other.get(f"/figures/exports/{number}").status_code == 404, email
        assert other.get(f"/figures/exports/{number}.xlsx").status_code == 404, email
        assert f"/figures/exports/{number}" not in other.get("/figures/exports").get_data(
            as_text=True)
    assert login("printer@test.id").get(f"/figures/exports/{number}.xlsx").status_code == 403
    assert len(events(db, "exportfile.download", number)) == 1


def test_an_expired_export_is_deleted_and_can_be_asked_for_again(
        app: Flask, world: World, db: Session, login: Any) -> None:
    many_certified(world, db, 20)
    exporter = login("a@test.id")
    number = export_id(ask_xlsx(exporter, f"{PERIOD}&lang=en"))
    row = row_of(db, number)
    assert row.expires_at is not None
    left = row.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert dt.timedelta(days=1, hours=23) < left <= dt.timedelta(days=2)  # EXPORT_FILE_TTL_DAYS
    assert row.object_name in stored_objects(app)
    name = row.object_name

    # Past its time and not swept yet: not served any more.
    row.expires_at = utcnow() - dt.timedelta(minutes=1)
    db.add(row)
    db.commit()
    late = exporter.get(f"/figures/exports/{number}.xlsx")
    assert late.status_code == 303 and late.location.endswith(f"/figures/exports/{number}")
    with app.app_context():
        sweep_export_files()
    row = row_of(db, number)
    assert (row.state, row.object_name) == ("expired", None)
    assert name not in stored_objects(app)
    assert len(events(db, "exportfile.expired", number)) == 1
    page = exporter.get(f"/figures/exports/{number}").get_data(as_text=True)
    assert 'data-state="expired"' in page and "Ask for it again" in page
    # The button repeats the same filters: a new export, the same rows.
    form = re.search(r'<form method="post" action="/figures/exports" class="inline">(.*?)</form>',
                     page, re.S)
    assert form
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))
    fields.pop("csrf_token")
    # An exporter's default is every province (their company's rows only).
    assert fields == {"from_month": "2026-03", "to_month": "2026-04", "province": "all"}
    again = exporter.post("/figures/exports", fields, token_from=f"/figures/exports/{number}")
    second = export_id(again)
    assert second != number
    assert xlsx_rows_as_csv(exporter.get(f"/figures/exports/{second}.xlsx").get_data()) == \
        as_csv_numbers(csv_rows(exporter, f"{PERIOD}&province=all"))


def test_a_file_the_store_lost_can_be_asked_for_again(
        app: Flask, world: World, db: Session, login: Any) -> None:
    many_certified(world, db, 20)
    officer = login("officer.ntb@test.id")
    number = export_id(ask_xlsx(officer, f"{PERIOD}&lang=en"))
    name = row_of(db, number).object_name
    assert name is not None
    delete_object(app, name)
    lost = officer.get(f"/figures/exports/{number}.xlsx")
    assert lost.status_code == 303 and lost.location.endswith(f"/figures/exports/{number}")
    assert row_of(db, number).state == "expired"
    assert len(events(db, "exportfile.download", number)) == 0
    page = officer.get(f"/figures/exports/{number}").get_data(as_text=True)
    assert 'data-state="expired"' in page and "Ask for it again" in page


@pytest.mark.parametrize(("query", "words"), [
    ("from_month=2026-05&to_month=2026-01", "before it starts in"),
    ("from_month=2026-13&to_month=2026-04", "From month"),
    ("from_month=1990-01&to_month=2026-04", "at most 120 months"),
    (f"{PERIOD}&province=99", "Origin province"),
    (f"{PERIOD}&category=weapons", "Commodity"),
    (f"{PERIOD}&destination=ZZ", "Destination"),
])
def test_bad_filters_are_refused_with_a_reason_and_nothing_is_written(
        app: Flask, world: World, db: Session, login: Any, query: str, words: str) -> None:
    admin = login("admin@test.id")
    before = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    response = ask_xlsx(admin, f"{query}&lang=en")
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    db.expire_all()
    assert db.execute(select(func.count()).select_from(ExportFile)).scalar_one() == 0
    assert db.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == before
    assert not [n for n in stored_objects(app) if n.startswith("export-")]


def test_rows_the_asker_may_not_open_are_refused_and_a_post_needs_its_token(
        world: World, db: Session, login: Any) -> None:
    officer = login("officer.ntb@test.id")
    assert ask_xlsx(officer, f"{PERIOD}&province=53").status_code == 403
    assert ask_xlsx(officer, f"{PERIOD}&province=all").status_code == 403
    forged = officer.http.post("/figures/exports", data={"from_month": "2026-03",
                                                         "to_month": "2026-04"})
    assert forged.status_code == 400
    db.expire_all()
    assert db.execute(select(func.count()).select_from(ExportFile)).scalar_one() == 0


def test_an_asker_who_lost_the_rows_meanwhile_gets_no_file(
        app: Flask, world: World, db: Session, login: Any) -> None:
    """The worker reads with the asker's scope as it is when it writes: an officer moved to
    another office since the request gets nothing of the old province."""
    many_certified(world, db, 20)
    with app.test_request_context():
        export = exportfiles.request_export(
            db, world.officer_ntb, Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1),
                                           province="52"), "en")
    db.commit()
    officer = db.merge(world.officer_ntb)
    officer.organisation_id = world.offices["53"].id
    db.add(officer)
    db.commit()
    with app.app_context():
        write_export_file(export.id)
    row = row_of(db, export.id)
    assert row.state == "failed" and row.object_name is None
    assert row.error and "row exports cover only" in row.error
    assert len(events(db, "exportfile.write_refused", export.id)) == 1
    assert not [n for n in stored_objects(app) if n.startswith("export-")]


def test_the_lease_is_renewed_while_no_row_comes_and_a_lost_lease_stops_the_write(
        app: Flask, world: World, db: Session) -> None:
    """Once the last row is in, the workbook is zipped and stored with no row coming: the
    progress thread keeps the lease (a lapsed one would send the file to another worker)."""
    import time

    from registry.figures.tasks import LeaseLost, _Progress

    with app.test_request_context():
        export = exportfiles.request_export(
            db, world.officer_ntb, Filters(start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1),
                                           province="52"), "en")
    db.commit()
    assert exportfiles.claim(db, export.id, "me:1:x", 5)
    db.commit()
    first_until = row_of(db, export.id).lease_until
    assert first_until is not None
    with app.app_context():
        progress = _Progress(export.id, "me:1:x", 5)
        with progress:
            assert list(progress.count(iter([(1,), (2,), (3,)]))) == [(1,), (2,), (3,)]
            time.sleep(2.5)  # "zipping": no row comes
            row = row_of(db, export.id)
            assert row.rows_done == 3 and row.lease_until is not None
            assert row.lease_until > first_until
            # Another worker takes the file over (this one was presumed dead).
            db.execute(update(ExportFile).where(ExportFile.id == export.id)
                       .values(lease_token="other:2:y"))
            db.commit()
            time.sleep(2.5)
            assert progress.lost
            with pytest.raises(LeaseLost):
                next(progress.count(iter([(4,)])))
    assert row_of(db, export.id).lease_token == "other:2:y"
