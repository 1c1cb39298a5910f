"""Files a task queue worker writes into the file store under a lease: label files
(``registry.printing.jobfiles``) and XLSX exports of the figures
(``registry.figures.exportfiles``) live the same life, kept here once.

    queued → working → ready → expired
       ↑        │  ↘ failed (after the last retry)
       └────────┘ (lease lapsed: the worker died; the sweep sends it again)

The row is the truth, not the queue: a worker claims it with a conditional UPDATE that only
one can win, holds a lease it renews with each progress report, and only the lease holder may
mark the file ready; a worker killed mid-file stops renewing and the sweep hands the file to
another. So a message delivered twice, or a worker that comes back after its lease was given
to another, changes nothing. Every step is audited with the kind's own tags. Services flush
and never commit; the worker's task commits each step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, SQLModel, col, select

from registry.audit import services as audit
from registry.audit.tags import Tag
from registry.clock import utcnow


class State(StrEnum):
    """Where a leased file is; ``working`` is the kind's own word (rendering, writing)."""

    QUEUED = "queued"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


# Tries of one file before its asker is told it failed (a worker killed mid-file is not a
# failed try: its lease lapses and the file is sent again without counting against it).
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Tags:
    start: Tag
    failed: Tag
    refused: Tag
    expired: Tag


