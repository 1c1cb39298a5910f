"""XLSX exports of the figures as background jobs: asked for by a user, written by the task
queue's worker into the file store, downloaded by that user alone, deleted after
``EXPORT_FILE_TTL_DAYS``.

    queued → writing → ready → expired
       ↑        │  ↘ failed (after the last retry)
       └────────┘ (lease lapsed: the worker died; the sweep sends it again)

The same life as a label file (``registry.printing.jobfiles``), for the same reasons: the row
is the truth, a worker holds a lease it renews with its progress, conditional UPDATEs make a
message delivered twice harmless. A file holds exactly the rows the CSV of the same filters
gives: both read ``queries.export_statement`` with the asker's scope. Services flush and never
commit; the worker's task (``tasks.py``) commits each step, the web request commits once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from registry.accounts.models import User
from registry.audit import services as audit
from registry.audit.tags import EventTag, ObjectType
from registry.clock import utcnow
from registry.exceptions import NotFound
from registry.figures import queries
from registry.figures.models import ExportFile
from registry.figures.queries import Filters


class State(StrEnum):
    QUEUED = "queued"
    WRITING = "writing"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


MAX_ATTEMPTS = 3
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The latest exports a user's list shows.
LISTED = 20


def filters_of(row: ExportFile) -> Filters:
    return Filters(start=row.from_month, end=row.to_month, province=row.province,
                   category=row.category, destination=row.destination)


def filename(row: ExportFile) -> str:
    where = row.province or "all"
    return f"batches-{where}-{row.from_month:%Y-%m}_{row.to_month:%Y-%m}.xlsx"


def request_export(session: Session, actor: User, filters: Filters, lang: str) -> ExportFile:
    """A new export of ``filters`` for ``actor``, queued; the caller sends it to the worker
    after commit. Raises ``Forbidden`` (nothing written) when the filters reach rows the actor
    may not open, as the CSV does."""
    queries.export_statement(session, actor, filters)  # the scope check, before any write
    row = ExportFile(requested_by=actor.id, state=State.QUEUED, lang=lang,
                     from_month=filters.start, to_month=filters.end, province=filters.province,
                     category=filters.category, destination=filters.destination)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.ExportFile.REQUEST,
                 object_type=ObjectType.EXPORT_FILE, object_id=row.id,
                 after={"from_month": f"{filters.start:%Y-%m}", "to_month": f"{filters.end:%Y-%m}",
                        "province": filters.province, "category": filters.category,
                        "destination": filters.destination, "lang": lang})
    return row


def owned(session: Session, actor: User, export_id: int) -> ExportFile:
    """The export, for the user who asked for it; anyone else learns nothing (404), as for
    another print shop's job."""
    row = session.get(ExportFile, export_id, populate_existing=True)
    if row is None or row.requested_by != actor.id:
        raise NotFound("no such export")
    return row


def latest_of(session: Session, actor: User) -> list[ExportFile]:
    return list(session.exec(
        select(ExportFile).where(ExportFile.requested_by == actor.id)
        .order_by(col(ExportFile.id).desc()).limit(LISTED)).all())


def servable(row: ExportFile) -> bool:
    if row.state != State.READY or row.object_name is None:
        return False
    return row.expires_at is None or row.expires_at > utcnow()


def record_download(session: Session, actor: User, row: ExportFile) -> None:
    session.execute(update(ExportFile).where(col(ExportFile.id) == row.id)
                    .values(downloads=ExportFile.downloads + 1))
    audit.record(session, actor=actor, action=EventTag.ExportFile.DOWNLOAD,
                 object_type=ObjectType.EXPORT_FILE, object_id=row.id,
                 after={"bytes": row.size, "sha256": row.sha256})


def discard_missing(session: Session, row: ExportFile) -> None:
    """A finished file the store lost (or an operator emptied it): expired, so its asker can
    ask for it again."""
    audit.record(session, actor=None, action=EventTag.ExportFile.EXPIRED,
                 object_type=ObjectType.EXPORT_FILE, object_id=row.id,
                 after={"object": row.object_name, "missing": True})
    session.execute(update(ExportFile).where(col(ExportFile.id) == row.id).values(
        state=State.EXPIRED, object_name=None, size=None, sha256=None))
    session.flush()


# ---------------------------------------------------------------- the worker's steps


def claim(session: Session, export_id: int, token: str, lease_seconds: float) -> bool:
    """Take the file for this worker: a queued one, or one whose lease lapsed. One UPDATE
    with the condition, so two workers cannot both win."""
    now = utcnow()
    taken = session.exec(
        update(ExportFile)
        .where(col(ExportFile.id) == export_id,
               or_(col(ExportFile.state) == State.QUEUED,
                   and_(col(ExportFile.state) == State.WRITING,
                        col(ExportFile.lease_until) < now)))
        .values(state=State.WRITING, lease_token=token,
                lease_until=now + dt.timedelta(seconds=lease_seconds), started_at=now,
                rows_done=0, attempts=ExportFile.attempts + 1)
    ).rowcount
    if taken != 1:
        return False
    row = session.get(ExportFile, export_id, populate_existing=True)
    assert row is not None
    audit.record(session, actor=None, action=EventTag.ExportFile.WRITE_START,
                 object_type=ObjectType.EXPORT_FILE, object_id=export_id,
                 after={"attempt": row.attempts})
    return True


