"""The account page where users create (shown once) and revoke their personal API tokens.

A normal web page: session login and CSRF like every other form. The new secret is rendered
in the POST's own response, never flashed (the flash would sit in the signed, readable
session cookie) and never redirected to; the page is ``no-store``.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from registry.accounts.auth import recent_auth_required, roles_required, second_factor_required
from registry.accounts.forms import ActionForm
from registry.accounts.models import Role
from registry.api import tokens
from registry.api.vocabulary import ACCESS_LABELS, LIFETIME_LABELS
from registry.clock import utcnow
from registry.db import MAX_ID
from registry.exceptions import ValidationError
from registry.web.database import get_session
from registry.web.extensions import limiter
from registry.web.forms import Form
from registry.web.messages import message

bp = Blueprint("api_account", __name__, url_prefix="/account")

class TokenForm(Form):
    name = StringField(_l("Name (what the token is for)"),
                       validators=[InputRequired(), Length(max=100)])
    access = SelectField(_l("Access"), choices=list(ACCESS_LABELS.items()))
    expires_in = SelectField(_l("Expires after"), coerce=int,
                             choices=list(LIFETIME_LABELS.items()),
                             default=tokens.DEFAULT_LIFETIME)


def _token_limit() -> str:
    return str(current_app.config.get("TOKEN_CREATE_RATE_LIMIT", "20 per hour"))


def _page(form: TokenForm, secret: str | None = None, status: int = 200) -> Any:
    now = utcnow()
    rows = [(token, tokens.state_of(token, now))
            for token in tokens.list_tokens(get_session(), current_user)]
    response = make_response(render_template(
        "accounts/tokens.html", form=form, rows=rows, secret=secret, action_form=ActionForm(),
        states=tokens.TokenState,
    ), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tokens", methods=["GET", "POST"])
@roles_required(Role.EXPORTER, Role.OFFICER)
@second_factor_required
@recent_auth_required
@limiter.limit(_token_limit, methods=["POST"], key_func=lambda: f"token-create:{current_user.id}")
def tokens_page() -> Any:
    form = TokenForm()
    if form.validate_on_submit():
        try:
            created = tokens.create_token(get_session(), current_user,
                                          name=form.name.data or "", access=form.access.data or "",
                                          lifetime_days=form.expires_in.data)
        except ValidationError as exc:
            for field, code in exc.fields.items():
                target = getattr(form, field, form.name)
                target.errors = [*target.errors, message(code)]
            return _page(form, status=422)
        return _page(TokenForm(formdata=None), secret=created.secret)
    return _page(form, status=422 if form.errors else 200)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(Role.EXPORTER, Role.OFFICER)
def token_revoke(token_id: int) -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        if token_id > MAX_ID:
            abort(404)
        tokens.revoke_token(get_session(), current_user, token_id)
        flash(_("Token revoked. Systems using it can no longer call the API."), "success")
    return redirect(url_for("api_account.tokens_page"))
