"""Keeping the figures' summary table (``figure_cell``) exact, and rebuilding it.

Kinds of cells (keys ``k1``, ``k2``, ``k3``, ``unit``; '' when unused):

* ``rm``  certified batches by regency × month (``k1`` regency, ``k2`` month) and unit: also
  the provinces, the months and the total;
* ``cc``  by category × HS chapter × *current* status, and unit: the commodities, chapters
  and the status table;
* ``d``   by destination and unit;
* ``lt``  approval lead time in minutes, to the step it is shown with (``k1``,
  ``queries.lead_step``);
* ``rej`` rejections (a count);
* ``rr``  rejections by reason, grouped case- and whitespace-insensitively (``k1`` the
  SHA-256 of the grouping key, ``shown`` the latest writing);
* ``pj``  print jobs ordered (``batches`` the jobs, ``quantity_milli`` the labels × 1000),
  written by ``printing.services.order_job`` in its transaction (an exporter's order: rare);
* ``hp``  passages the Bali office confirmed, by hub (``k1``) and whole days from the batch's
  first approval (WITA) to the passage (``k2``; '' when never approved), filed under the
  passage's month: written by ``shipments.services.confirm`` in its transaction (a passage
  is confirmed once and never undone);
* ``sco``, ``scl``, ``scv``  scans by country (``k1``) and its source (``k2``), by language
  and by verdict: the marginals the page shows, not their product, which would be as large
  as the scans. Scans are the verification page's hot path (issue 14: 1,000 a second,
  buffered in memory and written in bulk), so no cell is written per scan: ``roll_up_scans``
  (the worker's minute sweep, and ``rebuild``) adds the scans up to an id watermark (the
  ``wm`` row's ``batches``) and the dashboard counts the few after it live. An id, not a
  time, because a buffered scan is written after its moment: whatever arrives late has a
  higher id and is counted live until the next roll-up. Scans younger than
  ``SCAN_SETTLE`` stay out of the roll-up, so a flush still in flight (its ids taken, its
  transaction not yet committed) cannot be skipped.

Every cell exists at eight filter levels: company, category and destination each kept or
rolled up (``*``), so an exporter's dashboard reads its company's cells as an office reads all
companies'; the province is a plain column. A batch is frozen
from submission (``catalog.services``: only drafts and rejected batches are edited), so its
regency, category, destination, quantity and value never change once approved; what changes is
its status, and only through ``review.services.decide``, which calls ``record_decision`` in
the same transaction. Writes are ``INSERT … ON CONFLICT DO UPDATE`` adding to the cells
(atomic on both databases), each decision in ONE statement whose rows are sorted by key, so two
officers deciding at once on PostgreSQL lock shared cells in the same order and never deadlock.

The approval's cells are computed by the same SELECT as ``rebuild`` (restricted to one batch),
so an incremental cell and a rebuilt one cannot disagree on a rounding or a month boundary.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Table,
    case,
    cast,
    delete,
    func,
    inspect,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from registry.catalog.certification import Action, Status
from registry.clock import REGION_TZ, utcnow
from registry.db.types import utc
from registry.figures.models import ALL, FigureCell
from registry.figures.queries import (
    Filters,
    _minutes_between,
    batch_t,
    decision_t,
    lead_step_sql,
    month_bucket,
    normalised_quantity,
    normalised_unit,
    product_t,
    reason_key,
    scan_t,
)
from registry.printing.models import PrintJob
from registry.review.models import Decision
from registry.shipments.models import Shipment

cell_t: Table = FigureCell.__table__  # type: ignore[attr-defined]
KEY = ("kind", "org", "category", "destination", "month", "province", "k1", "k2", "k3",
       "unit")
MEASURES = ("batches", "value_idr", "quantity_milli")
CERTIFIED_KINDS = ("rm", "cc", "d", "lt")


def month_of(at: dt.datetime) -> str:
    return at.astimezone(REGION_TZ).strftime("%Y-%m")


def reason_hash(reason: str) -> str:
    return hashlib.sha256(reason_key(reason).encode()).hexdigest()


def _levels() -> Any:
    """The eight filter levels: category, destination and company each kept (1) or rolled
    up (0); a UNION, as SQLite has no column aliases on a VALUES list."""
    return union_all(*[select(literal_column(str(c)).label("lc"),
                              literal_column(str(d)).label("ld"),
                              literal_column(str(o)).label("lo"))
                       for c in (0, 1) for d in (0, 1) for o in (0, 1)]).subquery("lvl")


def _org_level(levels: Any, org: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((levels.c.lo == 1, cast(org, String)), else_=literal_column(f"'{ALL}'"))


# ---------------------------------------------------------------------------- the SELECT
def _certified_cells(session: Session, month: ColumnElement[Any], conds: list[Any],
                     kinds: Iterable[str], status: ColumnElement[Any] | None = None,
                     sign: int = 1) -> list[Any]:
    """The cells of the approvals selected by ``conds`` (all of them, or one batch's): one
    SELECT a kind, of rows in ``KEY + MEASURES`` order, every measure times ``sign``.
    ``status`` replaces the batch's status (a decision moves a batch between the ``cc``
    cells of two statuses)."""
    levels = _levels()
    star: Any = literal_column(f"'{ALL}'")
    base = select(
        _org_level(levels, batch_t.c.organisation_id).label("org"),
        # Inlined constants, not parameters: PostgreSQL compares GROUP BY expressions as text.
        case((levels.c.lc == 1, func.coalesce(batch_t.c.product_category, "")), else_=star)
        .label("category"),
        case((levels.c.ld == 1, batch_t.c.destination_country), else_=star).label("dest"),
        month.label("month"),
        batch_t.c.origin_province_code.label("province"),
        batch_t.c.origin_regency_code.label("regency"),
        func.coalesce(batch_t.c.product_category, "").label("cat"),
        func.coalesce(func.substr(batch_t.c.product_hs_code, 1, 2), "").label("chapter"),
        batch_t.c.destination_country.label("dest_key"),
        (status if status is not None else batch_t.c.status).label("status"),
        normalised_unit().label("unit"),
        cast(func.round(normalised_quantity() * 1000), BigInteger).label("qty"),
        batch_t.c.declared_value_idr.label("value"),
        lead_step_sql(cast(_minutes_between(session, decision_t.c.created_at,
                                            batch_t.c.submitted_at), Integer)).label("lead"),
    ).select_from(decision_t.join(batch_t, batch_t.c.id == decision_t.c.batch_id)
                  .join(levels, literal_column("1 = 1"))  # every row at the eight levels
                  ).where(decision_t.c.action == "approve", *conds)
    src = base.cte(f"certified{'_out' if sign < 0 else ''}").prefix_with("MATERIALIZED")
    empty: Any = literal_column("''")
    factor: Any = literal_column(str(int(sign)))

    def part(kind: str, k1: Any, k2: Any = empty, k3: Any = empty, unit: Any = None) -> Any:
        unit = src.c.unit if unit is None else unit
        keys = [src.c.org, src.c.category, src.c.dest, src.c.month, src.c.province]
        grouped = [k for k in (k1, k2, k3, unit) if k is not empty]
        return (select(literal_column(f"'{kind}'").label("kind"), src.c.org, src.c.category,
                       src.c.dest.label("destination"), src.c.month, src.c.province,
                       *[func.coalesce(cast(k, String), empty).label(name)
                         for k, name in ((k1, "k1"), (k2, "k2"), (k3, "k3"), (unit, "unit"))],
                       (func.count() * factor).label("batches"),
                       (func.sum(src.c.value) * factor).label("value_idr"),
                       (func.sum(src.c.qty) * factor).label("quantity_milli"))
                .group_by(*keys, *grouped))

    parts = {"rm": part("rm", src.c.regency, src.c.month),
             "cc": part("cc", src.c.cat, src.c.chapter, src.c.status),
             "d": part("d", src.c.dest_key),
             "lt": part("lt", src.c.lead, unit=empty)}
    return [parts[k] for k in kinds]


def _sorted(parts: list[Any]) -> Any:
    """The parts' rows in key order: the lock order on PostgreSQL. (The WHERE keeps SQLite
    from reading the upsert's ON CONFLICT as a join's ON.)"""
    union = union_all(*parts).subquery("cells")
    return (select(*[union.c[c] for c in KEY + MEASURES]).where(literal_column("1 = 1"))
            .order_by(*[union.c[c] for c in KEY]))


def _upsert(session: Session) -> Any:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(cell_t)


def _add(session: Session, rows_select: Any) -> None:
    stmt = _upsert(session).from_select(list(KEY + MEASURES), rows_select)
    session.execute(stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={m: cell_t.c[m] + stmt.excluded[m] for m in MEASURES}))


def _add_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    rows = sorted(rows, key=lambda r: tuple(r[k] for k in KEY))  # the lock order
    stmt = _upsert(session).values(rows)
    later = stmt.excluded.shown_at >= func.coalesce(cell_t.c.shown_at, stmt.excluded.shown_at)
    session.execute(stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={**{m: cell_t.c[m] + stmt.excluded[m] for m in MEASURES},
              # The latest writing of a reason is the one shown (see queries._rejections).
              "shown": case((later, stmt.excluded.shown), else_=cell_t.c.shown),
              "shown_at": case((later, stmt.excluded.shown_at), else_=cell_t.c.shown_at)}))


def _rejection_rows(at: dt.datetime, org: int, province: str, category: str | None,
                    destination: str, reason: str | None) -> list[dict[str, Any]]:
    rows = []
    month = month_of(at)
    for company, cat, dest in _levels_of(org, category, destination):
        cell = {"org": company, "category": cat, "destination": dest, "month": month,
                "province": province, "k2": "", "k3": "", "unit": "", "batches": 1,
                "value_idr": 0, "quantity_milli": 0}
        rows.append({**cell, "kind": "rej", "k1": "", "shown": None, "shown_at": None})
        if reason:
            rows.append({**cell, "kind": "rr", "k1": reason_hash(reason), "shown": reason,
                         "shown_at": at})
    return rows


def _levels_of(org: int, category: str | None, destination: str
               ) -> list[tuple[str, str, str]]:
    """One batch's (org, category, destination) at the eight filter levels."""
    return [(company, cat, dest) for company in (ALL, str(org))
            for cat in (ALL, category or "") for dest in (ALL, destination)]


