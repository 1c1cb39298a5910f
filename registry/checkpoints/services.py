"""Making, storing and checking signed audit checkpoints. Services take the session and flush;
the caller (the ``audit`` commands) commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import Session, col, select

from registry.audit import services as audit
from registry.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from registry.checkpoints.note import Checkpoint, NoteSigner
from registry.checkpoints.rules import Extension, Kept, judge
from registry.clock import utcnow


class CheckpointRefused(RuntimeError):
    """The log is not fit to sign: a checkpoint would vouch for a broken or forked history."""


def latest(session: Session) -> AuditCheckpoint | None:
    return session.exec(select(AuditCheckpoint)
                        .order_by(col(AuditCheckpoint.size).desc())).first()


def make_checkpoint(session: Session, signer: NoteSigner) -> tuple[AuditCheckpoint, bool]:
    """Sign the log's current size and head, store and return it (and whether it is new).

    Refused when the chain does not recompute or does not extend the latest stored checkpoint:
    a log never signs a history inconsistent with one it signed before (tlog-checkpoint), so a
    rewrite cannot be laundered by the next scheduled run. No audit event is written for it:
    the checkpoint is itself the signed record, and an event would make it stale at once."""
    if session.get_bind().dialect.name == "postgresql":
        # One snapshot for the chain and its head, without holding up appends meanwhile.
        # (Must be the session's first statement: the command opens a fresh session.)
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        # SQLite reads outside a transaction: take the write lock so no append slips in
        # between the chain and the head.
        session.execute(update(AuditHead).where(col(AuditHead.id) == 1)
                        .values(seq=AuditHead.seq))
    report = audit.verify_chain(session)
    if not report.ok:
        raise CheckpointRefused(f"the audit log is broken at event #{report.broken_seq}: "
                                f"{report.problem}")
    head = session.get(AuditHead, 1)
    size, head_hash = (head.seq, head.last_hash) if head else (0, audit.GENESIS)
    previous = latest(session)
    if previous is not None:
        if previous.size == size and previous.head_hash == head_hash:
            return previous, False
        at = session.exec(select(AuditEvent.hash).where(AuditEvent.seq == previous.size)).first()
        if previous.size > size or (previous.size and at != previous.head_hash):
            raise CheckpointRefused(
                f"the audit log does not extend the registry's checkpoint of size "
                f"{previous.size}: refusing to sign another history")
    checkpoint = Checkpoint(signer.name, size, bytes.fromhex(head_hash))
    row = AuditCheckpoint(size=size, head_hash=head_hash, created_at=utcnow(),
                          note=signer.sign(checkpoint.text()))
    session.add(row)
    session.flush()  # a concurrent run that signed this size first: IntegrityError (unique)
    return row, True


def check_extension(session: Session, kept: Sequence[Kept]) -> Extension:
    """Recompute the chain and compare it with every kept checkpoint."""
    events, heads = audit.chain_hashes(session, {k.size for k in kept})
    return judge(events, heads, kept)
