"""Asking for an XLSX export as a user does: the dashboard's button (a POST with the filters and
the CSRF token), the export's page, then the download. With the tests' in-process queue the
worker has written the file by the time the POST returns."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from openpyxl import load_workbook
from sqlalchemy import insert, inspect, select
from sqlmodel import Session

from conftest import Client, World
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.clock import REGION_TZ, today
from registry.figures import exports
from registry.review.models import Decision
from registry.verify import facts

EXPORT_PATH = re.compile(r"/figures/exports/(\d+)$")
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
    # Loaded in bulk (thousands of rows), so the labels' facts are refreshed here, as a
    # loader around the session must (registry/verify/facts.py).
    db.execute(insert(decision_t).execution_options(**{facts.FACTS_REFRESHED: True}),
               decisions)
    facts.refresh(db.connection(), ids)
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


def ask_xlsx(client: Client, query: str) -> Any:
    """POST the filters of ``query`` (a dashboard query string); the answer (303 to the
    export's page, or the refusal)."""
    return client.post("/figures/exports", dict(parse_qsl(query)), token_from="/figures/")


def export_id(response: Any) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = EXPORT_PATH.search(response.location)
    assert match, response.location
    return int(match.group(1))


def xlsx_export(client: Client, query: str) -> Any:
    """The XLSX of ``query``'s filters, as its asker downloads it once it is ready."""
    number = export_id(ask_xlsx(client, query))
    page = client.get(f"/figures/exports/{number}").get_data(as_text=True)
    assert 'data-state="ready"' in page, page[:3000]
    assert f'href="/figures/exports/{number}.xlsx"' in page
    response = client.get(f"/figures/exports/{number}.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response
