"""The audit trail as people read it on the web (``/audit``): filtered, newest first, a page at
a time, counted and cut in SQL (``fetch_page``). A service: the session and the acting user,
no Flask.

Administrators read every event. A trade officer reads the events of the province's objects:

- a **batch** whose origin is the province and that is no longer a draft (the batches the
  office reviews, as ``catalog.get_batch`` lets it open them): its edits, evidence, submission,
  every decision on it, label orders and allowances, buyers' reports naming it;
- a **print job** of such a batch;
- a **product** of an exporter of the province, or one with such a batch (as its photo);
- an **organisation** of the province that is an exporter or the trade office itself (not a
  print shop, which works for all three provinces), a **user** of such an organisation (sign-up,
  activation, declining, sign-ins), and an **API token** of such a user;
- a buyer's **report of a fake** attributed to the province (as the suspicious-activity desk);
- a yearly **target** of the province (not the region's, which are the admin's);
- and whatever the office's **own officers** did, on any object: the Bali office decides the
  hub passages of NTB and NTT batches (events on those batches, which the origin office reads
  as its own), and an office answers for what its officers did. Only those events: the rest
  of another province's batch stays that province's.

Never: signing keys, the file store, restores, print shops, administrators, and events about no
known object (a failed sign-in for an address without an account).

In SQL each event is asked, by its object's kind, whether its object is one of the province's
(an EXISTS on that object's primary key), or whether one of the office's officers made it: a
page is the newest events walked down the ``seq`` index until fifty pass, and an office's log
is counted only ``OFFICE_COUNT_AHEAD`` events past the page. Listing the province's objects
first and joining them to the events (before session 17) built a million (type, id) pairs on
every request: 12–19 s a page for an office at 3 million events on PostgreSQL, now 0.02–0.2 s
for the first pages (bench/audit_log.py, README "Performance").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, String, and_, case, cast, exists, false, func, or_, text
from sqlmodel import Session, col, select

from registry.accounts.models import Organisation, OrgKind, Role, User
from registry.accounts.services import normalise_email, officer_province
from registry.api.models import ApiToken
from registry.audit.models import AuditEvent
from registry.audit.tags import ObjectType
from registry.catalog.certification import Status
from registry.catalog.models import Batch, Product
from registry.db import fetch_page
from registry.db.paging import Page, Window
from registry.exceptions import Forbidden
from registry.printing.models import PrintJob
from registry.targets.models import Target
from registry.verify.models import FakeReport

# An office's own kinds of organisation: its exporters and itself.
PROVINCE_KINDS = (OrgKind.EXPORTER, OrgKind.TRADE_OFFICE)
# How far past a page an office's log is counted ("1–50 of more than 10,000").
OFFICE_COUNT_AHEAD = 10_000


@dataclass(frozen=True)
class LogScope:
    province: str | None = None  # an officer's; None for an administrator: everything


@dataclass(frozen=True)
class LogFilter:
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None  # an e-mail address, as the trail names who acted
    action: str | None = None
    since: dt.datetime | None = None  # aware, inclusive
    until: dt.datetime | None = None  # aware, exclusive


def scope_for(session: Session, actor: User) -> LogScope:
    if actor.role == Role.ADMIN:
        return LogScope()
    if actor.role == Role.OFFICER:
        province = officer_province(session, actor)
        if province is None:
            raise Forbidden("an officer without a province reads no audit log")
        return LogScope(province=province)
    raise Forbidden("the audit log is for trade offices and administrators")


def _object_id(object_id: Any, dialect: str) -> Any:
    """The event's object id (text in the trail) as the integer key it names. On PostgreSQL
    only up to 18 digits are cast (a cast of anything else would fail the whole query); SQLite
    casts text that is no number to 0, which is no row's key."""
    if dialect == "postgresql":
        return case((object_id.regexp_match("^[0-9]{1,18}$"), cast(object_id, BigInteger)),
                    else_=None)
    return cast(object_id, Integer)


