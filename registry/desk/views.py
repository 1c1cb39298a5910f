"""The suspicious-activity desk (``/desk``): trade offices, exporters, administrators."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from registry.accounts.auth import roles_required
from registry.accounts.models import Role
from registry.clock import utcnow
from registry.db.paging import Page, window_from
from registry.desk import services
from registry.desk.rules import DEFAULT_PERIOD, Period, period_from, since
from registry.desk.vocabulary import PERIOD_LABELS
from registry.exceptions import Conflict
from registry.web.database import get_session
from registry.web.forms import Form

bp = Blueprint("desk", __name__)

SHOWS = ("reports", "scans", "copies")


class HandleForm(Form):
    note = TextAreaField(validators=[InputRequired(), Length(max=2000)])


@bp.route("/desk")
@roles_required(Role.OFFICER, Role.EXPORTER, Role.ADMIN)
def index() -> Any:
    return _page(request.args.get("show", "reports"))


def _page(show: str, form: HandleForm | None = None, form_for: int | None = None,
          status: int = 200) -> Any:
    db = get_session()
    everything = current_user.role == Role.ADMIN and request.args.get("all") == "1"
    scope = services.scope_for(db, current_user, everything=everything)
    show = show if show in SHOWS else "reports"
    window = window_from(request.args.get("page"))
    # The scan lists look back a period (rules.py); buyers' reports are few and each waits
    # to be handled, so they are all listed.
    period = period_from(request.args.get("period"))
    start = since(period, utcnow())
    lists: dict[str, Callable[..., Page[Any]]] = {
        "reports": services.reports,
        "scans": partial(services.scan_groups, since=start),
        "copies": partial(services.copy_serials, since=start)}
    page = lists[show](db, scope, window)
    # What every link of the page keeps: the administrators' "everything", a period asked for.
    everything_arg: dict[str, Any] = {"all": "1"} if everything else {}
    period_arg = {} if period is DEFAULT_PERIOD else {"period": period.value}
    extra = {**everything_arg, **period_arg}
    if not page.items and page.total:  # past the end (the list got shorter): the last page
        return redirect(url_for("desk.index", show=show, page=page.last, **extra))
    ids = {getattr(item, "product_id", None) for item in page.items}
    # The scan lists' period links; buyers' reports have none.
    periods = [] if show == "reports" else [
        (PERIOD_LABELS[p], url_for("desk.index", show=show, period=p.value, **everything_arg),
         p is period) for p in Period]
    return render_template(
        "desk/index.html", show=show, page=page, scope=scope, everything=everything,
        extra=extra, period_arg=period_arg, periods=periods,
        products=services.product_names(db, ids),
        open_reports=services.open_reports(db, scope), form=form or HandleForm(),
        form_for=form_for), status


@bp.route("/desk/reports/<int:report_id>/handle", methods=["POST"])
@roles_required(Role.OFFICER, Role.EXPORTER, Role.ADMIN)
def handle(report_id: int) -> Any:
    db = get_session()
    services.get_report(db, current_user, report_id)  # 404 before anything else
    form = HandleForm()
    if not form.validate_on_submit() or not (form.note.data or "").strip():
        return _page("reports", form, report_id, 400)
    try:
        services.handle_report(db, current_user, report_id, note=form.note.data or "")
    except Conflict:
        flash(_("This report was already marked handled."), "error")
    else:
        flash(_("Report marked handled."), "success")
    return redirect(url_for("desk.index", show="reports") + f"#report-{report_id}")
