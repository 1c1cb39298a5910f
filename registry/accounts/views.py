from __future__ import annotations

import base64
from typing import Any

import zxingcpp
from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from registry.accounts import second_factor, services
from registry.accounts.auth import (
    mark_authenticated,
    password_hashing,
    recent_auth_required,
    roles_required,
    safe_next,
    second_factor_required,
)
from registry.accounts.forms import (
    ActionForm,
    ConfirmCodeForm,
    LoginForm,
    OrganisationForm,
    ReauthForm,
    SecondFactorForm,
    SignupForm,
    UserForm,
)
from registry.accounts.models import OrgKind, Role, User, UserStatus
from registry.accounts.vocabulary import org_kind_label
from registry.clock import utcnow
from registry.exceptions import Conflict, ValidationError
from registry.signing.keys import keystore
from registry.web.database import get_session
from registry.web.extensions import limiter
from registry.web.forms import apply_field_errors

bp = Blueprint("accounts", __name__)

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
            return _password_passed(user, form.next.data)
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
@second_factor_required
def pending() -> Any:
    rows = services.pending_exporters(get_session(), current_user)
    return render_template("accounts/pending.html", rows=rows, form=ActionForm())


@bp.route("/accounts/users/<int:user_id>/activate", methods=["POST"])
@roles_required(Role.OFFICER, Role.ADMIN)
@second_factor_required
@recent_auth_required
def activate(user_id: int) -> Any:
    return _set_status(user_id, UserStatus.ACTIVE, _("Account activated."))


@bp.route("/accounts/users/<int:user_id>/disable", methods=["POST"])
@roles_required(Role.ADMIN)
@second_factor_required
@recent_auth_required
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
        flash(message, "success")
    back = "accounts.users" if current_user.role == Role.ADMIN else "accounts.pending"
    return redirect(url_for(back))


@bp.route("/admin/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@second_factor_required
@recent_auth_required
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
@second_factor_required
@recent_auth_required
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


# ---------------------------------------------------------------- the second factor

# The user who gave the right password and still owes a code, for a few minutes at most.
PENDING = "second_factor_pending"
PENDING_SECONDS = 5 * 60


def _kek() -> Any:
    return keystore().kek()


def _password_passed(user: User, next_url: str | None) -> Any:
    """After the password: sign in, or (with an authenticator) ask for the code first. The
    pending user is bound to the account's session nonce, so a logout or password change in
    between ends it too."""
    if second_factor.is_enrolled(get_session(), user):
        session[PENDING] = {"user": user.id, "nonce": user.session_nonce,
                            "until": int(utcnow().timestamp()) + PENDING_SECONDS,
                            "next": safe_next(next_url)}
        return redirect(url_for("accounts.login_second_factor"))
    login_user(user)
    mark_authenticated()
    return redirect(safe_next(next_url))


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < utcnow().timestamp():
        return None
    user = get_session().get(User, pending.get("user"))
    if user is None or user.session_nonce != pending.get("nonce") \
            or user.status != UserStatus.ACTIVE:
        return None
    return user


def _pending_key() -> str:
    pending = session.get(PENDING)
    return f"second-factor:{pending.get('user') if isinstance(pending, dict) else ''}"


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 302)
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_key,
               deduct_when=lambda r: r.status_code != 302)
def login_second_factor() -> Any:
    """The second step of signing in: a code from the authenticator app or a recovery code.
    Throttled per address and per account (six digits are few)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("accounts.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        method = second_factor.verify(get_session(), user, _kek(), form.code.data or "",
                                      utcnow())
        if method is None:
            form.code.errors = [_("This code is wrong or was already used.")]
        else:
            target = session.pop(PENDING)["next"]
            login_user(user)
            mark_authenticated()
            if method is second_factor.Method.RECOVERY:
                flash(_("You signed in with a recovery code; %(n)d are left. If your phone "
                        "is lost, ask the administrators to reset your second factor.",
                        n=second_factor.recovery_codes_left(get_session(), user)), "info")
            return redirect(safe_next(target))
    return render_template("accounts/login_second_factor.html", form=form)


def _qr_data_uri(text: str) -> str:
    """The QR code of ``text`` as an SVG data URI (the page needs no script, and the CSP
    allows data: images)."""
    svg = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode).to_svg(scale=6)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor() -> Any:
    """Enrol an authenticator: scan the QR code (or type the key), confirm with a current
    code; the recovery codes are shown on the answer, once."""
    db, user = get_session(), current_user._get_current_object()
    next_url = request.args.get("next")
    if second_factor.is_enrolled(db, user):
        factor = second_factor.factor_of(db, user)
        return render_template("accounts/two_factor.html", enrolled=factor,
                               codes_left=second_factor.recovery_codes_left(db, user))
    secret = second_factor.start(db, user, _kek())
    form = ConfirmCodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = second_factor.confirm(db, user, _kek(), form.code.data or "", utcnow())
        except second_factor.WrongCode:
            form.code.errors = [_("This code is wrong or was already used: type the code "
                                  "your app shows now.")]
            status = 422
        else:
            mark_authenticated()
            response = make_response(render_template(
                "accounts/two_factor.html", codes=codes, next=safe_next(next_url)))
            response.headers["Cache-Control"] = "no-store"
            return response
    uri = second_factor.provisioning_uri(secret, user.email)
    response = make_response(render_template(
        "accounts/two_factor.html", form=form, secret=secret, qr=_qr_data_uri(uri),
        required=second_factor.required_for(user)), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _reauth_key() -> str:
    return f"reauth:{current_user.get_id() if current_user.is_authenticated else ''}"


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], key_func=_reauth_key,
               deduct_when=lambda r: r.status_code != 302)
def reauth() -> Any:
    """Confirm it is you (password, or a code for those with an authenticator), then go on
    to the page that asked."""
    db, user = get_session(), current_user._get_current_object()
    form = ReauthForm()
    has_factor = second_factor.is_enrolled(db, user)
    if form.validate_on_submit():
        ok = second_factor.reauthenticate(
            db, user, password=form.password.data or "", code=form.code.data or "",
            kek=_kek(), hashing=password_hashing(), at=utcnow())
        if ok:
            mark_authenticated()
            return redirect(safe_next(request.args.get("next")))
        form.password.errors = [_("This password or code is wrong.")]
    return render_template("accounts/reauth.html", form=form, has_factor=has_factor)
