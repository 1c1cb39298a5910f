"""The figures pages: dashboard, row exports and the monthly PDF report. Numbers come from
``queries``, pictures from ``charts``, files from ``exports``; XLSX exports are background jobs
(``exportfiles``, written by ``tasks``); this module only wires them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import force_locale, format_date, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Select
from werkzeug.datastructures import MultiDict

from registry.accounts.auth import roles_required
from registry.accounts.models import Role
from registry.catalog.vocabulary import category_label
from registry.clock import today
from registry.exceptions import Forbidden, RegistryError
from registry.figures import charts, exportfiles, exports, presenters, queries
from registry.figures.forms import ALL, FilterForm, ReportForm
from registry.figures.queries import Figures, Filters
from registry.figures.tasks import write_export_file
from registry.files.base import FileMissing
from registry.files.web import file_store
from registry.queue import enqueue_after_commit
from registry.reference import HUBS, PROVINCES, regencies
from registry.targets import exports as target_exports
from registry.targets import services as targets
from registry.web.database import engine, get_session
from registry.web.templating import country_name

bp = Blueprint("figures", __name__, url_prefix="/figures")
VIEWERS = (Role.OFFICER, Role.EXPORTER, Role.ADMIN)


def read_filters(args: MultiDict[str, str]) -> tuple[FilterForm, Filters, list[str]]:
    """Filters from the query string. Invalid ones are ignored (the default stays) and reported,
    so a mistyped bookmark still shows figures instead of an error page. Each report says what
    was asked, why it cannot be shown and what is shown instead: an officer must never take
    the last twelve months for the period they typed."""
    form = FilterForm(formdata=args)
    form.validate()
    default = queries.default_filters(get_session(), current_user, today())
    months = {form.from_month: default.start, form.to_month: default.end}
    problems = [
        _("%(field)s: “%(value)s” is not a month (write it as year-month, e.g. %(example)s); "
          "%(month)s is used instead.", field=f.label.text, value=args.get(f.name, "")[:32],
          example=default.end.strftime("%Y-%m"), month=_month(months[f]))
        if f in months else f"{f.label.text}: {f.errors[0]}"
        for f in form if f.errors]
    start = form.from_month.data if form.from_month.data and not form.from_month.errors \
        else default.start
    end = form.to_month.data if form.to_month.data and not form.to_month.errors else default.end
    if start > end:
        problems.append(_(
            "The period would end in %(end)s, before it starts in %(start)s; the last twelve "
            "months are shown instead (%(shown_start)s – %(shown_end)s).", end=_month(end),
            start=_month(start), shown_start=_month(default.start),
            shown_end=_month(default.end)))
        start, end = default.start, default.end
    elif queries.month_count(start, end) > queries.MAX_MONTHS:
        shown = queries.add_months(end, 1 - queries.MAX_MONTHS)
        problems.append(_(
            "A period can span at most %(n)s months: %(start)s – %(end)s is longer, so "
            "%(shown)s – %(end)s is shown.", n=queries.MAX_MONTHS, start=_month(start),
            end=_month(end), shown=_month(shown)))
        start = shown
    province = default.province
    if "province" in args and not form.province.errors:
        province = None if form.province.data in (ALL, "", None) else form.province.data
    form.province.data = province or ALL
    form.from_month.data, form.to_month.data = start, end
    return form, Filters(
        start=start, end=end, province=province,
        category=(form.category.data or None) if not form.category.errors else None,
        destination=(form.destination.data or None) if not form.destination.errors else None,
    ), problems


def _month(day: dt.date) -> str:
    return month_label(day.strftime("%Y-%m"))


def _idr(value: float) -> str:
    return f"Rp {format_decimal(round(value))}"


def _idr_axis(value: float) -> str:
    """Axis labels in millions, so they fit: 'Rp 2.500 jt' / 'Rp 2,500 M'."""
    return _("Rp %(amount)s M", amount=format_decimal(round(value / 1e6)))


def chart_markup(figures: Figures) -> dict[str, Markup]:
    """The SVGs of the page. charts.py escapes every text it draws, hence Markup."""
    names = {code: r.name for code, r in regencies().items()}

    def bars(rows: list[queries.Row], label: Any, limit: int = 12) -> list[charts.Bar]:
        return [charts.Bar(str(label(r.key)), r.value_idr, _idr(r.value_idr))
                for r in rows[:limit]]

    svg = {
        "month": charts.line_chart(
            "chart-month",
            [charts.Bar(month_label(m.key), m.value_idr, _idr(m.value_idr))
             for m in figures.by_month],
            title=_("Declared export value by month"),
            desc=_("Line chart of the declared value of batches certified each month; the table "
                   "below has the same figures."), axis=_idr_axis),
        "map": charts.regency_map(
            "chart-map", {r.key: float(r.value_idr) for r in figures.by_regency},
            title=_("Map: declared export value by origin regency"),
            desc=_("The 41 regencies of Bali, NTB and NTT, darker where more value was "
                   "certified; the table by regency has the same figures."),
            names=names, fmt=_idr, no_data=_("no certified batches")),
        "province": charts.bar_chart(
            "chart-province", bars(figures.by_province, lambda k: PROVINCES.get(k, k)),
            title=_("Declared export value by origin province"),
            desc=_("Bar chart; the table beside it has the same figures.")),
        "category": charts.bar_chart(
            "chart-category", bars(figures.by_category, category_label),
            title=_("Declared export value by commodity"),
            desc=_("Bar chart; the table beside it has the same figures.")),
        "destination": charts.bar_chart(
            "chart-destination", bars(figures.by_destination, country_name),
            title=_("Declared export value by destination country (top 12)"),
            desc=_("Bar chart; the table beside it has all destinations.")),
    }
    return {key: Markup(value) for key, value in svg.items()}  # noqa: S704 (escaped in charts)


@bp.route("/")
@roles_required(*VIEWERS)
def dashboard() -> Any:
    form, filters, problems = read_filters(request.args)
    figures = queries.dashboard(get_session(), current_user, filters)
    hubs = queries.hub_figures(get_session(), current_user, filters)
    report_form = ReportForm(formdata=None, month=filters.end,
                             province=filters.province or ALL,
                             lang="id" if str(get_locale()) == "id" else "en")
    return render_template(
        "figures/dashboard.html", form=form, figures=figures, problems=problems,
        charts=chart_markup(figures), headline=exports.headline(figures),
        report_form=report_form, export_args=_export_args(filters),
        lead_time=exports.lead_time_text, volume=exports.volume_text,
        hs_chapters=_hs_chapters(), num=format_decimal, month_label=month_label,
        hubs=hubs, hub_names=HUBS,
    )


def month_label(key: str) -> str:
    """'2026-03' as the reader's locale writes a month: 'Mar 2026', 'Mar 2026' in id."""
    year, month = key.split("-")
    return format_date(dt.date(int(year), int(month), 1), "MMM yyyy")


