"""Label files: a print job rendered by the worker into the file store, and its life.

    (none) → queued → rendering → ready → expired
                 ↑        │  ↘ failed (after the last retry; asked for again → queued)
                 └────────┘ (lease lapsed: the worker died; the sweep sends it again)

A render is claimed and finished with conditional UPDATEs on the row, never by trusting the
queue (``registry.files.leases``, the life it shares with the figures' XLSX exports): a
message delivered twice, or a worker that comes back after its lease was given to another,
changes nothing. Services flush and never commit; the worker's task (``tasks.py``)
commits each step, the web request commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.clock import utcnow
from registry.files import FileStore, delete_after_commit, leases
from registry.notifications import services as notifications
from registry.printing.models import LabelFile, PrintJob
from registry.signing.models import SigningKey


class State(StrEnum):
    QUEUED = leases.State.QUEUED.value
    RENDERING = "rendering"
    READY = leases.State.READY.value
    FAILED = leases.State.FAILED.value
    EXPIRED = leases.State.EXPIRED.value


MAX_ATTEMPTS = leases.MAX_ATTEMPTS
PDF = "pdf"


def zpl_format(dpi: int) -> str:
    return f"zpl-{dpi}"


def format_dpi(fmt: str) -> int | None:
    return int(fmt.removeprefix("zpl-")) if fmt.startswith("zpl-") else None


def extension(fmt: str) -> str:
    return "pdf" if fmt == PDF else "zpl"


def content_type(fmt: str) -> str:
    return "application/pdf" if fmt == PDF else "application/vnd.zebra.zpl"


def files_of(session: Session, job_ids: list[int]) -> dict[int, dict[str, LabelFile]]:
    """Each job's files by format."""
    found: dict[int, dict[str, LabelFile]] = {job_id: {} for job_id in job_ids}
    if job_ids:
        for row in session.exec(select(LabelFile).where(col(LabelFile.job_id).in_(job_ids))):
            found[row.job_id][row.format] = row
    return found


def file_of(session: Session, job: PrintJob, fmt: str) -> LabelFile | None:
    return session.exec(select(LabelFile).where(LabelFile.job_id == job.id,
                                                LabelFile.format == fmt)).first()


def servable(session: Session, row: LabelFile | None) -> bool:
    """A finished file that may be handed out now: not expired, and its labels' key not
    revoked since (a revoked key's labels never leave the registry again)."""
    if row is None or row.state != State.READY or row.object_name is None:
        return False
    if row.expires_at is not None and row.expires_at <= utcnow():
        return False
    key = session.get(SigningKey, row.kid, populate_existing=True) if row.kid else None
    return key is not None and key.revoked_at is None


def request_file(session: Session, actor: Any | None, job: PrintJob, fmt: str, *,
                 store: FileStore) -> tuple[LabelFile, bool]:
    """Ask the worker for the job's labels as ``fmt``; returns the row and whether a render
    must be sent (False when one is queued, running or usable already). The caller sends it
    after commit. A finished file that can no longer be served (expired, key revoked) is
    rendered again: the labels are deterministic, so the new file carries the same serials;
    the old object leaves ``store`` once that is committed."""
    _ensure_row(session, job, fmt)
    row = session.exec(
        select(LabelFile).where(LabelFile.job_id == job.id, LabelFile.format == fmt)
        .with_for_update()
    ).one()
    session.refresh(row)
    if row.state in (State.QUEUED, State.RENDERING) or servable(session, row):
        return row, False
    previous = row.state
    stale_object = row.object_name
    row.state, row.labels_done, row.requested_at = State.QUEUED, 0, utcnow()
    row.error = None
    row.lease_token = row.lease_until = None
    row.object_name = row.size = row.sha256 = row.kid = None
    row.finished_at = row.expires_at = None
    row.attempts = 0
    row.requested_by = getattr(actor, "id", None)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.LabelFile.REQUEST, object_type="print_job",
                 object_id=job.id, after={"format": fmt, "file_id": row.id,
                                          "previously": previous if previous != State.QUEUED
                                          else None})
    if stale_object:
        delete_after_commit(session, store, stale_object)
    return row, True


