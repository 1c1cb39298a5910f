"""The audit log on the web (``/audit``): administrators read every event, trade officers
those of their province's objects (``registry.audit.listing``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from registry.accounts.auth import roles_required
from registry.accounts.models import Role
from registry.audit import listing
from registry.audit.forms import LogFilterForm
from registry.audit.presenters import event_row
from registry.db.paging import window_from
from registry.web.database import get_session

bp = Blueprint("audit", __name__)


@bp.route("/audit")
@roles_required(Role.OFFICER, Role.ADMIN)
def log() -> Any:
    db = get_session()
    scope = listing.scope_for(db, current_user)
    form = LogFilterForm(formdata=request.args)
    if not form.validate():
        # Said on the form; no list is read for a filter that means nothing.
        return render_template("audit/log.html", form=form, scope=scope, page=None, rows=[],
                               args={}), 400
    args = form.query_args()
    page = listing.event_page(db, scope, form.filters(), window_from(request.args.get("page")))
    if not page.items and page.total:  # past the end (a bookmark of a shorter list)
        values: dict[str, Any] = {**args, "page": page.last}
        return redirect(url_for("audit.log", **values))
    return render_template("audit/log.html", form=form, scope=scope, page=page,
                           rows=[event_row(event) for event in page.items], args=args)
