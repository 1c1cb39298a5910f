from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from registry.accounts import services
from registry.accounts.auth import password_hashing, roles_required, safe_next
from registry.accounts.forms import (
    ActionForm,
    DeclineForm,
    LoginForm,
    OrganisationForm,
    SignupForm,
    UserForm,
)
from registry.accounts.models import OrgKind, Role, UserStatus
from registry.accounts.rules import MAX_DECLINE_REASON
from registry.accounts.vocabulary import org_kind_label
from registry.exceptions import Conflict, ValidationError
from registry.web.database import get_session
from registry.web.extensions import limiter
from registry.web.forms import apply_field_errors

bp = Blueprint("accounts", __name__)


@bp.after_app_request
def _remember_language(response: Any) -> Any:
    """A signed-in user who picks a language (``?lang=``) keeps it: saved on the account, so
    the mails the registry writes to them follow it (``registry.web.i18n`` keeps the choice
    in the session for the pages). Registered after the request's session opens, so this
    runs before its commit (``registry.web.database``) and is committed with the request; an
    answer that fails rolls it back, and the choice is saved again next time."""
    asked = request.args.get("lang")
    if (asked in current_app.config["LANGUAGES"] and asked in services.SAVED_LOCALES
            and request.blueprint != "verify"
            and response.status_code < 400 and current_user
            and current_user.is_authenticated and current_user.locale != asked):
        services.set_locale(get_session(), current_user._get_current_object(), asked)
    return response


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _signed_up(response: Any) -> bool:
    # Only real sign-ups use up the budget, not signed-in users sent home.
    return response.status_code == 302 and not current_user.is_authenticated


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 302)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(
            get_session(), email=form.email.data or "", password=form.password.data or "",
            hashing=password_hashing(),
        )
        if user is None:
            form.password.errors = [_("E-mail or password is wrong.")]
        elif user.status == UserStatus.PENDING:
            form.email.errors = [_("Your account waits for activation by a trade office.")]
        elif user.status != UserStatus.ACTIVE:
            form.email.errors = [_("This account is disabled.")]
        else:
            # A fresh session on login: nothing from before sign-in survives (fixation).
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            login_user(user)
            return redirect(safe_next(form.next.data))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        services.logout(get_session(), current_user._get_current_object())
        logout_user()
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"], deduct_when=_signed_up)
def signup() -> Any:
    if current_user.is_authenticated:
        # A signed-in user registering a second company is a mistake, not a sign-up.
        return redirect(url_for("main.home"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            services.signup_exporter(
                get_session(), email=form.email.data or "", name=form.name.data or "",
                password=form.password.data or "", company_name=form.company_name.data or "",
                nib=(form.nib.data or "").strip(), province_code=form.province_code.data or "",
                address=form.address.data or "", hashing=password_hashing(),
            )
        except ValidationError as exc:
            apply_field_errors(form, exc)
        else:
            flash(_("Thank you. A trade office will check your company and activate the "
                    "account; you can sign in after that."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/signup.html", form=form)


@bp.route("/accounts/pending")
@roles_required(Role.OFFICER, Role.ADMIN)
def pending() -> Any:
    return _pending_page()


def _pending_page(decline_form: DeclineForm | None = None, form_for: int | None = None,
                  status: int = 200) -> Any:
    rows = services.pending_exporters(get_session(), current_user)
    return render_template("accounts/pending.html", rows=rows, form=ActionForm(),
                           decline_form=decline_form or DeclineForm(formdata=None),
                           form_for=form_for, reason_max=MAX_DECLINE_REASON), status


@bp.route("/accounts/users/<int:user_id>/decline", methods=["POST"])
@roles_required(Role.OFFICER, Role.ADMIN)
def decline(user_id: int) -> Any:
    db = get_session()
    services.check_signup_visible(db, current_user, user_id)  # 404 before anything else
    form = DeclineForm()
    if not form.validate_on_submit():
        return _pending_page(form, user_id, 400)
    try:
        services.decline_signup(db, current_user, user_id=user_id,
                                reason=form.reason.data or "")
    except ValidationError as exc:
        apply_field_errors(form, exc)
        return _pending_page(form, user_id, 400)
    except services.NotPending:
        raise Conflict(_("Only sign-ups waiting for activation can be declined."),
                       public=True) from None
    flash(_("Sign-up declined. The applicant was told why by e-mail, and may sign up again "
            "with the same e-mail address and NIB."), "success")
    return redirect(url_for("accounts.pending"))


@bp.route("/accounts/users/<int:user_id>/activate", methods=["POST"])
@roles_required(Role.OFFICER, Role.ADMIN)
def activate(user_id: int) -> Any:
    return _set_status(user_id, UserStatus.ACTIVE, _("Account activated."))


@bp.route("/accounts/users/<int:user_id>/disable", methods=["POST"])
@roles_required(Role.ADMIN)
def disable(user_id: int) -> Any:
    return _set_status(user_id, UserStatus.DISABLED, _("Account disabled."))


def _set_status(user_id: int, status: UserStatus, message: str) -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.set_user_status(get_session(), current_user, user_id=user_id,
                                     status=status)
        except services.NotPending:
            raise Conflict(_("Only new sign-ups waiting for activation can be activated by a "
                             "trade office. A disabled account is re-enabled by the registry "
                             "administrators."), public=True) from None
        except services.Declined:
            raise Conflict(_("A declined sign-up stays declined: the company signs up again."),
                           public=True) from None
        flash(message, "success")
    back = "accounts.users" if current_user.role == Role.ADMIN else "accounts.pending"
    return redirect(url_for(back))


@bp.route("/admin/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def users() -> Any:
    db = get_session()
    form = UserForm()
    form.organisation_id.choices = [
        (o.id, f"{o.name} ({org_kind_label(o.kind)})") for o in services.list_organisations(db)
    ]
    if form.validate_on_submit():
        try:
            services.create_user(
                db, current_user, email=form.email.data or "", name=form.name.data or "",
                role=Role(form.role.data), organisation_id=form.organisation_id.data,
                password=form.password.data or "", hashing=password_hashing(),
            )
        except ValidationError as exc:
            apply_field_errors(form, exc)
        else:
            flash(_("User created."), "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/users.html", form=form,
                           rows=services.list_users(db, current_user), action_form=ActionForm())


@bp.route("/admin/organisations", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def organisations() -> Any:
    db = get_session()
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            services.create_organisation(
                db, current_user, kind=OrgKind(form.kind.data), name=form.name.data or "",
                province_code=form.province_code.data or None, nib=form.nib.data or None,
                address=form.address.data or "",
            )
        except ValidationError as exc:
            apply_field_errors(form, exc)
        else:
            flash(_("Organisation created."), "success")
            return redirect(url_for("accounts.organisations"))
    return render_template("accounts/organisations.html", form=form,
                           rows=services.list_organisations(db))
