"""The administrators' page of required certificates: which certificate kinds batches of a
category (to a destination, or anywhere) need before an office may approve them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.auth import recent_auth_required, roles_required, second_factor_required
from registry.accounts.forms import ActionForm
from registry.accounts.models import Role
from registry.certificates import services
from registry.certificates.forms import RuleForm
from registry.certificates.rules import RuleInput
from registry.exceptions import ValidationError
from registry.web.database import get_session
from registry.web.forms import apply_field_errors

bp = Blueprint("certificates", __name__, url_prefix="/admin/certificate-rules")


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@second_factor_required
@recent_auth_required
def rules() -> Any:
    db = get_session()
    form = RuleForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.add_rule(db, current_user, RuleInput(
                category=form.category.data or "", kind=form.kind.data or "",
                destination=form.destination.data or ""))
        except ValidationError as exc:
            apply_field_errors(form, exc)
            status = 422
        else:
            flash(_("Rule added: approvals now check it."), "success")
            return redirect(url_for("certificates.rules"))
    elif form.is_submitted():
        status = 422
    return render_template("certificates/rules.html", form=form, action_form=ActionForm(),
                           rows=services.list_rules(db, current_user)), status


@bp.route("/<int:rule_id>/delete", methods=["POST"])
@roles_required(Role.ADMIN)
@second_factor_required
@recent_auth_required
def remove(rule_id: int) -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        services.remove_rule(get_session(), current_user, rule_id)
        flash(_("Rule removed."), "success")
    return redirect(url_for("certificates.rules"))
