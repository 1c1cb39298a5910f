"""Required certificates (the administrators' rules), what a batch lacks of them, the notices
of certificates about to expire, and the expiry alerts. Services flush, never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from registry.accounts.models import Role, User
from registry.audit import services as audit
from registry.audit.tags import EventTag, ObjectType
from registry.catalog.certification import Status
from registry.catalog.models import Batch, Document, Product
from registry.certificates.models import CertificateAlert, CertificateRule
from registry.certificates.rules import (
    CERTIFICATE_KINDS,
    Gaps,
    Held,
    RuleInput,
    alert_due,
    expiring_soon,
    gaps,
    required_kinds,
    rule_problems,
)
from registry.clock import REGION_TZ
from registry.exceptions import Forbidden, NotFound, ValidationError
from registry.mail.kinds import MailKind
from registry.notifications import services as notifications


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("only administrators set the required certificates")


# ---------------------------------------------------------------- the rules


def list_rules(session: Session, actor: User) -> list[CertificateRule]:
    _require_admin(actor)
    return list(session.exec(select(CertificateRule).order_by(
        col(CertificateRule.category), col(CertificateRule.destination_country),
        col(CertificateRule.kind))).all())


def _snapshot(rule: CertificateRule) -> dict[str, str]:
    return {"category": rule.category, "destination": rule.destination_country,
            "kind": rule.kind}


def add_rule(session: Session, actor: User, data: RuleInput) -> CertificateRule:
    """Require ``data.kind`` of batches of ``data.category`` (to ``data.destination``).
    The same rule twice is refused ("taken"), also when two administrators add it at once:
    the unique constraint decides, inside a savepoint."""
    _require_admin(actor)
    problems = rule_problems(data)
    if problems:
        raise ValidationError("invalid rule", fields=problems)
    rule = CertificateRule(category=data.category, destination_country=data.destination,
                           kind=data.kind, created_by=actor.id)
    try:
        with session.begin_nested():
            session.add(rule)
            session.flush()
    except IntegrityError:
        raise ValidationError("rule exists", fields={"kind": "taken"}) from None
    audit.record(session, actor=actor, action=EventTag.CertificateRule.CREATE,
                 object_type=ObjectType.CERTIFICATE_RULE, object_id=rule.id,
                 after=_snapshot(rule))
    return rule


def remove_rule(session: Session, actor: User, rule_id: int) -> CertificateRule:
    _require_admin(actor)
    rule = session.get(CertificateRule, rule_id)
    if rule is None:
        raise NotFound("no such rule")
    session.delete(rule)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.CertificateRule.REMOVE,
                 object_type=ObjectType.CERTIFICATE_RULE, object_id=rule_id,
                 before=_snapshot(rule))
    return rule


def _rules(session: Session) -> list[RuleInput]:
    return [RuleInput(category=r.category, kind=r.kind, destination=r.destination_country)
            for r in session.exec(select(CertificateRule)).all()]


# ---------------------------------------------------------------- a batch's certificates


def _category(session: Session, batch: Batch) -> str:
    """The category as the office reviews it: frozen at submission, the live one before."""
    if batch.product_category:
        return batch.product_category
    return session.get_one(Product, batch.product_id).category


def required_for(session: Session, batch: Batch) -> list[str]:
    """The certificate kinds the rules require of ``batch``."""
    return required_kinds(_rules(session), _category(session, batch), batch.destination_country)


def batch_gaps(session: Session, batch: Batch, today: dt.date) -> Gaps:
    """The required certificates ``batch`` lacks or holds only expired, on ``today``."""
    held = [Held(kind, expires_on) for kind, expires_on in session.exec(
        select(col(Document.kind), col(Document.expires_on)).where(
            Document.batch_id == batch.id,
            col(Document.kind).in_(sorted(CERTIFICATE_KINDS)))).all()]
    return gaps(required_for(session, batch), held, today)


# The statuses in which the office's approval is still to come (a rejected batch is
# corrected and submitted again): what it will ask for is worth telling.
BEFORE_APPROVAL = frozenset({Status.DRAFT, Status.SUBMITTED, Status.REJECTED})


def approval_gaps(session: Session, batch: Batch, today: dt.date) -> Gaps:
    """What the exporter is told before the approval (the API's ``certificate_notices``):
    ``batch_gaps`` while the batch waits for it, none once decided. Information only: the
    approval is where the rules are enforced (README "Certificates")."""
    if batch.status not in BEFORE_APPROVAL:
        return Gaps()
    return batch_gaps(session, batch, today)


@dataclass(frozen=True)
class ExpiryNotice:
    """A certificate of a certified batch that expires within 30 days, or has expired."""

    document: Document
    days_left: int  # negative once expired


def expiry_notices(session: Session, batch: Batch, documents: list[Document],
                   today: dt.date) -> list[ExpiryNotice]:
    """What the batch page warns of: only while the batch is certified (a draft's or a
    revoked batch's certificates concern nobody's buyers)."""
    if batch.status != Status.APPROVED or (batch.valid_until and batch.valid_until < today):
        return []
    return [ExpiryNotice(d, (d.expires_on - today).days) for d in documents
            if d.expires_on is not None and d.kind in CERTIFICATE_KINDS
            and expiring_soon(d.expires_on, today)]


# ---------------------------------------------------------------- expiry alerts


def _claim(session: Session, document_id: int, days: int, expires_on: dt.date,
           now: dt.datetime) -> bool:
    """Take (document, days) for this transaction: True for the one sweep whose INSERT
    wrote the row (as ``notifications.claim_day``)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    written = session.execute(insert(CertificateAlert).values(
        document_id=document_id, days=days, expires_on=expires_on, created_at=now,
    ).on_conflict_do_nothing(index_elements=["document_id", "days"])
        .returning(col(CertificateAlert.document_id))).first()
    return written is not None


def expiry_alerts(session: Session, now: dt.datetime) -> int:
    """Tell the exporter and the origin province's office of each certificate of a certified
    (approved, not expired) batch that expires in 30 days or less (once) and on the day
    (once). Returns the alerts sent."""
    today = now.astimezone(REGION_TZ).date()
    sent = select(CertificateAlert.document_id, CertificateAlert.days)
    already = {(d, n) for d, n in session.exec(sent.where(
        col(CertificateAlert.expires_on) >= today)).all()}
    rows = session.exec(
        select(Document, Batch).join(Batch, col(Batch.id) == Document.batch_id)
        .where(col(Document.expires_on) >= today,
               col(Document.expires_on) <= today + dt.timedelta(days=30),
               col(Document.kind).in_(sorted(CERTIFICATE_KINDS)),
               Batch.status == Status.APPROVED,
               or_(col(Batch.valid_until).is_(None), col(Batch.valid_until) >= today))
        .order_by(col(Document.id))).all()
    alerts = 0
    for doc, batch in rows:
        assert doc.expires_on is not None  # the WHERE says so
        days = alert_due(doc.expires_on, today)
        if days is None or (doc.id, days) in already:
            continue
        if not _claim(session, doc.id, days, doc.expires_on, now):
            continue
        params = {**notifications.batch_params(session, batch), "kind": doc.kind,
                  "number": doc.number or "", "expires_on": doc.expires_on.isoformat(),
                  "days": (doc.expires_on - today).days}
        # Each reader gets the link to the batch's page they may open.
        notifications.tell(session, MailKind.CERTIFICATE_EXPIRY,
                           notifications.organisation_users(session, batch.organisation_id,
                                                            Role.EXPORTER),
                           {**params, "page": "catalog.batch_detail"})
        notifications.tell(session, MailKind.CERTIFICATE_EXPIRY,
                           notifications.province_officers(session, batch.origin_province_code),
                           {**params, "page": "review.batch"})
        alerts += 1
    return alerts