# ---------------------------------------------------------------------------- incremental
def record_decision(session: Session, decision: Decision, from_status: Status) -> None:
    """Bring the cells up to date with ``decision`` (flushed, its batch already updated)."""
    batch_id = decision.batch_id
    action = Action(decision.action)
    if action is Action.APPROVE:
        month: Any = literal_column(f"'{month_of(decision.created_at)}'")
        _add(session, _sorted(_certified_cells(session, month, [decision_t.c.id == decision.id],
                                               CERTIFIED_KINDS)))
    elif action is Action.REJECT:
        org, province, category, destination = session.execute(
            select(batch_t.c.organisation_id, batch_t.c.origin_province_code,
                   batch_t.c.product_category, batch_t.c.destination_country)
            .where(batch_t.c.id == batch_id)).one()
        _add_rows(session, _rejection_rows(decision.created_at, org, province, category,
                                           destination, decision.reason))
    elif from_status in (Status.APPROVED, Status.SUSPENDED):
        # Suspend, reinstate, revoke: the certified batch leaves the ``cc`` cells of its old
        # status for those of its new one, in one statement (one lock order).
        approved_at, org, province, category, destination = session.execute(
            select(decision_t.c.created_at, batch_t.c.organisation_id,
                   batch_t.c.origin_province_code,
                   batch_t.c.product_category, batch_t.c.destination_country)
            .select_from(decision_t.join(batch_t, batch_t.c.id == decision_t.c.batch_id))
            .where(decision_t.c.batch_id == batch_id, decision_t.c.action == "approve")).one()
        month = month_of(approved_at)
        approval = [decision_t.c.batch_id == batch_id]
        _add(session, _sorted([
            *_certified_cells(session, literal_column(f"'{month}'"), approval, ("cc",),
                              literal_column(f"'{from_status.value}'"), -1),
            *_certified_cells(session, literal_column(f"'{month}'"), approval, ("cc",),
                              literal_column(f"'{Status(decision.to_status).value}'"), 1)]))
        # A cell the batch left empty goes, as a rebuild would not write it: only the eight
        # cells it left (seeks on the primary key, not a scan of every status cell).
        session.execute(delete(cell_t).where(
            cell_t.c.kind == "cc", cell_t.c.org.in_((ALL, str(org))),
            cell_t.c.category.in_((ALL, category or "")),
            cell_t.c.destination.in_((ALL, destination)), cell_t.c.month == month,
            cell_t.c.province == province, cell_t.c.k3 == from_status.value,
            cell_t.c.batches == 0))


