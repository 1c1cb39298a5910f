"""Sign-in plumbing: the app's password cost, the user loader, role guards and safe redirects."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    has_app_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from registry.accounts import second_factor
from registry.accounts.models import Role, User, UserStatus
from registry.accounts.passwords import PasswordHashing, default_hashing
from registry.clock import utcnow
from registry.web.database import get_session
from registry.web.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


def password_hashing() -> PasswordHashing:
    """The app's password cost for the services: in a request or a CLI command the app's
    (``PASSWORD_HASH_*``); code without an app (a script, a test's fixture) hashes at
    argon2-cffi's defaults, the production cost."""
    if has_app_context():
        return current_app.extensions["password_hashing"]
    return default_hashing()


def init_app(app: Flask) -> None:
    app.extensions["password_hashing"] = PasswordHashing.from_config(app.config)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(session_id: str) -> User | None:
        user_id, _, nonce = session_id.partition(":")
        if not user_id.isdigit():
            return None
        user = get_session().get(User, int(user_id))
        if user is None or user.session_nonce != nonce or user.status != UserStatus.ACTIVE:
            return None
        return user


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Anonymous users go to the login page; signed-in users of another role get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


# The session remembers when its user last proved who they are (password with the second
# factor, or a re-authentication); key and user management want it recent.
AUTH_AT = "auth_at"
REAUTH_AFTER_SECONDS = 30 * 60


def mark_authenticated() -> None:
    session[AUTH_AT] = int(utcnow().timestamp())


def recently_authenticated() -> bool:
    stamp = session.get(AUTH_AT)
    return isinstance(stamp, int) and utcnow().timestamp() - stamp <= REAUTH_AFTER_SECONDS


def _back_here() -> str:
    """Where to return after enrolment or re-authentication: this page, or for a form post
    the page the form was on (a POST cannot be replayed by a redirect)."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path:
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("main.home")


def second_factor_required(view: F) -> F:
    """Officers and admins without an enrolled authenticator are sent to enrol first (below
    ``roles_required``, so the user is signed in)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user._get_current_object()
        if second_factor.required_for(user) and not second_factor.is_enrolled(get_session(),
                                                                               user):
            flash(_("Officers and administrators need a second factor: set up your "
                    "authenticator app first."), "info")
            return redirect(url_for("accounts.two_factor", next=_back_here()))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def recent_auth_required(view: F) -> F:
    """Key and user management ask for the password or a code again when the last proof is
    older than 30 minutes (a session left open on an office computer)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not recently_authenticated():
            flash(_("Please confirm it is you before you continue."), "info")
            return redirect(url_for("accounts.reauth", next=_back_here()))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def safe_next(target: str | None, fallback: str = "main.home") -> str:
    """Only same-site relative paths are followed after login; anything else goes home."""
    if target:
        target = target.replace("\\", "/").strip()
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and not any(ord(c) < 32 for c in target)
        ):
            return target
    return url_for(fallback)


def client_ip() -> str:
    return request.remote_addr or "unknown"
