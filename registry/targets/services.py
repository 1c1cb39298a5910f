"""Yearly targets: who may set them, setting them (audited), and progress against them.

Achieved figures come from ``registry.figures.queries.dashboard`` (the same numbers as the
figures page, and as fast as it is); the one figure the dashboard does not have, active
exporters, is a small query of its own here (``_exporters_by_month``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlmodel import Session, col

from registry.accounts.models import Role, User
from registry.accounts.services import officer_province
from registry.audit import services as audit
from registry.audit.tags import EventTag, ObjectType
from registry.catalog.rules import Category
from registry.clock import REGION_TZ, utcnow
from registry.db import flush_unique
from registry.exceptions import Conflict, Forbidden, NotFound, ValidationError
from registry.figures import queries
from registry.figures.queries import Filters, batch_t, decision_t
from registry.reference import PROVINCES, country_codes
from registry.targets.models import Target
from registry.targets.rules import (
    Assessment,
    Metric,
    TargetSpec,
    assess,
    cumulative,
    expected_share,
    is_frozen,
    month_ends,
    spec_problems,
)


@dataclass(frozen=True)
class TargetInput:
    year: int
    province: str | None  # None: the region (admin only)
    metric: str
    amount: Decimal | str
    category: str | None = None
    hs_chapter: str | None = None
    unit: str | None = None
    destination: str | None = None


# ---------------------------------------------------------------- who may do what
def may_read(actor: User) -> bool:
    """Targets are the offices' plans, read by the offices (all three: the cooperation's
    figures are shared) and the admin; an exporter's figures are only its own company's."""
    return actor.role in (Role.OFFICER, Role.ADMIN)


def check_read(actor: User) -> None:
    if not may_read(actor):
        raise Forbidden("targets are for trade offices and admins")


def may_set(session: Session, actor: User, province: str | None) -> bool:
    """An officer sets the targets of their own province; the admin of any province and of
    the region."""
    if actor.role == Role.ADMIN:
        return True
    if actor.role == Role.OFFICER:
        return province is not None and officer_province(session, actor) == province
    return False


def _spec(data: TargetInput) -> tuple[TargetSpec, Decimal]:
    try:
        metric = Metric(data.metric)
    except ValueError:
        raise ValidationError("unknown metric", fields={"metric": "unknown"}) from None
    try:
        amount = Decimal(str(data.amount).strip().replace(" ", ""))
    except InvalidOperation:
        raise ValidationError("the amount is not a number",
                              fields={"amount": "not_a_number"}) from None
    spec = TargetSpec(year=data.year, province=data.province or None, metric=metric,
                      category=data.category or None, hs_chapter=data.hs_chapter or None,
                      unit=data.unit or None,
                      destination=(data.destination or "").upper() or None)
    problems = spec_problems(spec, amount, provinces=set(PROVINCES),
                             categories={c.value for c in Category},
                             countries=set(country_codes()))
    if problems:
        raise ValidationError("; ".join(f"{k}: {v}" for k, v in problems.items()),
                              fields=problems)
    return spec, amount


def _snapshot(target: Target) -> dict[str, object]:
    return {"year": target.year, "province": target.province_code, "metric": target.metric,
            "category": target.category, "hs_chapter": target.hs_chapter, "unit": target.unit,
            "destination": target.destination_country,
            # As the column keeps it, whether read back or just assigned.
            "amount": format(Decimal(target.amount).quantize(Decimal("0.001")), "f")}


def set_target(session: Session, actor: User, data: TargetInput, *,
               today: dt.date) -> tuple[Target, bool]:
    """Create the target of these dimensions or change its amount; ``today`` is WITA's day.
    Returns the target and whether it was created. One audit event, in the caller's
    transaction; nothing is written when anything is refused."""
    check_read(actor)
    spec, amount = _spec(data)
    if not may_set(session, actor, spec.province):
        raise Forbidden("an office sets the targets of its own province only; region-wide "
                        "targets are the admin's")
    if is_frozen(spec.year, today):
        raise Conflict(f"the targets of {spec.year} are frozen: the year ended on "
                       f"31 December {spec.year} (WITA)", fields={"year": "frozen"})
    if spec.year > today.year + 1:
        raise ValidationError("targets can be set for this year and the next",
                              fields={"year": "too_far_ahead"})
    target = session.scalars(select(Target).where(col(Target.key) == spec.key())).first()
    created = target is None
    before = None
    if target is None:
        target = Target(key=spec.key(), year=spec.year, province_code=spec.province,
                        metric=spec.metric.value, category=spec.category,
                        hs_chapter=spec.hs_chapter, unit=spec.unit,
                        destination_country=spec.destination, amount=amount,
                        set_by_id=actor.id)
        session.add(target)
        flush_unique(session, {"key": "amount"})
    else:
        before = _snapshot(target)
        target.amount = amount
        target.set_by_id = actor.id
        target.set_at = utcnow()
        session.add(target)
        session.flush()
    audit.record(session, actor=actor,
                 action=EventTag.Target.CREATE if created else EventTag.Target.UPDATE,
                 object_type=ObjectType.TARGET, object_id=target.id, before=before,
                 after=_snapshot(target))
    return target, created


def targets_for(session: Session, actor: User, year: int, province: str | None) -> list[Target]:
    check_read(actor)
    where = (col(Target.province_code).is_(None) if province is None
             else col(Target.province_code) == province)
    return list(session.scalars(
        select(Target).where(col(Target.year) == year, where)
        .order_by(col(Target.metric), col(Target.category), col(Target.hs_chapter),
                  col(Target.unit), col(Target.destination_country))))


def get_target(session: Session, actor: User, target_id: int) -> Target:
    check_read(actor)
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound("no such target")
    return target


# ---------------------------------------------------------------- progress
@dataclass(frozen=True)
class TargetProgress:
    target: Target
    set_by: str  # the e-mail of who set it last
    achieved: Decimal
    # Achieved by the end of each month (cumulative), up to the month of the date; None after.
    monthly: list[Decimal | None]
    assessment: Assessment

    @property
    def amount(self) -> Decimal:
        return self.target.amount


@dataclass(frozen=True)
class Progress:
    year: int
    province: str | None
    at: dt.date  # the day the expected share is measured at
    items: list[TargetProgress]
    frozen: bool


def _measure_day(year: int, today: dt.date) -> dt.date:
    return min(max(today, dt.date(year, 1, 1) - dt.timedelta(days=1)), dt.date(year, 12, 31))


def progress(session: Session, actor: User, year: int, province: str | None, *,
             today: dt.date, at: dt.date | None = None) -> Progress:
    """Every target of ``year`` and ``province`` (None: region-wide) against what was
    certified, month by month, with the expected share at ``at`` (default ``today``, WITA;
    the monthly report measures at its month's end)."""
    targets = targets_for(session, actor, year, province)
    monthly = _achieved_monthly(session, actor, year, province, targets)
    at = _measure_day(year, at or today)
    expected = expected_share(year, at)
    users = {u.id: u.email for u in session.scalars(
        select(User).where(col(User.id).in_({t.set_by_id for t in targets})))}
    # Months up to the one holding ``at``; none when ``at`` is before the year.
    measured = at.month if at.year == year else 0
    items = []
    for target in targets:
        path = cumulative(monthly[target.id])
        achieved = path[measured - 1] if measured else Decimal(0)
        items.append(TargetProgress(
            target=target, set_by=users.get(target.set_by_id, ""), achieved=achieved,
            monthly=[v if i < measured else None for i, v in enumerate(path)],
            assessment=assess(achieved, Decimal(target.amount), expected)))
    return Progress(year=year, province=province, at=at, items=items,
                    frozen=is_frozen(year, today))


def _year_filters(year: int, province: str | None, **more: str | None) -> Filters:
    return Filters(start=dt.date(year, 1, 1), end=dt.date(year, 12, 1), province=province,
                   category=more.get("category"), destination=more.get("destination"))


def _achieved_monthly(session: Session, actor: User, year: int, province: str | None,
                      targets: list[Target]) -> dict[int, list[Decimal]]:
    """Each target's achievement in each month of the year (not cumulative). One dashboard
    per distinct (category, destination); HS chapters are not a filter of the dashboard, so
    a chapter's months are read from the month-by-month dashboards of its destination."""
    out: dict[int, list[Decimal]] = {}
    yearly: dict[tuple[str | None, str | None], queries.Figures] = {}
    by_chapter: dict[str | None, list[queries.Figures]] = {}
    exporters: dict[str | None, list[int]] = {}
    for t in targets:
        metric = Metric(t.metric)
        if metric is Metric.ACTIVE_EXPORTERS:
            if t.destination_country not in exporters:
                exporters[t.destination_country] = _exporters_by_month(
                    session, year, province, t.destination_country)
            out[t.id] = [Decimal(n) for n in exporters[t.destination_country]]
            continue
        if t.hs_chapter:
            if t.destination_country not in by_chapter:
                by_chapter[t.destination_country] = [
                    queries.dashboard(session, actor, Filters(
                        start=m.replace(day=1), end=m.replace(day=1), province=province,
                        destination=t.destination_country))
                    for m in month_ends(year)]
            rows = [next((r for r in f.by_chapter if r.key == t.hs_chapter),
                         queries.Row(t.hs_chapter)) for f in by_chapter[t.destination_country]]
        else:
            dims = (t.category, t.destination_country)
            if dims not in yearly:
                yearly[dims] = queries.dashboard(session, actor, _year_filters(
                    year, province, category=t.category, destination=t.destination_country))
            rows = yearly[dims].by_month
        out[t.id] = [_measure(r, metric, t.unit) for r in rows]
    return out


def _measure(row: queries.Row, metric: Metric, unit: str | None) -> Decimal:
    if metric is Metric.VALUE:
        return Decimal(row.value_idr)
    if metric is Metric.BATCHES:
        return Decimal(row.batches)
    return row.volume.get(unit or "", Decimal(0))


def _exporters_by_month(session: Session, year: int, province: str | None,
                        destination: str | None) -> list[int]:
    """Active exporters: companies with at least one batch certified (approved) in the year,
    of the province's origin and to the destination if given. Counted in the month of each
    company's first approval of the year, so the cumulative path ends at the year's count.
    Not a dashboard figure (it counts companies, not batches), hence its own query: one row a
    company."""
    filters = _year_filters(year, province, destination=destination)
    start, end = filters.bounds()
    conds = [decision_t.c.action == "approve", decision_t.c.created_at >= start,
             decision_t.c.created_at < end]
    if province:
        conds.append(batch_t.c.origin_province_code == province)
    if destination:
        conds.append(batch_t.c.destination_country == destination)
    rows = session.execute(
        select(batch_t.c.organisation_id, func.min(decision_t.c.created_at))
        .select_from(decision_t.join(batch_t, batch_t.c.id == decision_t.c.batch_id))
        .where(*conds).group_by(batch_t.c.organisation_id)).all()
    months = [0] * 12
    for _org, first in rows:
        months[_aware(first).astimezone(REGION_TZ).month - 1] += 1
    return months


def _aware(moment: dt.datetime) -> dt.datetime:
    # min() comes back through no column type: naive UTC on SQLite, aware on PostgreSQL.
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def new_exporters(session: Session, year: int, province: str | None) -> int:
    """Companies whose first certified batch ever (of the province's origin) was approved in
    ``year``: the yearly evaluation's new exporters."""
    filters = _year_filters(year, province)
    start, end = filters.bounds()
    conds = [decision_t.c.action == "approve"]
    if province:
        conds.append(batch_t.c.origin_province_code == province)
    first = (select(batch_t.c.organisation_id, func.min(decision_t.c.created_at).label("first"))
             .select_from(decision_t.join(batch_t, batch_t.c.id == decision_t.c.batch_id))
             .where(*conds).group_by(batch_t.c.organisation_id).subquery())
    return int(session.execute(select(func.count()).select_from(first).where(
        first.c.first >= start, first.c.first < end)).scalar_one())


def exporters_in_year(session: Session, year: int, province: str | None) -> int:
    return sum(_exporters_by_month(session, year, province, None))



def plan_from_previous_year(session: Session, actor: User, year: int, province: str | None,
                            *, growth: Decimal, today: dt.date) -> list[Target]:
    """Set the value, batches and active-exporters targets of ``year`` at (1 + ``growth``)
    times what the previous year achieved (a result of zero sets no target): a starting plan
    an office then adjusts, and what the demo calls to have targets for the current year.
    Each target is set through ``set_target``: the same checks, one audit event each."""
    last = _year_filters(year - 1, province)
    figures = queries.dashboard(session, actor, last)
    results = {Metric.VALUE: Decimal(figures.total.value_idr),
               Metric.BATCHES: Decimal(figures.total.batches),
               Metric.ACTIVE_EXPORTERS: Decimal(exporters_in_year(session, year - 1, province))}
    out = []
    for metric, result in results.items():
        amount = (result * (1 + growth)).to_integral_value()
        if amount > 0:
            target, _created = set_target(session, actor, TargetInput(
                year=year, province=province, metric=metric.value, amount=amount), today=today)
            out.append(target)
    return out
