"""Trade-office decisions. One officer wins a race: the batch's version guards the UPDATE."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from registry.accounts.models import Organisation, Role, User
from registry.accounts.services import officer_province
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.catalog.certification import (
    OFFICER_ACTIONS,
    Action,
    DecisionError,
    Status,
    TransitionError,
    check_decision,
    next_status,
)
from registry.catalog.models import Batch, Product, ProductFacts
from registry.catalog.services import (
    BatchChanged,
    as_registered,
    batch_snapshot,
    get_batch,
    update_if_unchanged,
)
from registry.certificates import services as certificates
from registry.certificates.rules import Gaps
from registry.clock import today, utcnow
from registry.db import fetch_page
from registry.db.paging import Page, Window
from registry.exceptions import Conflict, Forbidden, ValidationError
from registry.figures import summary as figures_summary
from registry.notifications import services as notifications
from registry.review.models import Decision


class DecisionNotAllowed(Conflict):
    """The decision is not one the batch's current status allows (e.g. reinstating a batch
    that was never suspended)."""


class CertificatesLacking(ValidationError):
    """An approval refused: the batch lacks required certificates, or holds them only
    expired (``gaps``); nothing was written."""

    def __init__(self, gaps: Gaps) -> None:
        super().__init__("required certificates missing or expired: "
                         + ", ".join([*gaps.missing, *gaps.expired]),
                         fields={"certificates": "certificate_missing" if gaps.missing
                                 else "certificate_expired"})
        self.gaps = gaps


def _require_officer(actor: User) -> None:
    if actor.role != Role.OFFICER:
        raise Forbidden("only trade-office officers decide")


def queue(
    session: Session, actor: User, statuses: tuple[Status, ...] = (Status.SUBMITTED,),
    window: Window | None = None,
) -> Page[tuple[Batch, ProductFacts, Organisation]]:
    """The officer's province's batches in ``statuses``, a page at a time (the first page by
    default): waiting ones oldest submission first, as they are to be reviewed; decided ones
    latest decision first."""
    _require_officer(actor)
    province = officer_province(session, actor)
    statement = (
        select(Batch, Product, Organisation)
        .join(Product, col(Product.id) == Batch.product_id)
        .join(Organisation, col(Organisation.id) == Batch.organisation_id)
        .where(Batch.origin_province_code == province, col(Batch.status).in_(statuses))
    )
    if statuses == (Status.SUBMITTED,):
        statement = statement.order_by(col(Batch.submitted_at), col(Batch.id))
    else:
        statement = statement.order_by(col(Batch.decided_at).desc(), col(Batch.id).desc())
    # Each product as its batch froze it at submission: what the office reviews.
    return as_registered(fetch_page(session, statement, window or Window()))


def decisions_for(session: Session, batch: Batch) -> list[tuple[Decision, User]]:
    rows = session.exec(
        select(Decision, User)
        .join(User, col(User.id) == Decision.officer_id)
        .where(Decision.batch_id == batch.id)
        .order_by(col(Decision.created_at))
    ).all()
    return [(d, u) for d, u in rows]


def decide(
    session: Session,
    actor: User,
    batch_id: int,
    *,
    action: Action,
    expected_version: int,
    reason: str | None = None,
    valid_until: dt.date | None = None,
) -> Decision:
    _require_officer(actor)
    if action not in OFFICER_ACTIONS:
        raise Forbidden("officers decide; submitting is the exporter's action")
    batch = get_batch(session, actor, batch_id)  # NotFound outside the officer's province
    if batch.version != expected_version:
        raise BatchChanged("another decision was made on this batch while you were reviewing it")
    current = Status(batch.status)
    try:
        new = next_status(current, action)
        check_decision(action, reason=reason, valid_until=valid_until, today=today())
    except TransitionError as exc:
        raise DecisionNotAllowed(str(exc)) from None
    except DecisionError as exc:
        field = "valid_until" if action is Action.APPROVE else "reason"
        raise ValidationError(str(exc), fields={field: str(exc)}) from None
    if action is Action.APPROVE:
        # The administrators' rules (issue 18 §2): no certification on a missing or expired
        # required certificate. Expired: past its expiry date in WITA today.
        lacking = certificates.batch_gaps(session, batch, today())
        if lacking:
            raise CertificatesLacking(lacking)
    before = batch_snapshot(batch)
    # One moment for the batch's decided_at and the decision: the figures count the decision
    # in the month (WITA) it was taken.
    now = utcnow()
    values: dict[str, object] = {"status": new, "decided_at": now}
    if action is Action.APPROVE:
        values["valid_until"] = valid_until
    update_if_unchanged(session, batch, values)
    decision = Decision(
        batch_id=batch.id, officer_id=actor.id, office_id=actor.organisation_id,
        action=action, from_status=current, to_status=new,
        reason=(reason or "").strip() or None,
        valid_until=valid_until if action is Action.APPROVE else None, created_at=now,
    )
    session.add(decision)
    session.flush()
    # The figures' summary cells, in this transaction: never stale by more than this request.
    figures_summary.record_decision(session, decision, current)
    audit.record(session, actor=actor, action=EventTag.Batch(f"batch.{action.value}"),
                 object_type="batch",
                 object_id=batch.id, before=before,
                 after={**batch_snapshot(batch), "reason": decision.reason})
    notifications.batch_decided(session, batch, decision)
    return decision