def _hs_chapters() -> dict[str, str]:
    """The HS chapters of the region's typical codes with the first product named under
    them, in the reader's language (the other chapters show their number alone)."""
    from registry.reference import typical_hs_codes

    indonesian = str(get_locale()) == "id"
    chapters: dict[str, str] = {}
    for hs in typical_hs_codes():
        chapters.setdefault(hs.chapter, hs.product_id if indonesian else hs.product)
    return chapters


def _export_args(filters: Filters) -> dict[str, str]:
    args = {"from_month": filters.start.strftime("%Y-%m"),
            "to_month": filters.end.strftime("%Y-%m"), "province": filters.province or ALL}
    if filters.category:
        args["category"] = filters.category
    if filters.destination:
        args["destination"] = filters.destination
    return args


def _strict_filters(args: MultiDict[str, str]) -> Filters:
    """Exports answer exactly what was asked or 400: a file must never silently differ."""
    _form, filters, problems = read_filters(args)
    if problems:
        # The reasons, already in the reader's words, on the 400 page.
        raise RegistryError(_("This export was not made: %(problems)s",
                              problems="; ".join(problems)), public=True)
    return filters


def _statement(filters: Filters) -> Select[Any]:
    try:
        return queries.export_statement(get_session(), current_user, filters)
    except Forbidden:
        abort(403)


def _rows(statement: Select[Any]) -> Iterator[Any]:
    # Its own connection: the request's session is closed by the time a streamed body runs.
    # The engine is taken now, so the body needs no request context (nothing to pop late).
    bound = engine()

    def rows() -> Iterator[Any]:
        with bound.connect() as conn:
            yield from conn.execution_options(stream_results=True, yield_per=2000).execute(
                statement)

    return rows()


def _filename(filters: Filters, ext: str) -> str:
    where = filters.province or "all"
    return f"batches-{where}-{filters.start:%Y-%m}_{filters.end:%Y-%m}.{ext}"