def record_print_job(session: Session, job: PrintJob) -> None:
    """Count ``job`` (flushed) in its cells: an order, not a scan, so written at once."""
    org, province, category, destination = session.execute(
        select(batch_t.c.organisation_id, batch_t.c.origin_province_code,
               batch_t.c.product_category, batch_t.c.destination_country)
        .where(batch_t.c.id == job.batch_id)).one()
    _add_rows(session, [
        {"kind": "pj", "org": company, "category": cat, "destination": dest,
         "month": month_of(job.created_at), "province": province, "k1": "", "k2": "", "k3": "",
         "unit": "", "batches": 1, "value_idr": 0, "quantity_milli": job.quantity * 1000,
         "shown": None, "shown_at": None}
        for company, cat, dest in _levels_of(org, category, destination)])


# ---------------------------------------------------------------------------- hub passages
def _passage_rows(passage: dt.date, certified: dt.date | None, hub: str, org: int,
                  province: str, category: str | None, destination: str
                  ) -> list[dict[str, Any]]:
    days = "" if certified is None else str((passage - certified).days)
    return [{"kind": "hp", "org": company, "category": cat, "destination": dest,
             "month": passage.strftime("%Y-%m"), "province": province, "k1": hub, "k2": days,
             "k3": "", "unit": "", "batches": 1, "value_idr": 0, "quantity_milli": 0,
             "shown": None, "shown_at": None}
            for company, cat, dest in _levels_of(org, category, destination)]


