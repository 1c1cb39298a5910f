from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import limits
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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from registry.accounts import second_factor, services, tasks
from registry.accounts.auth import (
    client_ip,
    mark_authenticated,
    password_hashing,
    recent_auth_required,
    roles_required,
    safe_next,
    second_factor_required,
)
from registry.accounts.forms import (
    ActionForm,
    ChangePasswordForm,
    ConfirmCodeForm,
    DeclineForm,
    ForgotPasswordForm,
    LoginForm,
    OrganisationForm,
    ReauthForm,
    ResetPasswordForm,
    SecondFactorForm,
    SignupForm,
    UserForm,
)
from registry.accounts.models import OrgKind, Role, User, UserStatus
from registry.accounts.reset import BadLink
from registry.accounts.rules import MAX_DECLINE_REASON
from registry.accounts.throttle import LoginThrottle
from registry.accounts.vocabulary import LINK_PROBLEM_LABELS, org_kind_label
from registry.clock import utcnow
from registry.exceptions import Conflict, ValidationError
from registry.ops import metrics
from registry.queue import enqueue_after_commit
from registry.signing import sealed
from registry.signing.keys import keystore
from registry.web.database import get_session
from registry.web.extensions import limiter
from registry.web.forms import apply_field_errors
from registry.web.timing import answer_no_sooner

T = TypeVar("T")

bp = Blueprint("accounts", __name__)
log = logging.getLogger(__name__)


def _throttle() -> LoginThrottle:
    cfg = current_app.config
    return LoginThrottle(limiter.limiter, limits.parse(cfg["LOGIN_ACCOUNT_LIMIT"]),
                         limits.parse(cfg["LOGIN_ADDRESS_LIMIT"]),
                         cfg.get("RATELIMIT_KEY_PREFIX") or "registry")