@bp.route("/batches.csv")
@roles_required(*VIEWERS)
def export_csv() -> Any:
    filters = _strict_filters(request.args)
    statement = _statement(filters)
    body = exports.csv_lines(_rows(statement), exports.export_words())
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{_filename(filters, "csv")}"'})


@bp.route("/exports", methods=["POST"])
@roles_required(*VIEWERS)
def ask_export() -> Any:
    """An XLSX of the same filters as the CSV, written by the task queue's worker (a period
    can hold hundreds of thousands of rows: no request waits for it). Bad filters are a 400
    and nothing is written; the asker follows the file's page."""
    filters = _strict_filters(request.form)
    db = get_session()
    lang = "id" if str(get_locale()) == "id" else "en"
    try:
        row = exportfiles.request_export(db, current_user, filters, lang)
    except Forbidden:
        abort(403)
    enqueue_after_commit(db, write_export_file, row.id)
    return redirect(url_for("figures.export_page", export_id=row.id), code=303)


@bp.route("/exports")
@roles_required(*VIEWERS)
def exports_list() -> Any:
    """The user's latest exports, to come back to a file after leaving its page."""
    rows = exportfiles.latest_of(get_session(), current_user)
    views = [presenters.export_view(r) for r in rows]
    return render_template("figures/exports.html", exports=views,
                           refresh=any(v.in_progress for v in views))


@bp.route("/exports/<int:export_id>")
@roles_required(*VIEWERS)
def export_page(export_id: int) -> Any:
    """One export: its state and a progress bar that needs no script (the page reloads
    itself while the worker writes), then the download."""
    view = presenters.export_view(exportfiles.owned(get_session(), current_user, export_id))
    return render_template("figures/export.html", export=view, refresh=view.in_progress)


@bp.route("/exports/<int:export_id>.xlsx")
@roles_required(*VIEWERS)
def export_download(export_id: int) -> Any:
    db = get_session()
    row = exportfiles.owned(db, current_user, export_id)
    if not exportfiles.servable(row):
        return redirect(url_for("figures.export_page", export_id=row.id), code=303)
    assert row.object_name is not None and row.size is not None
    try:
        chunks = file_store().read_range(row.object_name, 0, row.size)
    except FileMissing:
        # The store lost it (raised before any byte): the page offers to ask again.
        exportfiles.discard_missing(db, row)
        return redirect(url_for("figures.export_page", export_id=row.id), code=303)
    exportfiles.record_download(db, current_user, row)
    response = Response(chunks, mimetype=exportfiles.CONTENT_TYPE, direct_passthrough=True)
    response.headers["Content-Length"] = str(row.size)
    response.headers["ETag"] = f'"{row.sha256}"'
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{exportfiles.filename(row)}"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/report.pdf")
@roles_required(*VIEWERS)
def report() -> Any:
    """The monthly report; missing parameters default to the last complete month, the user's
    province (all three for the admin) and the page's language. Invalid ones are a 400."""
    args = MultiDict(request.args)
    args.setdefault("month", queries.add_months(today().replace(day=1), -1).strftime("%Y-%m"))
    args.setdefault("province", queries.home_province(get_session(), current_user) or ALL)
    args.setdefault("lang", "id" if str(get_locale()) == "id" else "en")
    form = ReportForm(formdata=args)
    if not form.validate():
        abort(400, description="; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()))
    assert form.month.data is not None  # validated: the field is required
    month: dt.date = form.month.data.replace(day=1)
    province = None if form.province.data == ALL else form.province.data
    filters = Filters(start=month, end=month, province=province)
    with force_locale(form.lang.data):
        figures = queries.dashboard(get_session(), current_user, filters)
        pdf = exports.monthly_pdf(figures, province=province, month=month,
                                  progress=_target_progress(province, month))
    name = f"report-{province or 'all'}-{month:%Y-%m}-{form.lang.data}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


def _target_progress(province: str | None, month: dt.date) -> list[Any]:
    """The offices' report carries the progress against the year's targets, measured at the
    end of the report's month (or today, within the current month)."""
    if not targets.may_read(current_user):
        return []
    end = queries.add_months(month, 1) - dt.timedelta(days=1)
    progress = targets.progress(get_session(), current_user, month.year, province,
                                today=today(), at=min(end, today()))
    return target_exports.progress_story(progress)
