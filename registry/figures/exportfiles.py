"""XLSX exports of the figures as background jobs: asked for by a user, written by the task
queue's worker into the file store, downloaded by that user alone, deleted after
``EXPORT_FILE_TTL_DAYS``.

    queued → writing → ready → expired
       ↑        │  ↘ failed (after the last retry)
       └────────┘ (lease lapsed: the worker died; the sweep sends it again)

The life of a leased file (``registry.files.leases``), as a label file's: the row is the
truth, a worker holds a lease it renews with its progress, conditional UPDATEs make a
message delivered twice harmless. A file holds exactly the rows the CSV of the same filters
gives: both read ``queries.export_statement`` with the asker's scope. Services flush and never
commit; the worker's task (``tasks.py``) commits each step, the web request commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import Session, col, select

from registry.accounts.models import User
from registry.audit import services as audit
from registry.audit.tags import EventTag, ObjectType
from registry.clock import utcnow
from registry.exceptions import NotFound
from registry.figures import queries
from registry.figures.models import ExportFile
from registry.figures.queries import Filters
from registry.files import leases


class State(StrEnum):
    QUEUED = leases.State.QUEUED.value
    WRITING = "writing"
    READY = leases.State.READY.value
    FAILED = leases.State.FAILED.value
    EXPIRED = leases.State.EXPIRED.value


MAX_ATTEMPTS = leases.MAX_ATTEMPTS
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
    LEASE.discard(session, row, EventTag.ExportFile.EXPIRED, missing=True)


# ---------------------------------------------------------------- the worker's steps
# A leased file's life (``registry.files.leases``), audited on the export itself.
LEASE = leases.Kind(
    model=ExportFile, working=State.WRITING, progress="rows_done",
    tags=leases.Tags(start=EventTag.ExportFile.WRITE_START,
                     failed=EventTag.ExportFile.WRITE_FAILED,
                     refused=EventTag.ExportFile.WRITE_REFUSED,
                     expired=EventTag.ExportFile.EXPIRED),
    subject=lambda row: (ObjectType.EXPORT_FILE, row.id, {}))
claim = LEASE.claim
fail = LEASE.fail
# The asker may no longer open these rows (their account was disabled, or moved to another
# office, since).
refuse = LEASE.refuse
sweep = LEASE.sweep
forget_written_files = LEASE.forget_written


def report(session: Session, export_id: int, token: str, done: int, lease_seconds: float,
           total: int | None = None) -> bool:
    """Progress (and the total once counted), which also renews the lease; False when this
    worker lost it."""
    values = {} if total is None else {"rows_total": total}
    return LEASE.report(session, export_id, token, done, lease_seconds, **values)


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
    row = LEASE.finish(session, export_id, token, ttl_days, object_name=written.object_name,
                       size=written.size, sha256=written.sha256, rows_done=written.rows,
                       rows_total=written.rows)
    if row is not None:
        audit.record(session, actor=None, action=EventTag.ExportFile.WRITTEN,
                     object_type=ObjectType.EXPORT_FILE, object_id=export_id,
                     after={"rows": written.rows, "bytes": written.size,
                            "sha256": written.sha256, "seconds": round(written.seconds, 1)})
    return row is not None