def _ensure_row(session: Session, job: PrintJob, fmt: str) -> None:
    """The job's row for ``fmt``, made once even when two requests race (the unique key keeps
    the first)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(LabelFile).values(
        job_id=job.id, format=fmt, state=State.EXPIRED, labels_total=job.quantity,
        labels_done=0, attempts=0, requested_at=utcnow(), downloads=0,
    ).on_conflict_do_nothing(index_elements=["job_id", "format"]))


# ---------------------------------------------------------------- the worker's steps
# A leased file's life (``registry.files.leases``), audited on the print job.
LEASE = leases.Kind(
    model=LabelFile, working=State.RENDERING, progress="labels_done",
    tags=leases.Tags(start=EventTag.LabelFile.RENDER_START,
                     failed=EventTag.LabelFile.RENDER_FAILED,
                     refused=EventTag.LabelFile.RENDER_REFUSED,
                     expired=EventTag.LabelFile.EXPIRED),
    subject=lambda row: ("print_job", row.job_id, {"format": row.format, "file_id": row.id}))
claim = LEASE.claim
report = LEASE.report
fail = LEASE.fail
# The batch lost its certification meanwhile.
refuse = LEASE.refuse
sweep = LEASE.sweep
forget_rendered_files = LEASE.forget_written


def sign(session: Session, file_id: int, token: str, kid: str) -> bool:
    """The key the render signs with, recorded while this worker holds the lease."""
    return LEASE.hold(session, file_id, token, kid=kid)


@dataclass(frozen=True)
class Rendered:
    object_name: str
    size: int
    sha256: str
    labels: int
    seconds: float


def finish(session: Session, file_id: int, token: str, rendered: Rendered,
           ttl_days: float) -> bool:
    """Mark the file ready, if this worker still holds the lease; False otherwise (the
    caller removes its object: another worker's file is the one)."""
    row = LEASE.finish(session, file_id, token, ttl_days, object_name=rendered.object_name,
                       size=rendered.size, sha256=rendered.sha256,
                       labels_done=rendered.labels)
    if row is not None:
        audit.record(session, actor=None, action=EventTag.LabelFile.RENDERED,
                     object_type="print_job",
                     object_id=row.job_id, after={
                         "format": row.format, "file_id": file_id, "labels": rendered.labels,
                         "bytes": rendered.size, "sha256": rendered.sha256, "kid": row.kid,
                         "seconds": round(rendered.seconds, 1), "attempt": row.attempts})
        notifications.label_file_ready(session, row)
    return row is not None


def discard_damaged(session: Session, row: LabelFile) -> None:
    """A finished file the store lost or damaged: forget it (the next request renders it
    again; the labels are deterministic)."""
    LEASE.discard(session, row, EventTag.LabelFile.DISCARDED)


def record_download(session: Session, actor: Any, job: PrintJob, row: LabelFile, *,
                    first_byte: int, sent: int) -> None:
    """A download that reached the file's last byte (a resumed one counts when its last part
    completes): counted on the file and the job, audited with what was sent."""
    now = utcnow()
    session.execute(update(LabelFile).where(col(LabelFile.id) == row.id)
                    .values(downloads=LabelFile.downloads + 1))
    session.execute(update(PrintJob).where(col(PrintJob.id) == job.id)
                    .values(downloads=PrintJob.downloads + 1, last_downloaded_at=now))
    audit.record(session, actor=actor, action=EventTag.PrintJob.DOWNLOAD, object_type="print_job",
                 object_id=job.id, after={"format": row.format, "batch_id": job.batch_id,
                                          "serials": [job.serial_first, job.serial_last],
                                          "kid": row.kid, "sha256": row.sha256,
                                          "bytes": [first_byte, first_byte + sent]})


def backlog(engine: Engine) -> tuple[dict[str, int], float]:
    """Label files by state and the age in seconds of the oldest queued one (metrics)."""
    from sqlalchemy import func

    counts = {state.value: 0 for state in State}
    with Session(engine) as session:
        for state, count in session.exec(
                select(LabelFile.state, func.count()).group_by(LabelFile.state)).all():
            counts[state] = int(count)
        oldest = session.exec(select(func.min(LabelFile.requested_at))
                              .where(LabelFile.state == State.QUEUED)).one()
    age = (utcnow() - oldest).total_seconds() if oldest else 0.0
    return counts, max(age, 0.0)

