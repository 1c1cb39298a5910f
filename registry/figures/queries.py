"""Figures for the offices' monitoring and evaluation, aggregated in SQL.

Definitions (also shown on the page):

* **Certified batches** of a period: batches whose approval decision falls in the period,
  whatever happened later (a batch approved in March and revoked in May counts in March; its
  current status is reported beside it). A batch is approved at most once: reinstating a
  suspended batch is a separate action, so joining the ``approve`` decisions counts each once.
* **Volume** is summed per normalised unit (kg, l, pcs, head; tonnes become kg) because kilos and
  pieces do not add up. **Value** is the declared export value in IDR.
* **Approval lead time**: from the batch's (last) submission to its approval, for the batches
  certified in the period; median and 90th percentile by the nearest-rank method, to the
  precision shown (``lead_step``: the minute under an hour ... a tenth of a day beyond).
* **Rejections**: reject decisions in the period. **Labels printed**: labels of print jobs
  ordered in the period. **Scans**: scans in the period; **suspicious** ones as
  ``registry.verify.rules.SUSPICIOUS`` says (the buyer was told "not genuine" or "possible
  copy").
* Months are calendar months in WITA (UTC+8), where all three provinces are.

Who sees what: exporters only their own company's batches; officers and admins all three
provinces in aggregate (the cooperation is joint and its figures are shared), an officer's
default being their own province. Row-level detail (exports, lot codes of suspicious scans,
rejection reasons) is limited to what the user may open anyway: officers their province, admins
everything; the totals of every province stay visible.

Every number is one GROUP BY in the database; no batch row is loaded into Python to be summed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    false,
    func,
    inspect,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from registry.accounts.models import Organisation, Role, User
from registry.accounts.services import officer_province
from registry.catalog.models import Batch, Product
from registry.catalog.rules import Unit
from registry.clock import REGION_TZ
from registry.db.types import utc
from registry.exceptions import Forbidden
from registry.figures.models import ALL, FigureCell
from registry.printing.models import PrintJob
from registry.reference import HUBS, regencies
from registry.review.models import Decision
from registry.shipments.models import Shipment
from registry.verify.models import Scan
from registry.verify.rules import SUSPICIOUS, SUSPICIOUS_VALUES

MAX_MONTHS = 120  # ten years: enough for any review, small enough to keep the page readable
LATEST = 10

# Through the mapper: sqlmodel does not type ``__table__``.
product_t = inspect(Product).local_table
batch_t = inspect(Batch).local_table
decision_t = inspect(Decision).local_table
job_t = inspect(PrintJob).local_table
scan_t = inspect(Scan).local_table
org_t = inspect(Organisation).local_table
cell_t = inspect(FigureCell).local_table
shipment_t = inspect(Shipment).local_table


# ---------------------------------------------------------------------------- filters, scope
def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_count(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


@dataclass(frozen=True)
class Filters:
    """``start`` and ``end`` are the first days of the first and the last month (inclusive)."""

    start: dt.date
    end: dt.date
    province: str | None = None
    category: str | None = None
    destination: str | None = None

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as UTC instants: months begin at midnight WITA."""
        first = dt.datetime.combine(self.start, dt.time(), REGION_TZ)
        after = dt.datetime.combine(add_months(self.end, 1), dt.time(), REGION_TZ)
        return first.astimezone(dt.UTC), after.astimezone(dt.UTC)

    def months(self) -> list[str]:
        return [add_months(self.start, i).strftime("%Y-%m")
                for i in range(month_count(self.start, self.end))]


def default_filters(session: Session, actor: User, today: dt.date) -> Filters:
    """The last twelve months, including the current one; an officer's own province."""
    end = today.replace(day=1)
    return Filters(start=add_months(end, -11), end=end,
                   province=officer_province(session, actor))


def home_province(session: Session, actor: User) -> str | None:
    """The province of the user's organisation (an office's or an exporter's), if any."""
    org = session.get(Organisation, actor.organisation_id)
    return org.province_code if org else None


