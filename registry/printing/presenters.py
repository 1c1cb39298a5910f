"""What the print-shop pages and the batch pages show of each job's files: plain rows built
here, so the templates only lay them out."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from sqlmodel import Session, col, func, select

from registry.printing import jobfiles, services
from registry.printing.jobfiles import State
from registry.printing.models import LabelFile, PrintJob, Reprint
from registry.printing.vocabulary import file_state_label

# The state of a file never asked for (it has no row), for the page's data-state.
NONE = "none"


def stock_names() -> dict[str, str]:
    """Each label stock's name in the reader's language."""
    lang = str(get_locale())
    return {s.id: s.name(lang) for s in services.stocks().values()}


@dataclass(frozen=True)
class FileView:
    format: str          # pdf, zpl-300, …
    title: str           # "PDF", "ZPL 300 dpi"
    state: str           # a State value, or "none" (never asked for)
    state_text: str
    done: int
    total: int
    percent: str         # "42 %" in the reader's locale
    progress_text: str   # "42,000 of 100,000 labels"
    dpi: int | None
    downloadable: bool
    can_request: bool
    request_text: str
    size_text: str
    downloads: int
    error: str | None
    in_progress: bool


def _title(fmt: str) -> str:
    dpi = jobfiles.format_dpi(fmt)
    return "PDF" if dpi is None else _("ZPL %(dpi)s dpi", dpi=dpi)


def _size(size: int | None) -> str:
    if not size:
        return ""
    if size >= 1_000_000:
        return _("%(n)s MB", n=format_decimal(round(size / 1_000_000, 1)))
    return _("%(n)s kB", n=format_decimal(max(1, round(size / 1000))))


def file_view(session: Session, job: PrintJob, fmt: str, row: LabelFile | None) -> FileView:
    state = row.state if row is not None else NONE
    ready = row is not None and jobfiles.servable(session, row)
    if row is not None and row.state == State.READY and not ready:
        state = State.EXPIRED  # past its time, or of a key revoked since: rendered anew
    done = row.labels_done if row is not None else 0
    total = row.labels_total if row is not None else job.quantity
    in_progress = state in (State.QUEUED, State.RENDERING)
    return FileView(
        format=fmt, title=_title(fmt), state=str(state),
        state_text=file_state_label(None if state == NONE else state),
        done=done, total=total, percent=format_percent(done / total if total else 0),
        progress_text=_("%(done)s of %(total)s labels", done=format_decimal(done),
                        total=format_decimal(total)),
        dpi=jobfiles.format_dpi(fmt), downloadable=ready,
        can_request=not ready and not in_progress,
        request_text=_("rendered again when you open it")
        if state in (State.FAILED, State.EXPIRED) else _("rendered when you open it"),
        size_text=_size(row.size if row is not None and ready else None),
        downloads=row.downloads if row is not None else 0,
        error=_error_text(row, state),
        in_progress=in_progress)


def _error_text(row: LabelFile | None, state: str) -> str | None:
    """What the print shop is told of a failed try (the error itself is for the operators:
    it is in the audit event and the worker's log)."""
    if row is None or not row.error:
        return None
    if state == State.FAILED:
        return _("Rendering failed. Ask the registry's operators; opening the file tries again.")
    if state == State.QUEUED:
        return _("The last try failed; the worker tries again shortly.")
    return None


def _formats(zpl: dict[int, bool]) -> list[str]:
    return [jobfiles.PDF] + [jobfiles.zpl_format(dpi) for dpi, fits in zpl.items() if fits]


def job_files(session: Session, job: PrintJob, zpl: dict[int, bool]) -> list[FileView]:
    rows = jobfiles.files_of(session, [job.id])[job.id]
    return [file_view(session, job, fmt, rows.get(fmt)) for fmt in _formats(zpl)]


def files_by_job(session: Session,
                 jobs: list[tuple[PrintJob, dict[int, bool]]]) -> dict[int, list[FileView]]:
    rows = jobfiles.files_of(session, [job.id for job, _zpl in jobs])
    return {job.id: [file_view(session, job, fmt, rows[job.id].get(fmt))
                     for fmt in _formats(zpl)]
            for job, zpl in jobs}


@dataclass(frozen=True)
class JobSummary:
    """A job as the exporter's and the officer's batch pages list it."""

    job: PrintJob
    shop: str
    files: list[FileView]
    reprints: int
    reprinted_sheets: int


def job_summaries(session: Session, jobs: list[tuple[PrintJob, str]]) -> list[JobSummary]:
    ids = [job.id for job, _shop in jobs]
    rows = jobfiles.files_of(session, ids)
    reprints: dict[int, tuple[int, int]] = {}
    if ids:
        for job_id, count, sheets in session.exec(
            select(Reprint.job_id, func.count(),
                   func.sum(Reprint.sheet_last - Reprint.sheet_first + 1))
            .where(col(Reprint.job_id).in_(ids)).group_by(col(Reprint.job_id))
        ).all():
            reprints[job_id] = (int(count), int(sheets or 0))
    summaries = []
    for job, shop in jobs:
        files = [file_view(session, job, fmt, row)
                 for fmt, row in sorted(rows[job.id].items())]
        count, sheets = reprints.get(job.id, (0, 0))
        summaries.append(JobSummary(job=job, shop=shop, files=files, reprints=count,
                                    reprinted_sheets=sheets))
    return summaries
