"""What the export pages show of each XLSX export: plain rows built here, so the templates only
lay them out."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _

from registry.catalog.vocabulary import category_label
from registry.figures import exportfiles
from registry.figures.exportfiles import State
from registry.figures.models import ExportFile
from registry.figures.vocabulary import export_state_label
from registry.reference import PROVINCES


@dataclass(frozen=True)
class ExportView:
    id: int
    state: str
    state_text: str
    what: str            # "Mar 2026 – Apr 2026 · NTB · Honey"
    requested_at: object  # a UTC datetime, shown in WITA by the template's filter
    done: int
    total: int           # 0 while the worker has not counted the rows yet
    percent: str
    progress_text: str
    in_progress: bool
    downloadable: bool
    size_text: str
    expires_at: object
    error: str | None
    filename: str
    args: dict[str, str]  # the filters, to ask for the same export again


def _size(size: int | None) -> str:
    if not size:
        return ""
    if size >= 1_000_000:
        return _("%(n)s MB", n=format_decimal(round(size / 1_000_000, 1)))
    return _("%(n)s kB", n=format_decimal(max(1, round(size / 1000))))


def _what(row: ExportFile) -> str:
    # Months as the dashboard writes them: 'Mar 2026' in the reader's locale.
    parts = [f"{format_date(row.from_month, 'MMM yyyy')} – {format_date(row.to_month, 'MMM yyyy')}",
             PROVINCES.get(row.province, row.province) if row.province
             else _("All three provinces")]
    if row.category:
        parts.append(category_label(row.category))
    if row.destination:
        from registry.web.templating import country_name

        parts.append(country_name(row.destination))
    return " · ".join(parts)


def export_view(row: ExportFile) -> ExportView:
    ready = exportfiles.servable(row)
    state = row.state
    if state == State.READY and not ready:
        state = State.EXPIRED  # past its time: the sweep deletes it within a minute
    total = row.rows_total or 0
    in_progress = state in (State.QUEUED, State.WRITING)
    args = {"from_month": f"{row.from_month:%Y-%m}", "to_month": f"{row.to_month:%Y-%m}",
            "province": row.province or "all"}
    if row.category:
        args["category"] = row.category
    if row.destination:
        args["destination"] = row.destination
    return ExportView(
        id=row.id, state=str(state), state_text=export_state_label(state),
        what=_what(row), requested_at=row.requested_at,
        done=row.rows_done, total=total,
        percent=format_percent(row.rows_done / total if total else 0),
        progress_text=_("%(done)s of %(total)s rows", done=format_decimal(row.rows_done),
                        total=format_decimal(total)) if row.rows_total is not None
        else _("counting the rows"),
        in_progress=in_progress, downloadable=ready,
        size_text=_size(row.size if ready else None), expires_at=row.expires_at if ready else None,
        error=row.error if state == State.FAILED else None,
        filename=exportfiles.filename(row), args=args)
