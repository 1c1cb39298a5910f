"""Issue 17 §2: an XLSX export of a large period is a background job. The request only records
what was asked (POST with the filters and the CSRF token) and sends it to the task queue; the
worker writes the workbook (openpyxl write-only) into the file store, reporting progress on
the export's page; only the asker downloads it; it expires; it holds exactly the CSV's rows.

"Today" (before): the XLSX was built inside the GET request in a spooled file, so a period
of a few hundred thousand batches held a gunicorn worker past its timeout.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import func, insert, inspect, select
from sqlmodel import Session

from conftest import Client, World, stored_objects
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.clock import REGION_TZ, today, utcnow
from registry.figures import exportfiles, exports
from registry.figures.models import ExportFile
from registry.figures.queries import Filters
from registry.figures.tasks import sweep_export_files, write_export_file
from registry.review.models import Decision
from tests.figures.export_support import ask_xlsx, export_id, xlsx_export

PERIOD = "from_month=2026-03&to_month=2026-04"
NUMBERS = {exports.COLUMNS.index(c)
           for c in ("quantity", "normalised_quantity", "declared_value_idr")}
VALID_UNTIL = exports.COLUMNS.index("valid_until")


def many_certified(world: World, db: Session, n: int) -> dict[str, int]:
    """``n`` certified batches in March and April 2026 (WITA), alternately of company A (NTB)
    and company B (NTT), copied from the world's two batches with varied facts: tonnes and
    kilos, suspended, revoked and expired ones, formula-like producers; plus a few approved in
    May (outside the period). Bulk inserts: thousands of rows in a second on both databases.
    Returns how many rows each province has in the period."""
    world.submit(world.batch_a, world.exporter_a)
    world.submit(world.batch_b, world.exporter_b)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)
    batch_t = inspect(Batch).local_table
    decision_t = inspect(Decision).local_table
    templates = [dict(db.execute(select(batch_t).where(batch_t.c.id == b.id)).mappings().one())
                 for b in (world.batch_a, world.batch_b)]
    officers = (world.officer_ntb, world.officer_ntt)
    start = dt.datetime(2026, 3, 1, tzinfo=REGION_TZ).astimezone(dt.UTC)
    rows, whens = [], []
    for i in range(n + 6):
        side = i % 2
        row = {k: v for k, v in templates[side].items() if k != "id"}
        in_period = i < n
        when = (start + dt.timedelta(minutes=29 * i) if in_period
                else dt.datetime(2026, 5, 2, 3, tzinfo=dt.UTC))  # May, WITA and UTC
        status = ("suspended" if i % 97 == 0 else "revoked" if i % 89 == 0 else "approved")
        row.update(
            lot_code=f"LOT-{i:05d}",
            quantity=Decimal(i % 500 + 1) / (Decimal("1000") if i % 7 == 0 else 1),
            unit="t" if i % 7 == 0 else "kg",
            declared_value_idr=1_000_000 + 7919 * i,
            destination_country=("NL", "JP", "SG", "AU")[i % 4],
            producer="=HYPERLINK(\"x\")" if i % 50 == 0 else f"Koperasi {i % 13}",
            status=status, decided_at=when,
            # Some past their validity: the status read today is "expired".
            valid_until=today() - dt.timedelta(days=1) if i % 31 == 0
            else today() + dt.timedelta(days=300))
        rows.append(row)
        whens.append((when, side, status, row["valid_until"]))
    ids = db.execute(insert(batch_t).returning(batch_t.c.id, sort_by_parameter_order=True),
                     rows).scalars().all()
    decisions = [{"batch_id": batch_id, "officer_id": officers[side].id,
                  "office_id": officers[side].organisation_id, "action": "approve",
                  "from_status": "submitted", "to_status": "approved", "reason": None,
                  "valid_until": valid_until, "created_at": when}
                 for batch_id, (when, side, _status, valid_until) in zip(ids, whens, strict=True)]
    db.execute(insert(decision_t), decisions)
    db.commit()
    # The world's own two batches were approved today, outside the period.
    return {"52": (n + 1) // 2, "53": n // 2}


def csv_rows(client: Client, query: str) -> list[list[str]]:
    response = client.get(f"/figures/batches.csv?{query}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def xlsx_rows_as_csv(data: bytes) -> list[list[str]]:
    """The workbook's rows as the CSV writes the same values: text formula-safe, numbers
    exact, dates and WITA times in ISO form (a spreadsheet reads dates back as midnight)."""
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    out = []
    for n, values in enumerate(sheet.iter_rows(values_only=True)):
        row = []
        for i, value in enumerate(values):
            if value is None:
                text = ""
            elif n and i == VALID_UNTIL:
                assert isinstance(value, dt.datetime)
                text = value.date().isoformat()
            elif isinstance(value, dt.datetime):
                text = value.isoformat(sep=" ")
            elif isinstance(value, int | float):
                assert n and i in NUMBERS, (n, i, value)
                text = format(Decimal(str(value)).normalize(), "f")
            else:
                text = str(exports.csv_safe(value))
            row.append(text)
        out.append(row)
    return out


def as_csv_numbers(rows: list[list[str]]) -> list[list[str]]:
    return [[format(Decimal(c).normalize(), "f") if n and i in NUMBERS and c else c
             for i, c in enumerate(r)] for n, r in enumerate(rows)]


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


@pytest.mark.parametrize(("query", "words"), [
    ("from_month=2026-05&to_month=2026-01", "The period ends before it starts"),
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