def record_passage(session: Session, batch_id: int, hub: str, passage: dt.date) -> None:
    """Count a passage the Bali office confirmed (flushed) in its cells."""
    org, province, category, destination = session.execute(
        select(batch_t.c.organisation_id, batch_t.c.origin_province_code,
               batch_t.c.product_category, batch_t.c.destination_country)
        .where(batch_t.c.id == batch_id)).one()
    first = session.execute(select(func.min(decision_t.c.created_at)).where(
        decision_t.c.batch_id == batch_id, decision_t.c.action == "approve")).scalar()
    _add_rows(session, _passage_rows(passage, _wita_day(first), hub, org, province, category,
                                     destination))


def _wita_day(at: Any) -> dt.date | None:
    return None if at is None else utc(at).astimezone(REGION_TZ).date()


def _rebuild_passages(session: Session) -> None:
    shipment_t = inspect(Shipment).local_table
    first = (select(decision_t.c.batch_id, func.min(decision_t.c.created_at).label("at"))
             .where(decision_t.c.action == "approve").group_by(decision_t.c.batch_id)
             .subquery("first_approval"))
    result = session.execute(
        select(shipment_t.c.passage_date, first.c.at, shipment_t.c.hub,
               batch_t.c.organisation_id, batch_t.c.origin_province_code,
               batch_t.c.product_category, batch_t.c.destination_country)
        .select_from(shipment_t.join(batch_t, batch_t.c.id == shipment_t.c.batch_id)
                     .outerjoin(first, first.c.batch_id == shipment_t.c.batch_id))
        .where(shipment_t.c.status == "confirmed", shipment_t.c.passage_date.is_not(None))
        .execution_options(yield_per=10_000))
    cells: dict[tuple[str, ...], dict[str, Any]] = {}
    for passage, at, hub, org, province, category, destination in result:
        for row in _passage_rows(passage, _wita_day(at), hub, org, province, category,
                                 destination):
            key = tuple(row[k] for k in KEY)
            if key in cells:
                cells[key]["batches"] += 1
            else:
                cells[key] = row
    rows = sorted(cells.values(), key=lambda r: tuple(r[k] for k in KEY))
    for i in range(0, len(rows), 5_000):
        session.execute(cell_t.insert(), rows[i:i + 5_000])


# ---------------------------------------------------------------------------- scans
SCAN_SETTLE = dt.timedelta(minutes=10)
WATERMARK = {"kind": "wm", "org": "", "category": "", "destination": "", "month": "",
             "province": "", "k1": "scan", "k2": "", "k3": "", "unit": ""}


def _watermark_where() -> list[Any]:
    return [cell_t.c[k] == v for k, v in WATERMARK.items()]


def scan_watermark(session: Session) -> int:
    """The id up to which scans are in the cells (0: none)."""
    value = session.execute(select(cell_t.c.batches).where(*_watermark_where())).scalar()
    return int(value or 0)