def report(session: Session, export_id: int, token: str, done: int, lease_seconds: float,
           total: int | None = None) -> bool:
    """Progress (and the total once counted), which also renews the lease; False when this
    worker lost it."""
    values: dict[str, Any] = {"rows_done": done,
                              "lease_until": utcnow() + dt.timedelta(seconds=lease_seconds)}
    if total is not None:
        values["rows_total"] = total
    return session.exec(
        update(ExportFile)
        .where(col(ExportFile.id) == export_id, col(ExportFile.lease_token) == token,
               col(ExportFile.state) == State.WRITING)
        .values(**values)
    ).rowcount == 1


@dataclass(frozen=True)
class Written:
    object_name: str
    size: int
    sha256: str
    rows: int
    seconds: float


def finish(session: Session, export_id: int, token: str, written: Written,
           ttl_days: float) -> bool:
    """Mark the file ready if this worker still holds the lease; False otherwise (the caller
    removes its object)."""
    now = utcnow()
    done = session.exec(
        update(ExportFile)
        .where(col(ExportFile.id) == export_id, col(ExportFile.lease_token) == token,
               col(ExportFile.state) == State.WRITING)
        .values(state=State.READY, object_name=written.object_name, size=written.size,
                sha256=written.sha256, rows_done=written.rows, rows_total=written.rows,
                finished_at=now, expires_at=now + dt.timedelta(days=ttl_days),
                lease_token=None, lease_until=None, error=None)
    ).rowcount == 1
    if done:
        audit.record(session, actor=None, action=EventTag.ExportFile.WRITTEN,
                     object_type=ObjectType.EXPORT_FILE, object_id=export_id,
                     after={"rows": written.rows, "bytes": written.size,
                            "sha256": written.sha256, "seconds": round(written.seconds, 1)})
    return done


def fail(session: Session, export_id: int, token: str, error: str) -> bool:
    """A write that raised: queued again for Huey's retry, or failed after the last try.
    Returns True when it will be retried."""
    row = session.get(ExportFile, export_id, populate_existing=True)
    if row is None or row.lease_token != token or row.state != State.WRITING:
        return False
    retry = row.attempts < MAX_ATTEMPTS
    row.state = State.QUEUED if retry else State.FAILED
    row.error = error[:500]
    row.lease_token = row.lease_until = None
    session.add(row)
    session.flush()
    audit.record(session, actor=None, action=EventTag.ExportFile.WRITE_FAILED,
                 object_type=ObjectType.EXPORT_FILE, object_id=export_id,
                 after={"attempt": row.attempts, "error": row.error, "retry": retry})
    return retry


def refuse(session: Session, export_id: int, token: str, reason: str) -> None:
    """A write that must not happen: the asker may no longer open these rows (their account
    was disabled, or moved to another office, since)."""
    row = session.get(ExportFile, export_id, populate_existing=True)
    if row is None or row.lease_token != token:
        return
    row.state, row.error = State.FAILED, reason[:500]
    row.lease_token = row.lease_until = None
    session.add(row)
    session.flush()
    audit.record(session, actor=None, action=EventTag.ExportFile.WRITE_REFUSED,
                 object_type=ObjectType.EXPORT_FILE, object_id=export_id,
                 after={"reason": row.error})


@dataclass(frozen=True)
class Sweep:
    resend: list[int]
    expired: list[str]


def sweep(session: Session, lease_seconds: float) -> Sweep:
    """Writes whose worker stopped reporting, and queued ones whose message was lost, to send
    again; ready files past their expiry, to delete (``jobfiles.sweep``'s rules)."""
    now = utcnow()
    stale = list(session.exec(select(ExportFile.id).where(or_(
        and_(col(ExportFile.state) == State.WRITING, col(ExportFile.lease_until) < now),
        and_(col(ExportFile.state) == State.QUEUED,
             col(ExportFile.requested_at) < now - dt.timedelta(seconds=lease_seconds)),
    )).order_by(col(ExportFile.id))).all())
    expired_rows = list(session.exec(
        select(ExportFile).where(col(ExportFile.state) == State.READY,
                                 col(ExportFile.expires_at) <= now).with_for_update()
    ).all())
    names = []
    for row in expired_rows:
        if row.object_name:
            names.append(row.object_name)
        audit.record(session, actor=None, action=EventTag.ExportFile.EXPIRED,
                     object_type=ObjectType.EXPORT_FILE, object_id=row.id,
                     after={"object": row.object_name})
        row.state, row.object_name, row.size, row.sha256 = State.EXPIRED, None, None, None
        session.add(row)
    if stale:
        session.execute(update(ExportFile).where(
            col(ExportFile.id).in_(stale), col(ExportFile.state) == State.QUEUED,
        ).values(requested_at=now))
    session.flush()
    return Sweep(resend=[int(i) for i in stale if i is not None], expired=names)


def forget_written_files(conn: Any) -> None:
    """After a restore: no export file came with the backup (as no label file did); the
    restored rows say expired, so their askers ask for them again rather than meet a file the
    store does not have, and no worker holds a lease in the new registry."""
    conn.execute(update(ExportFile).where(col(ExportFile.state) != State.FAILED).values(
        state=State.EXPIRED, object_name=None, size=None, sha256=None, expires_at=None,
        lease_token=None, lease_until=None))
