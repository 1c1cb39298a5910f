"""What each desk shows, and marking a buyer's report handled.

A trade office sees its province: reports and not-genuine scans attributed to it (see
``registry.verify.attribution``) and the serials of its province's batches whose buyers were
told "possible copy". An exporter sees the same for its own products. The administrators see
what no office sees (no province); with ``everything`` all of it. Lists are counted and cut
in SQL (``fetch_page``), newest first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, func, or_, true, tuple_, update
from sqlalchemy import select as select_columns
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from registry.accounts.models import Role, User
from registry.accounts.services import officer_province
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.catalog.models import Batch, Product
from registry.clock import utcnow
from registry.db import fetch_page
from registry.db.paging import Page, Window
from registry.db.types import utc
from registry.exceptions import Conflict, Forbidden, NotFound
from registry.verify.models import FakeReport, Scan, told_possible_copy


@dataclass(frozen=True)
class DeskScope:
    province: str | None = None  # a trade office's province
    organisation_id: int | None = None  # an exporter's company
    admin: bool = False
    everything: bool = False  # an administrator asked for all, not only the unattributed

    def reports(self) -> ColumnElement[bool]:
        return self._attributed(col(FakeReport.province_code), col(FakeReport.organisation_id))

    def scans(self) -> ColumnElement[bool]:
        """Not-genuine scans: those that belong to no batch, by their own attribution."""
        return and_(col(Scan.batch_id).is_(None),
                    self._attributed(col(Scan.province_code), col(Scan.organisation_id)))

    def batches(self) -> ColumnElement[bool]:
        """Batches whose possible copies this desk shows (every one of them is attributed
        through its batch, so the administrators' own share is empty)."""
        if self.province is not None:
            return col(Batch.origin_province_code) == self.province
        if self.organisation_id is not None:
            return col(Batch.organisation_id) == self.organisation_id
        return true() if self.everything else false()

    def _attributed(self, province: Mapped[str | None], organisation: Mapped[int | None]
                    ) -> ColumnElement[bool]:
        if self.province is not None:
            return province == self.province
        if self.organisation_id is not None:
            return organisation == self.organisation_id
        return true() if self.everything else province.is_(None)


def scope_for(session: Session, actor: User, *, everything: bool = False) -> DeskScope:
    if actor.role == Role.OFFICER:
        province = officer_province(session, actor)
        if province is None:
            raise Forbidden("an officer without a province has no desk")
        return DeskScope(province=province)
    if actor.role == Role.EXPORTER:
        return DeskScope(organisation_id=actor.organisation_id)
    if actor.role == Role.ADMIN:
        return DeskScope(admin=True, everything=everything)
    raise Forbidden("the desk is for trade offices, exporters and administrators")


# ---------------------------------------------------------------------------- the lists
def reports(session: Session, scope: DeskScope, window: Window) -> Page[FakeReport]:
    statement = (select(FakeReport).where(scope.reports())
                 .order_by(col(FakeReport.created_at).desc(), col(FakeReport.id).desc()))
    return fetch_page(session, statement, window)


def open_reports(session: Session, scope: DeskScope) -> int:
    return int(session.exec(select(func.count()).select_from(FakeReport).where(
        scope.reports(), col(FakeReport.handled_at).is_(None))).one())


@dataclass(frozen=True)
class ScanGroup:
    product_id: int | None
    kind: str | None
    scans: int
    first: dt.datetime
    last: dt.datetime
    countries: list[tuple[str, int]]


def _since(since: dt.datetime | None) -> ColumnElement[bool]:
    """Scans from ``since`` on (None: all of them); the desk's indexes lead with the scope
    and then the time, so a period reads only its own scans."""
    return true() if since is None else col(Scan.created_at) >= since


def scan_groups(session: Session, scope: DeskScope, window: Window,
                since: dt.datetime | None = None) -> Page[ScanGroup]:
    """Not-genuine scans from ``since`` on (None: all) grouped by product and kind, the
    group seen last first; the first and last times and the countries are the period's."""
    last = func.max(Scan.created_at)
    product, kind = col(Scan.product_id), col(Scan.kind)
    conditions = [scope.scans(), _since(since)]
    # SQLAlchemy's select: sqlmodel's is typed for at most four columns.
    statement = (
        select_columns(product, kind, func.count(), func.min(Scan.created_at), last)
        .where(*conditions)
        .group_by(product, kind)
        .order_by(last.desc(), product, kind)
    )
    page = fetch_page(session, statement, window, counted_with_page=True)
    keys = [(p, k) for p, k, *_ in page.items]
    countries = _countries(session, [*conditions, _in_groups(keys)], (product, kind))
    groups = [ScanGroup(p, k, int(n), utc(first), utc(at), countries.get((p, k), []))
              for p, k, n, first, at in page.items]
    return Page(items=groups, total=page.total, window=page.window)


def _in_groups(keys: list[tuple[Any, Any]]) -> ColumnElement[bool]:
    # NULL never equals NULL in SQL: each group's key compared with IS for its empty parts.
    if not keys:
        return false()
    product, kind = col(Scan.product_id), col(Scan.kind)
    return or_(*[and_(product.is_(p) if p is None else product == p,
                      kind.is_(k) if k is None else kind == k)
                 for p, k in keys])


@dataclass(frozen=True)
class CopySerial:
    batch_id: int
    lot: str
    product_id: int
    serial: str
    copies: int  # scans whose buyer was told "possible copy"
    first: dt.datetime
    last: dt.datetime
    countries: list[tuple[str, int]]


def copy_serials(session: Session, scope: DeskScope, window: Window,
                 since: dt.datetime | None = None) -> Page[CopySerial]:
    """Serials whose buyers were told "possible copy" from ``since`` on (None: ever), from
    the verdict each scan recorded (the page's own judgement), the one told last first."""
    last = func.max(Scan.created_at)
    copy = and_(told_possible_copy(), _since(since))
    batch, serial = col(Scan.batch_id), col(Scan.serial)
    lot, product = col(Batch.lot_code), col(Batch.product_id)
    statement = (
        select_columns(batch, lot, product, serial, func.count(), func.min(Scan.created_at),
                       last)
        .join(Batch, col(Batch.id) == batch)
        .where(copy, scope.batches())
        .group_by(batch, lot, product, serial)
        .order_by(last.desc(), batch, serial)
    )
    page = fetch_page(session, statement, window, counted_with_page=True)
    keys = [(b, s) for b, _lot, _p, s, *_ in page.items]
    countries = _countries(session, [copy, tuple_(batch, serial).in_(keys)
                                     if keys else false()], (batch, serial))
    items = [CopySerial(b, lot, p, s, int(n), utc(first), utc(at),
                        countries.get((b, s), []))
             for b, lot, p, s, n, first, at in page.items]
    return Page(items=items, total=page.total, window=page.window)


def _countries(session: Session, conditions: list[Any], key: tuple[Any, Any]
               ) -> dict[tuple[Any, Any], list[tuple[str, int]]]:
    """Readers' countries where known (set by the CDN or proxy, not guessed from the
    language) for the groups on one page."""
    rows = session.exec(
        select(*key, col(Scan.country), func.count())
        .where(*conditions, col(Scan.country_source) == "header")
        .group_by(*key, col(Scan.country))
    ).all()
    found: dict[tuple[Any, Any], list[tuple[str, int]]] = defaultdict(list)
    for a, b, country, n in rows:
        if country is not None:  # always: a source is recorded only with its country
            found[(a, b)].append((country, int(n)))
    return {k: sorted(v, key=lambda c: (-c[1], c[0])) for k, v in found.items()}


def product_names(session: Session, ids: set[int | None]) -> dict[int, Product]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {p.id: p for p in session.exec(select(Product).where(
        col(Product.id).in_(wanted))).all()}


# ---------------------------------------------------------------------------- handling
def get_report(session: Session, actor: User, report_id: int) -> FakeReport:
    """A report on the actor's desk (an administrator's: any); otherwise NotFound."""
    report = session.get(FakeReport, report_id)
    scope = scope_for(session, actor, everything=True)
    if report is None:
        raise NotFound("no such report")
    visible = session.exec(select(FakeReport.id).where(
        FakeReport.id == report_id, scope.reports())).first()
    if visible is None:
        raise NotFound("no such report")
    return report


def handle_report(session: Session, actor: User, report_id: int, *, note: str) -> FakeReport:
    """Mark a report handled with what was done, with its audit event (one transaction:
    the caller's). A report is handled once."""
    report = get_report(session, actor, report_id)
    note = note.strip()[:2000]
    # Conditional, so two desk users marking it at once cannot both succeed.
    result = session.exec(
        update(FakeReport)
        .where(col(FakeReport.id) == report.id, col(FakeReport.handled_at).is_(None))
        .values(handled_at=utcnow(), handled_by_id=actor.id, handled_note=note))
    if result.rowcount == 0:
        raise Conflict("this report was already marked handled")
    session.refresh(report)
    audit.record(session, actor=actor, action=EventTag.Fake.HANDLED, object_type="fake_report",
                 object_id=report.id, before={"handled": False},
                 after={"handled": True, "note": note})
    return report
