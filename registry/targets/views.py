"""The targets pages: progress against the year's targets (chart and table per target), the
form that sets them, the progress as CSV/XLSX and the yearly evaluation report (PDF).
Numbers come from ``services``, words from ``presenters``; this module only wires them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from registry.accounts.auth import roles_required
from registry.accounts.models import Role
from registry.clock import today, utcnow
from registry.exceptions import Conflict, ValidationError
from registry.figures import charts, queries
from registry.figures.queries import Filters
from registry.targets import exports, services
from registry.targets import presenters as say
from registry.targets.forms import ShowForm, TargetForm
from registry.targets.rules import REGION, expected_share
from registry.targets.services import Progress, TargetInput
from registry.web.database import get_session
from registry.web.forms import apply_field_errors

bp = Blueprint("targets", __name__, url_prefix="/targets")
OFFICES = (Role.OFFICER, Role.ADMIN)


def read_choice(args: MultiDict[str, str]) -> tuple[ShowForm, int, str | None, list[str]]:
    """Year and province from the query string; the current year and the officer's own
    province (the admin: the region) by default. Invalid ones are reported, not guessed."""
    form = ShowForm(formdata=args)
    form.validate()
    problems = [f"{f.label.text}: {f.errors[0]}" for f in form if f.errors]
    year = form.year.data if form.year.data and not form.year.errors else today().year
    own = queries.home_province(get_session(), current_user) \
        if current_user.role == Role.OFFICER else None
    choice = form.province.data if form.province.data and not form.province.errors \
        else (own or REGION)
    form.year.data, form.province.data = year, choice
    return form, year, None if choice == REGION else choice, problems


def _strict() -> tuple[int, str | None]:
    """Files answer exactly what was asked or 400."""
    _form, year, province, problems = read_choice(request.args)
    if problems:
        abort(400, description="; ".join(problems))
    return year, province


def _charts(progress: Progress) -> list[Markup]:
    labels = say.month_names(progress.year)
    out = []
    for i, item in enumerate(progress.items):
        t = item.target
        expected = say.expected_path(progress.year, t.amount)
        svg = charts.progress_chart(
            f"chart-target-{i + 1}", labels,
            [float(v) if v is not None else None for v in item.monthly],
            [float(v) for v in expected],
            title=_("%(target)s: achieved by month against the target", target=say.describe(t)),
            desc=_("Line chart of what was achieved by the end of each month (solid) and the "
                   "even path to the target of %(amount)s (dashed); the table below has the "
                   "same figures.", amount=say.amount_text(t, t.amount)),
            axis=partial(say.amount_text, t),
            achieved_name=_("Achieved"), expected_name=_("Even path to the target"),
            texts=[say.amount_text(t, v) for v in item.monthly])
        out.append(Markup(svg))  # noqa: S704 (charts.py escapes every text it draws)
    return out


@bp.route("/")
@roles_required(*OFFICES)
def index() -> Any:
    form, year, province, problems = read_choice(request.args)
    db = get_session()
    progress = services.progress(db, current_user, year, province, today=today())
    return render_template(
        "targets/index.html", form=form, progress=progress, problems=problems,
        charts=_charts(progress), say=say,
        may_set=services.may_set(db, current_user, province) and not progress.frozen,
        args={"year": year, "province": province or REGION},
        expected={item.target.id: say.expected_path(year, item.target.amount)
                  for item in progress.items},
        months=say.month_names(year),
        expected_now=say.percent(expected_share(year, progress.at)))


@bp.route("/edit", methods=["GET", "POST"])
@roles_required(*OFFICES)
def edit() -> Any:
    """Set one target of the year and province in the query string (an existing one of the
    same kind gets the new amount)."""
    _choice, year, province, problems = read_choice(request.args)
    if problems:
        abort(400, description="; ".join(problems))
    db = get_session()
    if not services.may_set(db, current_user, province):
        abort(403)
    form = TargetForm()
    frozen = today().year > year
    if not form.is_submitted() and request.args.get("target", "").isdigit():
        # "Change" on a listed target: the form starts from it (this year and province's
        # only), so only the amount needs typing.
        target = services.get_target(db, current_user, int(request.args["target"]))
        if (target.year, target.province_code) != (year, province):
            abort(404)
        form = TargetForm(formdata=None, metric=target.metric, category=target.category or "",
                          hs_chapter=target.hs_chapter or "", unit=target.unit or "",
                          destination=target.destination_country or "",
                          amount=format_decimal(Decimal(target.amount).normalize()))
    if form.validate_on_submit():
        amount: Decimal | str
        try:
            amount = parse_decimal(form.amount.data or "", locale=get_locale(), strict=True)
        except NumberFormatError:
            amount = "not a number"
        try:
            target, created = services.set_target(db, current_user, TargetInput(
                year=year, province=province, metric=form.metric.data or "", amount=amount,
                category=form.category.data, hs_chapter=(form.hs_chapter.data or "").strip(),
                unit=form.unit.data, destination=form.destination.data), today=today())
        except (ValidationError, Conflict) as exc:
            apply_field_errors(form, ValidationError(exc.message, fields=exc.fields))
        else:
            flash(_("Target saved: %(target)s, %(amount)s.", target=say.describe(target),
                    amount=say.amount_text(target, target.amount)) if created else
                  _("Target changed: %(target)s, now %(amount)s.", target=say.describe(target),
                    amount=say.amount_text(target, target.amount)), "success")
            return redirect(url_for("targets.edit", year=year, province=province or REGION))
    existing = services.targets_for(db, current_user, year, province)
    return render_template("targets/edit.html", form=form, year=year, province=province,
                           frozen=frozen, existing=existing, say=say,
                           args={"year": year, "province": province or REGION})


@bp.route("/progress.csv")
@roles_required(*OFFICES)
def progress_csv() -> Any:
    year, province = _strict()
    progress = services.progress(get_session(), current_user, year, province, today=today())
    name = f"targets-{province or 'all'}-{year}.csv"
    return Response(exports.progress_csv(progress), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/progress.xlsx")
@roles_required(*OFFICES)
def progress_xlsx() -> Any:
    year, province = _strict()
    progress = services.progress(get_session(), current_user, year, province, today=today())
    name = f"targets-{province or 'all'}-{year}.xlsx"
    return Response(exports.progress_xlsx(progress),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/evaluation.pdf")
@roles_required(*OFFICES)
def evaluation() -> Any:
    """The yearly evaluation of a province or the region, in id or en (``lang``, default the
    page's language), compared with the previous year."""
    year, province = _strict()
    lang = request.args.get("lang") or ("id" if str(get_locale()) == "id" else "en")
    if lang not in ("id", "en"):
        abort(400, description="lang: id or en")
    db = get_session()
    with force_locale(lang):
        progress = services.progress(db, current_user, year, province, today=today())
        figures = queries.dashboard(db, current_user, _whole_year(year, province))
        previous = queries.dashboard(db, current_user, _whole_year(year - 1, province))
        pdf = exports.evaluation_pdf(
            progress, figures, previous,
            exporters=(services.exporters_in_year(db, year, province),
                       services.exporters_in_year(db, year - 1, province)),
            new_exporters=(services.new_exporters(db, year, province),
                           services.new_exporters(db, year - 1, province)),
            generated=utcnow())
    name = f"evaluation-{province or 'all'}-{year}-{lang}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


def _whole_year(year: int, province: str | None) -> Filters:
    return Filters(start=dt.date(year, 1, 1), end=dt.date(year, 12, 1), province=province)