@dataclass(frozen=True)
class Scope:
    organisation_id: int | None = None  # exporters: their company only
    row_province: str | None = None  # officers: row-level detail of their province only
    rows_everywhere: bool = False  # admins

    def rows_allowed(self, filters: Filters) -> bool:
        """May this user see individual batches (lot codes, exports) under these filters?"""
        if self.rows_everywhere or self.organisation_id is not None:
            return True
        return self.row_province is not None and filters.province == self.row_province

    def detail_filters(self, filters: Filters) -> Filters | None:
        """The filters under which this user may read row-level detail that is not a batch
        line (rejection reasons): an officer's own province only, whatever province the
        totals are for; ``None`` when the filters leave nothing of it."""
        if self.rows_everywhere or self.organisation_id is not None:
            return filters
        if self.row_province is None or filters.province not in (None, self.row_province):
            return None
        if filters.province == self.row_province:
            return filters
        return replace(filters, province=self.row_province)


def scope_for(session: Session, actor: User) -> Scope:
    if actor.role == Role.EXPORTER:
        return Scope(organisation_id=actor.organisation_id)
    if actor.role == Role.OFFICER:
        return Scope(row_province=officer_province(session, actor))
    if actor.role == Role.ADMIN:
        return Scope(rows_everywhere=True)
    raise Forbidden("figures are for exporters, trade offices and admins")


# ---------------------------------------------------------------------------- SQL helpers
def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def month_bucket(column: Any, filters: Filters) -> ColumnElement[Any]:
    """'YYYY-MM' (WITA) of a timestamp known to lie in the period, as a binary tree of CASEs
    over the months' UTC starts: about log2(months) comparisons a row and no date parsing,
    which on SQLite is several times cheaper than strftime() over a year of approvals."""
    months = filters.months()
    starts = [dt.datetime.combine(add_months(filters.start, i), dt.time(), REGION_TZ)
              .astimezone(dt.UTC) for i in range(len(months))]

    def tree(lo: int, hi: int) -> ColumnElement[Any]:  # months[lo:hi]
        if hi - lo == 1:
            return literal(months[lo], String)
        mid = (lo + hi) // 2
        return case((column < starts[mid], tree(lo, mid)), else_=tree(mid, hi))

    return tree(0, len(months))


def _minutes_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole minutes (floored) on both databases: an approval 45 minutes after its submission
    reads "45 min", not "0 h". SQLite's julianday is a float, hence the rounding to seconds
    before the integer division."""
    if _is_pg(session):
        return cast(func.floor(func.extract("epoch", later - earlier) / 60), Integer)
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400),
                Integer) / 60


# Each unit a batch may be declared in, with the figures' normalised unit and its factor.
# Whole numbers (tonnes → kg is 1000), so integers keep both databases exact.
NORMALISED_UNITS: dict[Unit, tuple[Unit, int]] = {
    Unit.KG: (Unit.KG, 1),
    Unit.T: (Unit.KG, 1000),
    Unit.L: (Unit.L, 1),
    Unit.PCS: (Unit.PCS, 1),
    Unit.HEAD: (Unit.HEAD, 1),
}


def normalised_unit() -> ColumnElement[Any]:
    return case(*[(batch_t.c.unit == code.value, literal(target.value))
                  for code, (target, _f) in NORMALISED_UNITS.items()], else_=batch_t.c.unit)


def normalised_quantity() -> ColumnElement[Any]:
    factor = case(*[(batch_t.c.unit == code.value, literal(f))
                    for code, (_t, f) in NORMALISED_UNITS.items()], else_=literal(1))
    return batch_t.c.quantity * factor


def _batch_conditions(filters: Filters, scope: Scope) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if scope.organisation_id is not None:
        conds.append(batch_t.c.organisation_id == scope.organisation_id)
    if filters.province:
        conds.append(batch_t.c.origin_province_code == filters.province)
    if filters.destination:
        conds.append(batch_t.c.destination_country == filters.destination)
    if filters.category:
        conds.append(batch_t.c.product_category == filters.category)
    return conds


def _needs_batch(filters: Filters, scope: Scope) -> bool:
    return bool(scope.organisation_id is not None or filters.province or filters.destination
                or filters.category)


def _decisions(action: str, filters: Filters, scope: Scope
               ) -> tuple[Any, list[ColumnElement[bool]]]:
    """Decisions of ``action`` in the period joined to their batch. Category, HS code and
    product names are the batch's, frozen at submission: what was certified is what counts,
    not what the product's record says today."""
    start, end = filters.bounds()
    source = decision_t.join(batch_t, batch_t.c.id == decision_t.c.batch_id)
    is_action = decision_t.c.action == action
    if scope.organisation_id is not None:
        # One company: from its batches (batch.organisation_id, then decision.batch_id), not
        # through the period's approvals of every company. ``action || ''`` keeps the
        # planners off the (action, created_at) index, which SQLite otherwise picks: 4.7 s
        # instead of 0.09 s for a whole history at a million batches.
        is_action = decision_t.c.action.concat("") == action
    conds = [is_action, decision_t.c.created_at >= start,
             decision_t.c.created_at < end, *_batch_conditions(filters, scope)]
    return source, conds