def _scan_cells(session: Session, after: int, upto: int) -> list[Any]:
    """The cells of the scans with ``after`` < id <= ``upto``: one SELECT per kind.

    A scan of a batch is filed under its batch's province, frozen category and destination
    (``queries._scan_source``): only a certified batch has labels, and its facts are frozen
    since submission. A scan of no batch goes under its attribution (the province, and the
    product's category as it is at the roll-up: the one fact that may still change, when an
    exporter recategorises a product a fake label named) and under no destination, as the
    live filters treat it."""
    levels = _levels()
    star: Any = literal_column(f"'{ALL}'")
    first, last = session.execute(select(func.min(scan_t.c.created_at),
                                         func.max(scan_t.c.created_at))
                                  .where(scan_t.c.id > after, scan_t.c.id <= upto)).one()
    batched = scan_t.c.batch_id.is_not(None)
    category = case((batched, func.coalesce(batch_t.c.product_category, "")),
                    else_=func.coalesce(product_t.c.category, ""))
    # The company: the batch's, or for a scan of no batch its attribution (the product's
    # exporter), as an exporter's live figures count them.
    org = case((batched, batch_t.c.organisation_id), else_=scan_t.c.organisation_id)
    base = select(
        _org_level(levels, org).label("org"),
        case((levels.c.lc == 1, category), else_=star).label("category"),
        case((levels.c.ld == 1, batch_t.c.destination_country), else_=star).label("dest"),
        month_bucket(scan_t.c.created_at, _span(first, last)).label("month"),
        func.coalesce(batch_t.c.origin_province_code, scan_t.c.province_code, "")
        .label("province"),
        func.coalesce(scan_t.c.country, "").label("country"),
        func.coalesce(scan_t.c.country_source, "").label("source"),
        func.coalesce(scan_t.c.language, "").label("language"),
        scan_t.c.verdict.label("verdict"),
    ).select_from(
        scan_t.outerjoin(batch_t, batch_t.c.id == scan_t.c.batch_id)
        .outerjoin(product_t, product_t.c.id == scan_t.c.product_id)
        .join(levels, literal_column("1 = 1"))
    ).where(scan_t.c.id > after, scan_t.c.id <= upto,
            # A scan of no batch has no destination: not at the destination levels; a scan
            # of no company is not at the company levels.
            (levels.c.ld == 0) | batched, (levels.c.lo == 0) | org.is_not(None))
    src = base.cte("scanned").prefix_with("MATERIALIZED")
    empty: Any = literal_column("''")

    def part(kind: str, k1: Any, k2: Any = empty) -> Any:
        keys = [src.c.org, src.c.category, src.c.dest, src.c.month, src.c.province]
        return (select(literal_column(f"'{kind}'").label("kind"), src.c.org, src.c.category,
                       src.c.dest.label("destination"), src.c.month, src.c.province,
                       k1.label("k1"), k2.label("k2"), empty.label("k3"), empty.label("unit"),
                       func.count().label("batches"), literal_column("0").label("value_idr"),
                       literal_column("0").label("quantity_milli"))
                .group_by(*keys, *[k for k in (k1, k2) if k is not empty]))

    return [part("sco", src.c.country, src.c.source), part("scl", src.c.language),
            part("scv", src.c.verdict)]


def roll_up_scans(session: Session, settle: dt.timedelta = SCAN_SETTLE) -> int:
    """Add the scans written since the last roll-up (and older than ``settle``) to the
    cells, and move the watermark; the number of scans added. Concurrent roll-ups (two
    workers' sweeps) are serialised by the watermark row: the UPDATE that moves it waits
    for the other's and then finds the watermark moved, so nothing counts twice. The row is
    made first if missing (INSERT … ON CONFLICT DO NOTHING: the second of two first
    roll-ups waits for the first's and inserts nothing, where a plain INSERT failed on the
    duplicate key)."""
    after = scan_watermark(session)
    upto = session.execute(select(func.max(scan_t.c.id)).where(
        scan_t.c.id > after, scan_t.c.created_at < utcnow() - settle)).scalar()
    if upto is None:
        return 0
    session.execute(_upsert(session).values(**WATERMARK, batches=0, value_idr=0,
                                            quantity_milli=0)
                    .on_conflict_do_nothing(index_elements=list(KEY)))
    moved: Any = session.execute(cell_t.update().where(*_watermark_where(),
                                                  cell_t.c.batches == after)
                            .values(batches=upto))
    if moved.rowcount != 1:
        return 0  # another roll-up moved it first
    _add(session, _sorted(_scan_cells(session, after, upto)))
    return int(upto) - int(after)