@dataclass(frozen=True)
class Kind:
    """One kind of leased file: its table, its word for "working", its progress column, its
    audit tags, and what its audit events name (object type, id and extra fields)."""

    model: type[SQLModel]
    working: str
    progress: str  # the column counting what is written so far (labels, rows)
    tags: Tags
    subject: Callable[[Any], tuple[str, int, dict[str, Any]]]

    def column(self, name: str) -> Any:
        return col(getattr(self.model, name))

    def _audit(self, session: Session, tag: Tag, row: Any, **after: Any) -> None:
        object_type, object_id, extra = self.subject(row)
        audit.record(session, actor=None, action=tag, object_type=object_type,
                     object_id=object_id, after={**extra, **after})

    def _held(self, row_id: int, token: str) -> list[Any]:
        return [self.column("id") == row_id, self.column("lease_token") == token,
                self.column("state") == self.working]

    def claim(self, session: Session, row_id: int, token: str, lease_seconds: float) -> bool:
        """Take the file for this worker: a queued one, or one whose lease lapsed (its
        worker died). One UPDATE with the condition, so two workers cannot both win."""
        now = utcnow()
        taken = session.exec(
            update(self.model)
            .where(self.column("id") == row_id,
                   or_(self.column("state") == State.QUEUED,
                       and_(self.column("state") == self.working,
                            self.column("lease_until") < now)))
            .values(state=self.working, lease_token=token,
                    lease_until=now + dt.timedelta(seconds=lease_seconds), started_at=now,
                    attempts=self.column("attempts") + 1, **{self.progress: 0})
        ).rowcount
        if taken != 1:
            return False
        row = session.get(self.model, row_id, populate_existing=True)
        assert row is not None
        self._audit(session, self.tags.start, row, attempt=row.attempts)  # type: ignore[attr-defined]
        return True

    def report(self, session: Session, row_id: int, token: str, done: int,
               lease_seconds: float, **values: Any) -> bool:
        """Progress (with any other columns the kind reports), which also renews the lease;
        False when this worker lost it."""
        return session.exec(
            update(self.model).where(*self._held(row_id, token))
            .values(lease_until=utcnow() + dt.timedelta(seconds=lease_seconds),
                    **{self.progress: done}, **values)
        ).rowcount == 1

    def hold(self, session: Session, row_id: int, token: str, **values: Any) -> bool:
        """Set ``values`` on the file if this worker still holds its lease."""
        return session.exec(
            update(self.model).where(*self._held(row_id, token)).values(**values)
        ).rowcount == 1

    def finish(self, session: Session, row_id: int, token: str, ttl_days: float,
               **values: Any) -> Any | None:
        """Mark the file ready with ``values`` (its object, size, hash …) if this worker
        still holds the lease: the row, or None (the caller removes its object: another
        worker's file is the one)."""
        now = utcnow()
        done = session.exec(
            update(self.model).where(*self._held(row_id, token))
            .values(state=State.READY, finished_at=now,
                    expires_at=now + dt.timedelta(days=ttl_days), lease_token=None,
                    lease_until=None, error=None, **values)
        ).rowcount == 1
        return session.get(self.model, row_id, populate_existing=True) if done else None

    def fail(self, session: Session, row_id: int, token: str, error: str) -> bool:
        """A write that raised: queued again for Huey's retry, or failed after the last try.
        Returns True when it will be retried."""
        row: Any = session.get(self.model, row_id, populate_existing=True)
        if row is None or row.lease_token != token or row.state != self.working:
            return False
        retry = row.attempts < MAX_ATTEMPTS
        row.state = State.QUEUED if retry else State.FAILED
        row.error = error[:500]
        row.lease_token = row.lease_until = None
        session.add(row)
        session.flush()
        self._audit(session, self.tags.failed, row, attempt=row.attempts, error=row.error,
                    retry=retry)
        return retry

    def refuse(self, session: Session, row_id: int, token: str, reason: str) -> None:
        """A write that must not happen (the kind's rules say why: a batch no longer
        certified, an asker who may no longer open the rows)."""
        row: Any = session.get(self.model, row_id, populate_existing=True)
        if row is None or row.lease_token != token:
            return
        row.state, row.error = State.FAILED, reason[:500]
        row.lease_token = row.lease_until = None
        session.add(row)
        session.flush()
        self._audit(session, self.tags.refused, row, reason=row.error)

    def sweep(self, session: Session, lease_seconds: float) -> Sweep:
        """What a periodic pass finds: files whose worker stopped reporting (lease lapsed),
        and queued ones waiting longer than a lease (their message was lost, e.g. Redis
        restarted without persistence), to send again; ready files past their expiry, to
        delete from the store."""
        now = utcnow()
        stale = list(session.exec(select(self.column("id")).where(or_(
            and_(self.column("state") == self.working, self.column("lease_until") < now),
            and_(self.column("state") == State.QUEUED,
                 self.column("requested_at") < now - dt.timedelta(seconds=lease_seconds)),
        )).order_by(self.column("id"))).all())
        expired_rows: list[Any] = list(session.exec(
            select(self.model).where(self.column("state") == State.READY,
                                     self.column("expires_at") <= now).with_for_update()
        ).all())
        names = []
        for row in expired_rows:
            if row.object_name:
                names.append(row.object_name)
            self._audit(session, self.tags.expired, row, object=row.object_name)
            row.state, row.object_name, row.size, row.sha256 = State.EXPIRED, None, None, None
            row.expires_at = None
            session.add(row)
        # Queued rows waiting that long get a fresh timestamp, so one lost message is sent
        # again once per lease, not at every sweep while a long queue drains.
        if stale:
            session.execute(update(self.model).where(
                self.column("id").in_(stale), self.column("state") == State.QUEUED,
            ).values(requested_at=now))
        session.flush()
        return Sweep(resend=[int(i) for i in stale if i is not None], expired=names)

    def discard(self, session: Session, row: Any, tag: Tag, **after: Any) -> None:
        """A ready file the store lost or damaged: forgotten (expired), so it is asked for,
        and written, again."""
        self._audit(session, tag, row, object=row.object_name, **after)
        session.execute(update(self.model).where(self.column("id") == row.id).values(
            state=State.EXPIRED, object_name=None, size=None, sha256=None, expires_at=None))
        session.flush()

    def forget_written(self, conn: Any) -> None:
        """After a restore: no written file came with the backup, and no worker holds a
        lease in the new registry; every file is asked for (or written) again."""
        conn.execute(update(self.model).where(self.column("state") != State.FAILED).values(
            state=State.EXPIRED, object_name=None, size=None, sha256=None, expires_at=None,
            lease_token=None, lease_until=None))


@dataclass(frozen=True)
class Sweep:
    resend: list[int]
    expired: list[str]