# ---------------------------------------------------------------------------- results
def _dec(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return Decimal(str(value)).quantize(Decimal("0.001")).normalize()


@dataclass
class Row:
    """Certified batches of one group: count, declared value, volume per normalised unit."""

    key: str
    batches: int = 0
    value_idr: int = 0
    volume: dict[str, Decimal] = field(default_factory=dict)

    def add(self, unit: str, batches: int, value: Any, quantity: Any) -> None:
        self.batches += int(batches)
        self.value_idr += int(value or 0)
        self.volume[unit] = self.volume.get(unit, Decimal(0)) + _dec(quantity)


def _fold(rows: Iterable[Sequence[Any]], key_len: int = 1) -> dict[Any, Row]:
    """Rows of (key..., unit, count, value, quantity) into one Row per key."""
    out: dict[Any, Row] = {}
    for row in rows:
        key = row[0] if key_len == 1 else tuple(row[:key_len])
        unit, count, value, quantity = row[key_len:key_len + 4]
        out.setdefault(key, Row(row[0] if key_len == 1 else "/".join(map(str, key))))
        out[key].add(unit, count, value, quantity)
    return out


def _ranked(rows: dict[Any, Row]) -> list[Row]:
    return sorted(rows.values(), key=lambda r: (-r.value_idr, -r.batches, r.key))


# Lead times are kept to the precision they are shown with (exports.lead_time_text): the
# minute under an hour, a tenth of an hour under ten hours, the hour under two days, a tenth
# of a day beyond. Floors, so showing a lead time depends only on its step; and the nearest
# rank of stepped values is the step of the nearest rank (the step is monotonic), so the
# summary cells, which keep steps (a few hundred a month rather than one per batch), give
# the live query's figures exactly.
LEAD_STEPS = ((60, 1), (600, 6), (2880, 60), (None, 144))  # (below this many minutes, step)


def lead_step(minutes: int) -> int:
    """The lead time's step: ``minutes`` floored to the precision it is shown with."""
    minutes = max(0, minutes)
    for below, step in LEAD_STEPS:
        if below is None or minutes < below:
            return minutes // step * step
    raise AssertionError("unreachable: the last step has no bound")


def lead_step_sql(minutes: Any) -> ColumnElement[Any]:
    """``lead_step`` in SQL, on whole minutes (integer division on both databases)."""
    whens = [(minutes < below, minutes // step * step) for below, step in LEAD_STEPS
             if below is not None]
    return case(*whens, else_=minutes // LEAD_STEPS[-1][1] * LEAD_STEPS[-1][1])


@dataclass
class LeadTime:
    count: int = 0
    median_minutes: int | None = None
    p90_minutes: int | None = None


def nearest_rank(histogram: dict[int, int], p: float) -> int | None:
    """The smallest value with at least ``p`` of all observations at or below it."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, -(-round(p * total * 1000) // 1000))  # ceil(p·n) without float drift
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)


@dataclass
class Figures:
    filters: Filters
    rows_allowed: bool
    total: Row
    by_province: list[Row]
    by_regency: list[Row]
    by_category: list[Row]
    by_chapter: list[Row]
    by_destination: list[Row]
    by_month: list[Row]
    current_status: dict[str, int]
    lead_time: LeadTime
    rejections: int
    common_reasons: list[tuple[str, int]]
    latest_reasons: list[tuple[dt.datetime, str, str]]
    # Set when the reasons are limited to this province (an officer's own) while the
    # totals are not: the page says so.
    reasons_province: str | None
    labels_printed: int
    print_jobs: int
    scans: int
    scans_by_country: list[tuple[str, int]]
    scans_by_language_region: list[tuple[str, int]]
    scans_by_language: list[tuple[str, int]]
    suspicious: dict[str, int]
    suspicious_latest: list[tuple[dt.datetime, str, str, str, str | None]]

    @property
    def suspicious_total(self) -> int:
        return sum(self.suspicious.values())


# ---------------------------------------------------------------------------- the service
def dashboard(session: Session, actor: User, filters: Filters, *, live: bool = False
              ) -> Figures:
    """The figures of ``filters`` for ``actor``.

    Everyone reads the certified batches, rejections, print jobs and rolled-up scans from the
    summary table (``registry.figures.summary``: a few thousand cells for any period instead
    of a join over every approval in it): officers and admins the cells of all companies,
    an exporter those of their own company (read live, one company's sixtieth of the
    benchmark's million took 1.7 s over the whole history on PostgreSQL).
    ``live=True`` reads the base tables for everyone: the reference the summary is tested
    and benchmarked against.
    """
    scope = scope_for(session, actor)
    if _is_pg(session):
        # No parallel workers for the figures (until the request's transaction ends): the
        # "latest ten" queries of a narrow filter let PostgreSQL's workers read every rejection
        # and suspicious scan past the LIMIT (0.93 s + 0.50 s of the 1.2 s an admin's whole
        # history of fishery to Japan from NTT took at a million batches; 0.24 s in all
        # without), and an exporter's whole history fell from 1.6 s to 1.1 s. On two cores
        # the workers only take the CPU of other requests anyway.
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    summary = not live
    total = Row("total")
    provinces: dict[str, Row] = {}
    regency_rows: dict[str, Row] = {}
    months: dict[str, Row] = {}
    categories: dict[str, Row] = {}
    chapters: dict[str, Row] = {}
    destinations: dict[str, Row] = {}
    status: dict[str, int] = defaultdict(int)
    histogram: dict[int, int] = defaultdict(int)
    known = regencies()
    cube = (_summary_cube(session, filters, scope) if summary
            else session.execute(_certified_cube(session, filters, scope)))
    for kind, k1, k2, k3, u, count, value, quantity in cube:
        if kind == "rm":  # regency × month: also the provinces, the months and the total
            province = known[k1].province_code if k1 in known else k1[:2]
            for bucket, key in ((regency_rows, k1), (provinces, province), (months, k2)):
                bucket.setdefault(key, Row(key)).add(u, count, value, quantity)
            total.add(u, count, value, quantity)
        elif kind == "cc":  # category × HS chapter × current status
            categories.setdefault(k1, Row(k1)).add(u, count, value, quantity)
            chapters.setdefault(k2, Row(k2)).add(u, count, value, quantity)
            status[k3] += int(count)
        elif kind == "d":
            destinations.setdefault(k1, Row(k1)).add(u, count, value, quantity)
        elif k1 is not None:  # "lt": lead time in minutes (live) or its step (summary)
            histogram[lead_step(int(float(k1)))] += int(count)
    lead = LeadTime(count=sum(histogram.values()), median_minutes=nearest_rank(histogram, 0.5),
                    p90_minutes=nearest_rank(histogram, 0.9))
    return Figures(
        filters=filters, rows_allowed=scope.rows_allowed(filters), total=total,
        by_province=_ranked(provinces), by_regency=_ranked(regency_rows),
        by_category=_ranked(categories), by_chapter=_ranked(chapters),
        by_destination=_ranked(destinations),
        by_month=[months.get(m, Row(m)) for m in filters.months()],
        current_status=dict(status), lead_time=lead,
        **_rejections(session, filters, scope, summary),
        **_labels(session, filters, scope, summary), **_scans(session, filters, scope, summary),
    )


def _cells(filters: Filters, scope: Scope, kinds: Sequence[str], province: str | None
           ) -> list[Any]:
    """The summary cells of ``kinds`` at the scope's and filters' level, months and
    province."""
    org = ALL if scope.organisation_id is None else str(scope.organisation_id)
    conds = [cell_t.c.kind.in_(kinds), cell_t.c.org == org,
             cell_t.c.category == (filters.category or ALL),
             cell_t.c.destination == (filters.destination or ALL),
             cell_t.c.month >= filters.start.strftime("%Y-%m"),
             cell_t.c.month <= filters.end.strftime("%Y-%m")]
    if province:
        conds.append(cell_t.c.province == province)
    return conds


def _summary_cube(session: Session, filters: Filters, scope: Scope) -> list[tuple[Any, ...]]:
    """``_certified_cube``'s rows, from the summary table: the database adds up the months
    and provinces of each key (a few thousand cells for the whole history)."""
    keys = (cell_t.c.kind, cell_t.c.k1, cell_t.c.k2, cell_t.c.k3, cell_t.c.unit)
    rows = session.execute(
        select(*keys, func.sum(cell_t.c.batches), func.sum(cell_t.c.value_idr),
               func.sum(cell_t.c.quantity_milli))
        .where(*_cells(filters, scope, ("rm", "cc", "d", "lt"), filters.province))
        .group_by(*keys)
    ).all()
    out = []
    for kind, k1, k2, k3, unit, count, value, milli in rows:
        if not count:
            continue
        if kind == "cc":  # '' stands for NULL in a key column; the live query keeps NULL
            k1, k2 = k1 or None, k2 or None
        out.append((kind, k1 or (None if kind == "lt" else k1), k2, k3, unit or None, count,
                    value, Decimal(int(milli or 0)) / 1000))
    return out


def _certified_cube(session: Session, filters: Filters, scope: Scope) -> Any:
    """Every figure of the certified batches in one statement.

    The period's approvals are joined to their batches once, into a MATERIALIZED common table
    expression (SQLite ≥ 3.35, PostgreSQL ≥ 12), and four GROUP BYs run over that small set:
    the join is what costs at a million batches (random reads of batch rows), so doing it once
    instead of once per figure is most of the speed. Rows come back tagged by their grouping.
    """
    source, conds = _decisions("approve", filters, scope)
    base = select(
        batch_t.c.origin_regency_code.label("regency"),
        month_bucket(decision_t.c.created_at, filters).label("month"),
        batch_t.c.product_category.label("category"),
        func.substr(batch_t.c.product_hs_code, 1, 2).label("chapter"),
        batch_t.c.destination_country.label("dest"),
        batch_t.c.status.label("status"),
        normalised_unit().label("unit"),
        normalised_quantity().label("qty"),
        batch_t.c.declared_value_idr.label("value"),
        _minutes_between(session, decision_t.c.created_at, batch_t.c.submitted_at)
        .label("minutes"),
    ).select_from(source).where(*conds).cte("certified").prefix_with("MATERIALIZED")

    def part(kind: str, *keys: Any) -> Select[*tuple[Any, ...]]:
        padded = [cast(k, String) for k in keys] + [null_text()] * (3 - len(keys))
        return (select(literal(kind, String).label("kind"), *padded, base.c.unit, func.count(),
                       func.sum(base.c.value), func.sum(base.c.qty))
                .group_by(*keys, base.c.unit))

    return union_all(
        part("rm", base.c.regency, base.c.month),
        part("cc", base.c.category, base.c.chapter, base.c.status),
        part("d", base.c.dest),
        part("lt", base.c.minutes),
    )


def null_text() -> Any:
    return cast(null(), String)


def reason_key(reason: str) -> str:
    """What groups rejection reasons: the same words whatever their case and spacing."""
    return " ".join(reason.split()).casefold()


def common_writings(groups: Iterable[tuple[str, int, Any]]) -> list[tuple[str, int]]:
    """(reason as written, count, when written last) into the five most common reasons, each
    shown as its latest writing: the officers' own words, not a lower-cased key."""
    counts: dict[str, int] = defaultdict(int)
    shown: dict[str, tuple[Any, str]] = {}
    for writing, n, at in groups:
        key = reason_key(writing or "")
        counts[key] += int(n)
        if key not in shown or (at, writing or "") > shown[key]:
            shown[key] = (at, writing or "")
    ranked = sorted(counts, key=lambda k: (-counts[k], k))[:5]
    return [(shown[k][1], counts[k]) for k in ranked]


def _rejections(session: Session, filters: Filters, scope: Scope, summary: bool = False
                ) -> dict[str, Any]:
    # The reasons are what an officer wrote about a batch, so an officer reads them for their
    # own province only (an exporter's scope is already their company, an admin's
    # everything); the count is a total and stays visible.
    detail = scope.detail_filters(filters)
    groups: list[tuple[Any, ...]] | None = None
    if summary:
        count = session.execute(select(func.coalesce(func.sum(cell_t.c.batches), 0))
                                .where(*_cells(filters, scope, ("rej",), filters.province))
                                ).scalar_one()
        if detail is not None:
            groups = [tuple(r) for r in session.execute(
                select(cell_t.c.shown, cell_t.c.batches, cell_t.c.shown_at)
                .where(*_cells(detail, scope, ("rr",), detail.province)))]
    elif detail is filters:
        # The groups of the same rejections add up to their count: one pass over the
        # company's (or the admin's) rejections instead of two (150 ms each for an exporter's
        # whole history at a million batches on PostgreSQL).
        groups = _live_reason_groups(session, detail, scope)
        count = sum(int(n) for _reason, n, _at in groups)
    else:
        source, conds = _decisions("reject", filters, scope)
        if not _needs_batch(filters, scope):
            # Nothing to filter on the batch: count from the decision index alone.
            start, end = filters.bounds()
            source = decision_t
            conds = [decision_t.c.action == "reject", decision_t.c.created_at >= start,
                     decision_t.c.created_at < end]
        count = session.execute(select(func.count()).select_from(source).where(*conds)
                                ).scalar_one()
        if detail is not None:
            groups = _live_reason_groups(session, detail, scope)
    if detail is None or groups is None:
        return {"rejections": int(count), "common_reasons": [], "latest_reasons": [],
                "reasons_province": scope.row_province}
    source, conds = _decisions("reject", detail, scope)
    latest = session.execute(
        select(decision_t.c.created_at, batch_t.c.origin_province_code, decision_t.c.reason)
        .select_from(source).where(*conds)
        .order_by(decision_t.c.created_at.desc(), decision_t.c.id.desc()).limit(LATEST)
    ).all()
    return {"rejections": int(count),
            "common_reasons": common_writings(groups),
            "latest_reasons": [(at, prov, text or "") for at, prov, text in latest],
            "reasons_province": detail.province if detail is not filters else None}


def _live_reason_groups(session: Session, detail: Filters, scope: Scope
                        ) -> list[tuple[Any, ...]]:
    """(reason, count, latest) per exact writing, from the decisions. Grouped by the exact
    writing in SQL, then by ``reason_key`` in ``common_writings``: SQL's lower() differs
    between the databases (ASCII only on SQLite) and cannot collapse spaces."""
    source, conds = _decisions("reject", detail, scope)
    return [tuple(r) for r in session.execute(
        select(decision_t.c.reason, func.count(), func.max(decision_t.c.created_at))
        .select_from(source).where(*conds).group_by(decision_t.c.reason))]


def _labels(session: Session, filters: Filters, scope: Scope, summary: bool = False
            ) -> dict[str, Any]:
    if summary:
        jobs, milli = session.execute(
            select(func.coalesce(func.sum(cell_t.c.batches), 0),
                   func.coalesce(func.sum(cell_t.c.quantity_milli), 0))
            .where(*_cells(filters, scope, ("pj",), filters.province))).one()
        return {"labels_printed": int(milli) // 1000, "print_jobs": int(jobs)}
    start, end = filters.bounds()
    source: Any = job_t
    conds = _batch_conditions(filters, scope)
    if scope.organisation_id is not None:
        # One company: its batches' jobs (print_job.batch_id), as in ``_decisions``.
        conds = [job_t.c.batch_id.in_(select(batch_t.c.id).where(*conds))]
    elif _needs_batch(filters, scope):
        source = job_t.join(batch_t, batch_t.c.id == job_t.c.batch_id)
    labels, jobs = session.execute(
        select(func.coalesce(func.sum(job_t.c.quantity), 0), func.count()).select_from(source)
        .where(job_t.c.created_at >= start, job_t.c.created_at < end, *conds)
    ).one()
    return {"labels_printed": int(labels), "print_jobs": int(jobs)}


def _scan_source(filters: Filters, scope: Scope) -> tuple[Any, list[ColumnElement[bool]]]:
    """Scans in the period. Scans of a batch are filtered through their batch; not-genuine
    scans (no batch) through their own attribution (issue 11 §6: the product's exporter and
    the origin province), so an office counts the fakes of its province. A not-genuine scan
    has no destination: a destination filter leaves it out; unattributed ones count only in
    the unfiltered, all-provinces view."""
    start, end = filters.bounds()
    source: Any = scan_t
    conds: list[ColumnElement[bool]] = [scan_t.c.created_at >= start, scan_t.c.created_at < end]
    if scope.organisation_id is not None:
        # One company: its batches' scans (scan.batch_id) and the fakes attributed to it;
        # reading the period's scans of every company and joining each to its batch costs
        # seconds over a long period.
        if filters.category:
            source = source.outerjoin(product_t, product_t.c.id == scan_t.c.product_id)
        company = select(batch_t.c.id).where(*_batch_conditions(filters, scope))
        conds.append(or_(scan_t.c.batch_id.in_(company),
                         and_(scan_t.c.batch_id.is_(None), *_attributed_scans(filters, scope))))
    elif _needs_batch(filters, scope):
        source = scan_t.outerjoin(batch_t, batch_t.c.id == scan_t.c.batch_id)
        if filters.category:
            # A batch's scans filter on its frozen category (_batch_conditions); a
            # not-genuine scan has only its attributed product.
            source = source.outerjoin(product_t, product_t.c.id == scan_t.c.product_id)
        conds.append(or_(and_(scan_t.c.batch_id.is_not(None), *_batch_conditions(filters, scope)),
                         and_(scan_t.c.batch_id.is_(None), *_attributed_scans(filters, scope))))
    return source, conds


def _attributed_scans(filters: Filters, scope: Scope) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if scope.organisation_id is not None:
        conds.append(scan_t.c.organisation_id == scope.organisation_id)
    if filters.province:
        conds.append(scan_t.c.province_code == filters.province)
    if filters.destination:
        conds.append(false())
    if filters.category:
        conds.append(product_t.c.category == filters.category)
    return conds


def _scans(session: Session, filters: Filters, scope: Scope, summary: bool = False
           ) -> dict[str, Any]:
    source, conds = _scan_source(filters, scope)
    # "By country" only where the reader's country is known (a header set by the CDN or
    # proxy); otherwise the region of the reader's language, and the page says so.
    countries: dict[str, int] = defaultdict(int)
    regions: dict[str, int] = defaultdict(int)
    languages: dict[str, int] = defaultdict(int)
    verdicts: dict[str, int] = defaultdict(int)
    live_conds = conds
    if summary:
        # The rolled-up scans from their cells, the few written since live (summary.py).
        watermark = session.execute(select(cell_t.c.batches).where(
            cell_t.c.kind == "wm", cell_t.c.k1 == "scan")).scalar() or 0
        live_conds = [*conds, scan_t.c.id > watermark]
        for kind, k1, k2, n in session.execute(
                select(cell_t.c.kind, cell_t.c.k1, cell_t.c.k2, func.sum(cell_t.c.batches))
                .where(*_cells(filters, scope, ("sco", "scl", "scv"), filters.province))
                .group_by(cell_t.c.kind, cell_t.c.k1, cell_t.c.k2)):
            if kind == "sco":
                (countries if k2 == "header" else regions)[k1] += int(n)
            elif kind == "scl":
                languages[k1] += int(n)
            else:
                verdicts[k1] += int(n)
    rows = session.execute(
        select(scan_t.c.country, scan_t.c.country_source, scan_t.c.language, scan_t.c.verdict,
               func.count())
        .select_from(source).where(*live_conds)
        .group_by(scan_t.c.country, scan_t.c.country_source, scan_t.c.language,
                  scan_t.c.verdict)
    ).all()
    for country, country_source, language, verdict, n in rows:
        n = int(n)
        if country_source == "header":
            countries[country or ""] += n
        else:
            regions[country or ""] += n
        languages[language or ""] += n
        verdicts[verdict] += n
    total = sum(verdicts.values())
    suspicious = {v: n for v, n in verdicts.items() if v in SUSPICIOUS and n}
    latest: list[Any] = []
    if scope.rows_allowed(filters):
        # Allowed means admin, exporter (source limited to the company) or an officer
        # filtered to their own province (source limited to it): no further condition.
        latest = [tuple(r) for r in session.execute(
            select(scan_t.c.created_at, scan_t.c.verdict, scan_t.c.lot, scan_t.c.serial,
                   scan_t.c.country)
            .select_from(source).where(*conds, scan_t.c.verdict.in_(SUSPICIOUS_VALUES))
            .order_by(scan_t.c.created_at.desc(), scan_t.c.id.desc()).limit(LATEST)
        ).all()]

    def ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    return {"scans": total, "scans_by_country": ranked(countries),
            "scans_by_language_region": ranked(regions),
            "scans_by_language": ranked(languages), "suspicious": suspicious,
            "suspicious_latest": latest}


# ---------------------------------------------------------------------------- row export
EXPORT_COLUMNS = (
    "approved_at", "lot_code", "exporter", "product_id_name", "product_en_name", "category",
    "hs_code", "origin_regency_code", "origin_province_code", "producer", "hub",
    "destination_country", "quantity", "unit", "normalised_quantity", "normalised_unit",
    "declared_value_idr", "submitted_at", "status", "valid_until",
)


def export_statement(session: Session, actor: User, filters: Filters) -> Select[Any]:
    """The certified batches behind the figures, one row each, for CSV and XLSX."""
    scope = scope_for(session, actor)
    if not scope.rows_allowed(filters):
        raise Forbidden("row exports cover only the batches you may open")
    source, conds = _decisions("approve", filters, scope)
    source = source.join(org_t, org_t.c.id == batch_t.c.organisation_id)
    return (
        select(decision_t.c.created_at, batch_t.c.lot_code, org_t.c.name, batch_t.c.product_name_id,
               batch_t.c.product_name_en, batch_t.c.product_category, batch_t.c.product_hs_code,
               batch_t.c.origin_regency_code, batch_t.c.origin_province_code,
               batch_t.c.producer, batch_t.c.hub, batch_t.c.destination_country,
               batch_t.c.quantity, batch_t.c.unit, normalised_quantity(), normalised_unit(),
               batch_t.c.declared_value_idr, batch_t.c.submitted_at, batch_t.c.status,
               batch_t.c.valid_until)
        .select_from(source).where(and_(*conds))
        .order_by(decision_t.c.created_at, batch_t.c.id)
    )


# ---------------------------------------------------------------------------- the Bali hub
@dataclass(frozen=True)
class HubFigure:
    """Shipments the Bali office confirmed through one hub in the period, and the median
    days from the batch's certification (its first approval, WITA) to the passage."""

    hub: str
    shipments: int
    median_days: float | None


def hub_figures(session: Session, actor: User, filters: Filters, *, live: bool = False
                ) -> list[HubFigure]:
    """Passages confirmed per hub in the period. From the summary cells (``hp``: by hub and
    days from certification), as the other figures; ``live=True`` from the shipments, the
    reference the cells are tested against. Exporters count their own company's; offices
    and admins all three provinces' (the province, commodity and destination filters
    apply)."""
    scope = scope_for(session, actor)
    days: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[str, int] = defaultdict(int)
    if not live:
        for hub, k2, n in session.execute(
                select(cell_t.c.k1, cell_t.c.k2, func.sum(cell_t.c.batches))
                .where(*_cells(filters, scope, ("hp",), filters.province))
                .group_by(cell_t.c.k1, cell_t.c.k2)):
            counts[hub] += int(n)
            if k2 != "":
                days[hub][int(k2)] += int(n)
    else:
        approved = (select(decision_t.c.batch_id,
                           func.min(decision_t.c.created_at).label("at"))
                    .where(decision_t.c.action == "approve").group_by(decision_t.c.batch_id)
                    .subquery("approved"))
        query = (select(shipment_t.c.hub, shipment_t.c.passage_date, approved.c.at)
                 .join(batch_t, batch_t.c.id == shipment_t.c.batch_id)
                 .join(approved, approved.c.batch_id == shipment_t.c.batch_id, isouter=True)
                 .where(shipment_t.c.status == "confirmed",
                        shipment_t.c.passage_date >= filters.start,
                        shipment_t.c.passage_date < add_months(filters.end, 1),
                        *_batch_conditions(filters, scope)))
        for hub, passage, certified in session.execute(query).all():
            counts[hub] += 1
            if certified is not None:
                day = utc(certified).astimezone(REGION_TZ).date()
                days[hub][(passage - day).days] += 1
    return [HubFigure(hub, counts.get(hub, 0), median(days[hub]) if days.get(hub) else None)
            for hub in HUBS]


def median(histogram: dict[int, int]) -> float:
    """The median of the values counted in ``histogram`` (value → how often), as
    ``statistics.median`` gives it for the list they stand for."""
    total = sum(histogram.values())
    below, middle = 0, []
    for value in sorted(histogram):
        n = histogram[value]
        for rank in ((total - 1) // 2, total // 2):
            if below <= rank < below + n:
                middle.append(value)
        below += n
    return float(sum(middle)) / len(middle)
