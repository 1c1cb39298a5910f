from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.auth import roles_required, second_factor_required
from registry.accounts.forms import ActionForm
from registry.accounts.models import Role
from registry.catalog import presenters
from registry.catalog import services as catalog
from registry.catalog.certification import Action, Status
from registry.catalog.overview import batch_overview
from registry.catalog.vocabulary import document_kind_label
from registry.certificates.rules import Gaps
from registry.clock import today
from registry.db.paging import Page, window_from
from registry.exceptions import Conflict, ValidationError
from registry.printing import services as printing
from registry.review import services
from registry.review.forms import AllowanceForm, DecisionForm
from registry.web.database import get_session

bp = Blueprint("review", __name__, url_prefix="/review")

DONE = {
    Action.APPROVE: lambda: _("Batch approved and certified."),
    Action.REJECT: lambda: _("Batch rejected; the exporter sees your reason."),
    Action.SUSPEND: lambda: _("Certification suspended."),
    Action.REINSTATE: lambda: _("Certification reinstated."),
    Action.REVOKE: lambda: _("Certification revoked."),
}


# Why a decision was not saved, by the type of the service's refusal.
NOT_SAVED = {
    catalog.BatchChanged: lambda: _("another officer decided on this batch at the same time. "
                                    "The page now shows its current state."),
    services.DecisionNotAllowed: lambda: _("this decision is not possible in the batch's "
                                           "current state."),
}


@bp.route("/")
@roles_required(Role.OFFICER)
def queue() -> Any:
    page = services.queue(get_session(), current_user,
                          window=window_from(request.args.get("page")))
    return _list(page, _("Review queue"), _("No batches wait for review in your province."),
                 decided=False)


@bp.route("/certified")
@roles_required(Role.OFFICER)
def certified() -> Any:
    page = services.queue(get_session(), current_user,
                          (Status.APPROVED, Status.SUSPENDED, Status.REVOKED, Status.REJECTED),
                          window=window_from(request.args.get("page")))
    return _list(page, _("Decided batches"), _("No decided batches yet."), decided=True)


def _list(page: Page[Any], title: str, empty: str, *, decided: bool) -> Any:
    if not page.items and page.total:  # past the end (the list got shorter): the last page
        return redirect(url_for(request.endpoint or "review.queue", page=page.last))
    rows = [(b, p, o, b.decided_at if decided else b.submitted_at) for b, p, o in page.items]
    return render_template("review/queue.html", page=page, rows=rows, title=title, empty=empty,
                           when=_("Decided") if decided else _("Submitted"))


def _page(batch_id: int, form: DecisionForm | None = None, status: int = 200,
          allowance_form: AllowanceForm | None = None) -> Any:
    db = get_session()
    overview = batch_overview(db, current_user, batch_id, tolerance_percent=current_app.config[
        "LABEL_QUANTITY_TOLERANCE_PERCENT"])
    batch = overview.batch
    context = presenters.batch_page(db, overview)
    if overview.can_grant_allowance:
        context["allowance_form"] = allowance_form or AllowanceForm(formdata=None)
    default_until = today() + dt.timedelta(days=365)
    forms = {}
    for action in context["officer_actions"]:
        if form is not None and form.action.data == action:
            forms[action] = form
        else:
            forms[action] = DecisionForm(formdata=None, action=action, version=batch.version,
                                         valid_until=default_until)
    return render_template("review/batch.html", **context, forms=forms,
                           unshown={a: unshown_errors(f, a) for a, f in forms.items()},
                           action_form=ActionForm()), status


def lacking_message(gaps: Gaps) -> str:
    """Why an approval was refused, naming the certificates."""
    parts = []
    if gaps.missing:
        parts.append(_("missing: %(kinds)s", kinds=", ".join(
            document_kind_label(k) for k in gaps.missing)))
    if gaps.expired:
        parts.append(_("expired: %(kinds)s", kinds=", ".join(
            document_kind_label(k) for k in gaps.expired)))
    return _("Not approved: this batch needs certificates it does not have (%(which)s). "
             "Reject it with a reason, so the exporter can add valid ones and submit it "
             "again.", which="; ".join(parts))


# The fields each decision's form shows; the others travel hidden (action, version) or do not
# apply to that decision (a reason on an approval).
SHOWN_FIELDS = {"approve": {"valid_until"}, "reinstate": set()}


def unshown_errors(form: DecisionForm, action: str) -> list[str]:
    """Errors on fields the form does not show for ``action`` (junk in a hidden field, a reason
    sent with an approval): said above the button, never a silent 422."""
    shown = SHOWN_FIELDS.get(action, {"reason"})
    return [str(message) for name, messages in form.errors.items() if name not in shown
            for message in messages]


@bp.route("/batches/<int:batch_id>")
@roles_required(Role.OFFICER)
def batch(batch_id: int) -> Any:
    return _page(batch_id)


@bp.route("/batches/<int:batch_id>/label-allowance", methods=["POST"])
@roles_required(Role.OFFICER)
@second_factor_required
def label_allowance(batch_id: int) -> Any:
    """Let a certified batch's labels claim more than its quantity plus the tolerance."""
    form = AllowanceForm()
    catalog.get_batch(get_session(), current_user, batch_id)  # other provinces: 404 first
    if not form.validate_on_submit():
        return _page(batch_id, status=422, allowance_form=form)
    try:
        printing.grant_allowance(get_session(), current_user, batch_id, amount=form.amount.data,
                                 reason=form.reason.data or "")
    except ValidationError as exc:
        for name in exc.fields:
            getattr(form, name).errors = [_("Please check this value.")]
        return _page(batch_id, status=422, allowance_form=form)
    except Conflict:
        flash(_("Allowances are only for certified batches."), "error")
        return _page(batch_id, status=409)
    flash(_("Label allowance granted; the exporter sees it with your reason."), "success")
    return redirect(url_for("review.batch", batch_id=batch_id))


@bp.route("/batches/<int:batch_id>/decide", methods=["POST"])
@roles_required(Role.OFFICER)
@second_factor_required
def decide(batch_id: int) -> Any:
    form = DecisionForm()
    if not form.validate_on_submit():
        if form.action.errors or form.version.errors:
            # Hidden fields: the page has no place to show their errors, so say it on top.
            flash(_("This decision could not be read. Please reload the page and try again."),
                  "error")
        return _page(batch_id, form, 422)
    try:
        action = Action(form.action.data or "")
    except ValueError:
        # An unknown action has no form on the page to carry the error: a banner does.
        flash(_("Unknown decision."), "error")
        return _page(batch_id, form, 422)
    try:
        services.decide(
            get_session(), current_user, batch_id, action=action,
            expected_version=form.version.data or 0, reason=form.reason.data,
            valid_until=form.valid_until.data if action is Action.APPROVE else None,
        )
    except (catalog.BatchChanged, services.DecisionNotAllowed) as exc:
        flash(_("Your decision was not saved: %(why)s", why=NOT_SAVED[type(exc)]()), "error")
        return _page(batch_id, None, 409)
    except services.CertificatesLacking as exc:
        flash(lacking_message(exc.gaps), "error")
        return _page(batch_id, None, 422)
    except ValidationError as exc:
        if "reason" in exc.fields:
            form.reason.errors = [_("Please give a reason; the exporter will see it.")]
        else:
            form.valid_until.errors = [
                _("Choose a validity end date in the future, at most three years ahead.")]
        return _page(batch_id, form, 422)
    flash(DONE[action](), "success")
    return redirect(url_for("review.batch", batch_id=batch_id))
