"""Append-only, hash-chained audit events.

Every event stores the hash of the previous one; ``verify_chain`` recomputes the chain and
reports the first broken link, so an edited, deleted or inserted row is detectable.
Appends are serialised through the one-row ``audit_head`` table: its UPDATE takes a row lock
on PostgreSQL and the write lock on SQLite, so two transactions never fork the chain.

A chain alone does not stop whoever holds the database from rewriting an event and recomputing
every later hash: signed checkpoints (``registry.checkpoints``) kept outside the registry do.
On PostgreSQL ``audit_event`` and ``audit_checkpoint`` refuse UPDATE and DELETE (a trigger,
migration 0013); ``audit_head`` moves with every append.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from registry.audit.models import GENESIS, AuditEvent, AuditHead
from registry.audit.tags import SYSTEM_ACTOR, Tag
from registry.clock import utcnow


def _canonical_time(value: dt.datetime) -> str:
    # The chain hashes UTC wall-clock time without a zone (as it always has).
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _dump(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(event: AuditEvent, prev_hash: str | None = None) -> str:
    """The event's hash; ``prev_hash`` replaces the stored link to recompute a chain."""
    payload = json.dumps(
        [
            event.seq,
            _canonical_time(event.created_at),
            event.actor_id,
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.before,
            event.after,
            event.prev_hash if prev_hash is None else prev_hash,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: Any | None,
    action: Tag,
    object_type: str,
    object_id: object | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (flushes, never commits)."""
    result = session.exec(
        update(AuditHead).where(col(AuditHead.id) == 1).values(seq=AuditHead.seq + 1)
    )
    if result.rowcount == 0:
        session.add(AuditHead(id=1, seq=1, last_hash=GENESIS))
        session.flush()
    head = session.exec(select(AuditHead).where(AuditHead.id == 1)).one()
    session.refresh(head)
    event = AuditEvent(
        seq=head.seq,
        created_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_dump(before),
        after=_dump(after),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = event_hash(event)
    head.last_hash = event.hash
    session.add(event)
    session.add(head)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str | None = None


def verify_chain(session: Session, batch_size: int = 5000) -> ChainReport:
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.seq >= expected_seq)
            .order_by(col(AuditEvent.seq))
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(False, checked, expected_seq, "event missing (deleted?)")
            if event.prev_hash != prev_hash:
                return ChainReport(False, checked, event.seq, "link to the previous event broken")
            if event_hash(event) != event.hash:
                return ChainReport(False, checked, event.seq, "event content was altered")
            prev_hash = event.hash
            expected_seq += 1
            checked += 1
            last_id = event.id or last_id
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.last_hash != prev_hash):
        return ChainReport(False, checked, checked + 1, "latest events missing (deleted?)")
    return ChainReport(True, checked)


def chain_hashes(session: Session, sizes: Collection[int], batch_size: int = 5000) -> (
    tuple[int, dict[int, str]]
):
    """Recompute the chain from the genesis over the stored events in order, ignoring their
    stored links and hashes: the number of events and the head after each of ``sizes`` events.
    What a checkpoint committed to is compared with this, so a rewrite that recomputed the
    stored hashes changes these heads all the same."""
    wanted = set(sizes)
    heads: dict[int, str] = {0: GENESIS} if 0 in wanted else {}
    head, count, last_seq = GENESIS, 0, None
    while True:
        query = select(AuditEvent).order_by(col(AuditEvent.seq)).limit(batch_size)
        if last_seq is not None:
            query = query.where(AuditEvent.seq > last_seq)
        rows = session.exec(query).all()
        if not rows:
            return count, heads
        for event in rows:
            head = event_hash(event, prev_hash=head)
            count += 1
            if count in wanted:
                heads[count] = head
            last_seq = event.seq
            session.expunge(event)  # a long log must not pile up in the identity map


def events_for(session: Session, object_type: str, object_id: object) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(col(AuditEvent.seq))
        ).all()
    )