def _span(first: Any, last: Any) -> Filters:
    def first_day(at: Any) -> dt.date:
        if isinstance(at, str):  # SQLite's min() of the column returns its text
            at = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
        local = at.astimezone(REGION_TZ)
        return dt.date(local.year, local.month, 1)

    if first is None:
        return Filters(start=dt.date(2000, 1, 1), end=dt.date(2000, 1, 1))
    return Filters(start=first_day(first), end=first_day(last))


def _approval_span(session: Session, batch_id: int | None = None) -> Filters:
    """The months of the approvals (of one batch, or all), for ``month_bucket``."""
    query = select(func.min(decision_t.c.created_at), func.max(decision_t.c.created_at)).where(
        decision_t.c.action == "approve")
    if batch_id is not None:
        query = query.where(decision_t.c.batch_id == batch_id)
    first, last = session.execute(query).one()
    return _span(first, last)


# ---------------------------------------------------------------------------- rebuild
def rebuild(session: Session) -> int:
    """Every cell again from the decisions, batches, print jobs and scans (flushes, does not
    commit: the caller's transaction makes the swap atomic). Returns the number of cells."""
    session.execute(delete(cell_t))
    month = month_bucket(decision_t.c.created_at, _approval_span(session))
    session.execute(_upsert(session).from_select(
        list(KEY + MEASURES), _sorted(_certified_cells(session, month, [], CERTIFIED_KINDS))))
    # Rejections: grouping reasons needs ``reason_key`` (Python), so they are added up here,
    # one row a rejection read in a stream, and written once.
    cells: dict[tuple[str, ...], dict[str, Any]] = {}
    result = session.execute(
        select(decision_t.c.created_at, batch_t.c.organisation_id,
               batch_t.c.origin_province_code, batch_t.c.product_category,
               batch_t.c.destination_country, decision_t.c.reason)
        .select_from(decision_t.join(batch_t, batch_t.c.id == decision_t.c.batch_id))
        .where(decision_t.c.action == "reject")
        .order_by(decision_t.c.created_at, decision_t.c.id)
        .execution_options(yield_per=10_000))
    for at, org, province, category, destination, reason in result:
        for row in _rejection_rows(at, org, province, category, destination, reason):
            key = tuple(row[k] for k in KEY)
            cell = cells.get(key)
            if cell is None:
                cells[key] = row
            else:
                cell["batches"] += 1
                if row["shown_at"] is not None and row["shown_at"] >= cell["shown_at"]:
                    cell["shown"], cell["shown_at"] = row["shown"], row["shown_at"]
    rows = sorted(cells.values(), key=lambda r: tuple(r[k] for k in KEY))
    for i in range(0, len(rows), 5_000):
        session.execute(cell_t.insert(), rows[i:i + 5_000])
    _rebuild_print_jobs(session)
    _rebuild_passages(session)
    roll_up_scans(session)
    session.flush()
    return int(session.execute(select(func.count()).select_from(cell_t)).scalar_one())


def _rebuild_print_jobs(session: Session) -> None:
    job_t = inspect(PrintJob).local_table
    levels = _levels()
    star: Any = literal_column(f"'{ALL}'")
    first, last = session.execute(select(func.min(job_t.c.created_at),
                                         func.max(job_t.c.created_at))).one()
    src = select(
        _org_level(levels, batch_t.c.organisation_id).label("org"),
        case((levels.c.lc == 1, func.coalesce(batch_t.c.product_category, "")), else_=star)
        .label("category"),
        case((levels.c.ld == 1, batch_t.c.destination_country), else_=star).label("dest"),
        month_bucket(job_t.c.created_at, _span(first, last)).label("month"),
        batch_t.c.origin_province_code.label("province"),
        job_t.c.quantity.label("labels"),
    ).select_from(job_t.join(batch_t, batch_t.c.id == job_t.c.batch_id)
                  .join(levels, literal_column("1 = 1"))).cte("jobs").prefix_with("MATERIALIZED")
    empty: Any = literal_column("''")
    keys = [src.c.org, src.c.category, src.c.dest, src.c.month, src.c.province]
    part = (select(literal_column("'pj'").label("kind"), src.c.org, src.c.category,
                   src.c.dest.label("destination"), src.c.month, src.c.province,
                   empty.label("k1"), empty.label("k2"), empty.label("k3"), empty.label("unit"),
                   func.count().label("batches"), literal_column("0").label("value_idr"),
                   (func.sum(src.c.labels) * 1000).label("quantity_milli"))
            .group_by(*keys))
    session.execute(_upsert(session).from_select(list(KEY + MEASURES), _sorted([part])))
