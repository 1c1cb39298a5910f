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
known object (a failed sign-in for an address without an account). The objects are one UNION of
(type, id) pairs, joined to the events on the (object_type, object_id) index, with the office's
officers' other events (through the ``actor_id`` index) added by UNION ALL; ids are compared as
text, as the trail stores them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, cast, literal, union, union_all
from sqlalchemy.orm import aliased
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


def _pair(kind: str, id_column: Any) -> tuple[Any, Any]:
    return (literal(kind, String).label("object_type"),
            cast(id_column, String).label("object_id"))


def province_objects(province: str) -> Any:
    """Every (object_type, object_id) of ``province``'s objects, as the module doc says."""
    reviewed = and_(col(Batch.origin_province_code) == province, col(Batch.status) != Status.DRAFT)
    own_org = and_(col(Organisation.province_code) == province,
                   col(Organisation.kind).in_(PROVINCE_KINDS))
    exporter = and_(col(Organisation.province_code) == province,
                    col(Organisation.kind) == OrgKind.EXPORTER)
    return union(
        select(*_pair(ObjectType.BATCH, Batch.id)).where(reviewed),
        select(*_pair(ObjectType.PRINT_JOB, PrintJob.id))
        .join(Batch, col(Batch.id) == PrintJob.batch_id).where(reviewed),
        select(*_pair(ObjectType.PRODUCT, Batch.product_id)).where(reviewed),
        select(*_pair(ObjectType.PRODUCT, Product.id))
        .join(Organisation, col(Organisation.id) == Product.organisation_id).where(exporter),
        select(*_pair(ObjectType.ORGANISATION, Organisation.id)).where(own_org),
        select(*_pair(ObjectType.USER, User.id))
        .join(Organisation, col(Organisation.id) == User.organisation_id).where(own_org),
        select(*_pair(ObjectType.API_TOKEN, ApiToken.id))
        .join(User, col(User.id) == ApiToken.user_id)
        .join(Organisation, col(Organisation.id) == User.organisation_id).where(own_org),
        select(*_pair(ObjectType.FAKE_REPORT, FakeReport.id))
        .where(col(FakeReport.province_code) == province),
        select(*_pair(ObjectType.TARGET, Target.id)).where(col(Target.province_code) == province),
    )


def office_users(province: str) -> Any:
    """The ids of the users of ``province``'s trade office (its officers)."""
    return (select(col(User.id))
            .join(Organisation, col(Organisation.id) == User.organisation_id)
            .where(col(Organisation.province_code) == province,
                   col(Organisation.kind) == OrgKind.TRADE_OFFICE))


def _office_events(province: str) -> Any:
    """The events an office reads: those on its province's objects, and the rest of what its
    own officers did (the Bali office's passage decisions on NTB and NTT batches)."""
    # A CTE: read once though joined twice.
    objects = province_objects(province).cte("province_objects")
    on_object = and_(objects.c.object_type == AuditEvent.object_type,
                     objects.c.object_id == AuditEvent.object_id)
    # Two disjoint halves, so UNION ALL and no event twice: the join on the objects (their
    # events found through the (object_type, object_id) index), and the officers' events
    # on no such object (through the actor_id index). An OR of both in one WHERE would
    # read every event of the registry to count a page.
    theirs = select(AuditEvent).join(objects, on_object)
    by_officers = (select(AuditEvent).outerjoin(objects, on_object)
                   .where(objects.c.object_type.is_(None),
                          col(AuditEvent.actor_id).in_(office_users(province))))
    return aliased(AuditEvent, union_all(theirs, by_officers).subquery("office_events"))


def events_statement(scope: LogScope, filters: LogFilter) -> Any:
    event: Any = AuditEvent if scope.province is None else _office_events(scope.province)
    statement = select(event)
    if filters.object_type:
        statement = statement.where(event.object_type == filters.object_type)
    if filters.object_id:
        statement = statement.where(event.object_id == filters.object_id.strip())
    if filters.actor:
        statement = statement.where(event.actor_label == normalise_email(filters.actor))
    if filters.action:
        statement = statement.where(event.action == filters.action)
    if filters.since is not None:
        statement = statement.where(event.created_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(event.created_at < filters.until)
    # seq is unique: a total order, so pages neither repeat nor skip an event.
    return statement.order_by(event.seq.desc())


def event_page(session: Session, scope: LogScope, filters: LogFilter,
               window: Window) -> Page[AuditEvent]:
    return fetch_page(session, events_statement(scope, filters), window)