def _throttled(call: Callable[[LoginThrottle], T], fallback: T) -> T:
    """``call`` on the login throttle. When the store (Redis) does not answer, the limiter
    falls back to per-process counts as for its own limits (extensions.limiter), saying so
    once; where even that fails, the sign-in goes on unthrottled and the log says so, never
    a 500. With Flask-Limiter's switch for every limit off (``RATELIMIT_ENABLED=false``)
    the throttle is off too: the limiter is then never set up for this app."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return fallback
    try:
        return call(_throttle())
    except Exception:
        # flask-limiter notices a dead store only in its own limits' checks; these counts
        # are ours, so we tell it (and it goes back to Redis when that answers again).
        if not limiter._in_memory_fallback_enabled or limiter._storage_dead:
            log.exception("login throttle: the rate-limit store did not answer")
            return fallback
        log.warning("Rate limit storage unreachable - falling back to in-memory storage")
        limiter._storage_dead = True
    try:
        return call(_throttle())
    except Exception:
        log.exception("login throttle: the rate-limit store did not answer")
        return fallback


def _locale() -> str:
    return str(get_locale() or "")


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


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


def _signup_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


def _signed_up(response: Any) -> bool:
    # Only real sign-ups use up the budget, not signed-in users sent home.
    return response.status_code == 302 and not current_user.is_authenticated


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        email, address = form.email.data or "", client_ip()
        if _throttled(lambda t: t.locked(email, address), False):
            # Unknown accounts lock like known ones, so this says nothing about which exist.
            metrics.RATE_LIMIT_REFUSALS.labels("accounts.login").inc()
            form.password.errors = [_(
                "Too many failed sign-ins for this account or from this network. Wait a few "
                "minutes, or set a new password through “Forgot your password?”.")]
            return render_template("accounts/login.html", form=form), 429
        user = services.authenticate(
            get_session(), email=email, password=form.password.data or "",
            hashing=password_hashing(),
        )
        if user is None:
            if _throttled(lambda t: t.failed(email, address), False):
                # In the owner's language, not the guesser's page's (Indonesian if unset).
                services.account_locked(get_session(), email=email, secret=_secret())
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
            with answer_no_sooner():
                services.signup_exporter(
                    get_session(), email=form.email.data or "", name=form.name.data or "",
                    password=form.password.data or "",
                    company_name=form.company_name.data or "",
                    nib=(form.nib.data or "").strip(),
                    province_code=form.province_code.data or "",
                    address=form.address.data or "", hashing=password_hashing(),
                    locale=_locale(),
                )
        except ValidationError as exc:
            apply_field_errors(form, exc)
        else:
            # The same answer whether the address or the NIB had an account already: their
            # holders are told by mail instead (issue 16 §3).
            flash(_("Thank you. If the e-mail address and the company are new to the "
                    "registry, a trade office will check your company and activate the "
                    "account, and we will tell you by mail. If either was registered "
                    "already, its account holders have been told by mail."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/signup.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    user: User = current_user._get_current_object()
    form = ChangePasswordForm()
    form.account_email = user.email
    if form.validate_on_submit():
        try:
            services.change_password(get_session(), user,
                                     current=form.current_password.data or "",
                                     new=form.password.data or "", hashing=password_hashing(),
                                     locale=_locale())
        except ValidationError as exc:
            apply_field_errors(form, exc)
        else:
            # Every other session ended with the old nonce; this one goes on under the new.
            login_user(user)
            flash(_("Your password was changed. You were signed out everywhere else."),
                  "success")
            return redirect(url_for("main.home"))
    return render_template("accounts/password_change.html", form=form)


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _reset_address_key() -> str:
    # Per address typed as well as per client address: links cannot be mailed to one
    # mailbox again and again from many addresses. Unknown addresses count alike.
    return "reset-email:" + services.normalise_email(request.form.get("email", ""))[:254]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@limiter.limit(_reset_limit, methods=["POST"], key_func=_reset_address_key)
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        db = get_session()
        with answer_no_sooner():
            request_id = services.request_password_reset(db, email=form.email.data or "",
                                                         locale=_locale())
            # If the queue does not answer, the worker's minute sweep finds the request.
            enqueue_after_commit(db, tasks.send_reset_link, request_id)
        # The same page whether or not the address has an account.
        return render_template("accounts/password_forgot_sent.html")
    return render_template("accounts/password_forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password(token: str) -> Any:
    db = get_session()
    try:
        user = services.user_for_reset(db, token=token, secret=_secret())
    except BadLink as exc:
        return render_template("accounts/password_reset_bad.html",
                               problem=LINK_PROBLEM_LABELS[exc.problem]), 410
    form = ResetPasswordForm()
    form.account_email = user.email
    if form.validate_on_submit():
        services.reset_password(db, token=token, new=form.password.data or "",
                                secret=_secret(), hashing=password_hashing(), locale=_locale())
        _throttled(lambda t: t.clear(user.email), None)
        flash(_("Your password was changed and every session signed out. Sign in with the "
                "new password."), "success")
        return redirect(url_for("accounts.login"))
    response = make_response(render_template("accounts/password_reset.html", form=form))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/accounts/pending")
@roles_required(Role.OFFICER, Role.ADMIN)
@second_factor_required
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
        except services.Declined:
            raise Conflict(_("A declined sign-up stays declined: the company signs up again."),
                           public=True) from None
        except services.StatusChanged:
            raise Conflict(_("Someone else changed this account meanwhile. Look at it "
                             "again."), public=True) from None
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
        services.password_passed(get_session(), user)
        session[PENDING] = {"user": user.id, "nonce": user.session_nonce,
                            "until": int(utcnow().timestamp()) + PENDING_SECONDS,
                            "next": safe_next(next_url)}
        return redirect(url_for("accounts.login_second_factor"))
    services.signed_in(get_session(), user)
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


def _account_limit() -> str:
    return str(current_app.config["LOGIN_ACCOUNT_LIMIT"])


def _address_limit() -> str:
    return str(current_app.config["LOGIN_ADDRESS_LIMIT"])


# Wrong codes count as wrong passwords do (registry.accounts.throttle): per account, and per
# address with the higher ceiling an office behind one NAT does not reach.
@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 302)
@limiter.limit(_account_limit, methods=["POST"], key_func=_pending_key,
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
            services.signed_in(get_session(), user, second_factor=method.value)
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
    kek = _kek()
    # A server configured with another KEK must not seal a seed only it can open (503).
    sealed.require_same_kek(db, kek)
    secret = second_factor.start(db, user, kek)
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
@limiter.limit(_account_limit, methods=["POST"], key_func=_reauth_key,
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