def visible_to_office(event: Any, province: str, dialect: str) -> Any:
    """Whether ``event`` is one ``province``'s office reads, as the module doc says: its object
    is one of the province's, asked by the object's kind, or one of the office's officers made
    it. Each kind's test finds its object by primary key, and compares the key as text too,
    as the trail stores it (so ``0123`` names no object)."""
    key = _object_id(event.object_id, dialect)

    def named(id_column: Any) -> Any:
        return and_(id_column == key, cast(id_column, String) == event.object_id)

    reviewed = and_(col(Batch.origin_province_code) == province,
                    col(Batch.status) != Status.DRAFT)
    own_org = and_(col(Organisation.province_code) == province,
                   col(Organisation.kind).in_(PROVINCE_KINDS))
    exporter = and_(col(Organisation.province_code) == province,
                    col(Organisation.kind) == OrgKind.EXPORTER)
    kinds = {
        ObjectType.BATCH: exists().where(named(col(Batch.id)), reviewed),
        ObjectType.PRINT_JOB: exists().where(named(col(PrintJob.id)),
                                             col(Batch.id) == PrintJob.batch_id, reviewed),
        ObjectType.PRODUCT: or_(
            exists().where(named(col(Batch.product_id)), reviewed),
            exists().where(named(col(Product.id)),
                           col(Organisation.id) == Product.organisation_id, exporter)),
        ObjectType.ORGANISATION: exists().where(named(col(Organisation.id)), own_org),
        ObjectType.USER: exists().where(named(col(User.id)),
                                        col(Organisation.id) == User.organisation_id, own_org),
        ObjectType.API_TOKEN: exists().where(
            named(col(ApiToken.id)), col(User.id) == ApiToken.user_id,
            col(Organisation.id) == User.organisation_id, own_org),
        ObjectType.FAKE_REPORT: exists().where(named(col(FakeReport.id)),
                                               col(FakeReport.province_code) == province),
        ObjectType.TARGET: exists().where(named(col(Target.id)),
                                          col(Target.province_code) == province),
    }
    # One CASE on the kind, not an OR of a test a kind: SQLite turned the OR into a search of
    # the object index for each kind and a sort of what it found (3.8 s for the first page at
    # 3 M events), where a CASE lets both databases walk the events newest first and stop.
    by_kind = case(kinds, value=event.object_type, else_=false())
    return or_(by_kind, col(event.actor_id).in_(office_users(province)))


def office_users(province: str) -> Any:
    """The ids of the users of ``province``'s trade office (its officers)."""
    return (select(col(User.id))
            .join(Organisation, col(Organisation.id) == User.organisation_id)
            .where(col(Organisation.province_code) == province,
                   col(Organisation.kind) == OrgKind.TRADE_OFFICE))


def _in_window(filters: LogFilter) -> list[Any]:
    event: Any = AuditEvent
    window = []
    if filters.since is not None:
        window.append(event.created_at >= filters.since)
    if filters.until is not None:
        window.append(event.created_at < filters.until)
    return window


def window_seqs(session: Session, in_window: list[Any]) -> tuple[int, int] | None:
    """The lowest and highest seq among the events of a time window (``_in_window``'s terms;
    None: no event in it); read from the (created_at, seq) index alone.

    A page is newest first by seq, and a time window is a range of created_at: either index
    alone makes one of them slow at millions of events. Walking seq, a day three months back
    read every newer event first (1.5–2.2 s on SQLite, 0.9 s on PostgreSQL at 3 M); walking
    created_at, a year sorted a million events before the first page (1.4–7 s on SQLite).
    Every event of the window lies between these two seqs, so the page walks seq within them
    and stops after fifty; created_at is still tested, as times need not rise with seq (two
    servers' clocks)."""
    event: Any = AuditEvent
    # ``seq + 0``: PostgreSQL answers a bare min(seq) by walking the seq index from its end
    # until an event falls in the window (0.5 s for a day's window at 3 M events), where the
    # window's own range of (created_at, seq) holds the answer.
    low, high = session.exec(select(func.min(event.seq + 0), func.max(event.seq + 0))
                             .where(*in_window)).one()
    return None if low is None else (int(low), int(high))


def events_statement(scope: LogScope, filters: LogFilter, dialect: str,
                     seqs: tuple[int, int] | None = None) -> Any:
    """The events ``scope`` reads that pass ``filters``, newest first. ``seqs``: only those
    between these two (a time window's ``window_seqs``; an empty window is ``(1, 0)``)."""
    event: Any = AuditEvent
    statement = select(event)
    if scope.province is not None:
        statement = statement.where(visible_to_office(event, scope.province, dialect))
    if filters.object_type:
        statement = statement.where(event.object_type == filters.object_type)
    if filters.object_id:
        statement = statement.where(event.object_id == filters.object_id.strip())
    if filters.actor:
        statement = statement.where(event.actor_label == normalise_email(filters.actor))
    if filters.action:
        statement = statement.where(event.action == filters.action)
    statement = statement.where(*_in_window(filters))
    if seqs is not None:
        statement = statement.where(event.seq.between(*seqs))
    # seq is unique: a total order, so pages neither repeat nor skip an event.
    return statement.order_by(event.seq.desc())


def event_page(session: Session, scope: LogScope, filters: LogFilter,
               window: Window) -> Page[AuditEvent]:
    dialect = session.get_bind().dialect.name
    # An office's events are counted only so far ahead: each costs its visibility test, and
    # an office of a busy province reads hundreds of thousands (the administrator's count is
    # one pass over an index, so it stays exact).
    ahead = None if scope.province is None else OFFICE_COUNT_AHEAD
    if ahead is not None and dialect == "postgresql":
        # The planner prices the walk as if it read every event (it stops after ``ahead``),
        # so it compiled the query with JIT: 1.3 s of a 1.7 s count at 3 M events. For this
        # request's transaction only.
        session.execute(text("SET LOCAL jit = off"))
    seqs = None
    # One object's events are a handful, found by their own index: its window needs no seqs
    # (whose read costs a part of the index as long as the window).
    if (in_window := _in_window(filters)) and not filters.object_id:
        seqs = window_seqs(session, in_window) or (1, 0)  # (1, 0): no seq, no event
    return fetch_page(session, events_statement(scope, filters, dialect, seqs), window,
                      count_ahead=ahead)
