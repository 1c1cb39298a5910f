"""Sign-in plumbing: password hashing, the user loader, role guards and safe redirects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, abort, current_app, has_app_context, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from registry.accounts.models import Role, User, UserStatus
from registry.db import get_session
from registry.web.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class PasswordHashing:
    """The Argon2 cost of new hashes (``PASSWORD_HASH_*`` settings); verifying reads the cost
    stored in each hash, so a change of cost leaves existing passwords valid."""

    hasher: PasswordHasher
    # A real hash, at the same cost, to verify against when the e-mail is unknown: the answer
    # takes as long as for a known one, so timing does not reveal accounts.
    dummy: str

    @classmethod
    def using(cls, hasher: PasswordHasher) -> PasswordHashing:
        return cls(hasher, hasher.hash("not-a-real-password-but-a-timing-shield"))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PasswordHashing:
        return cls.using(PasswordHasher(time_cost=config["PASSWORD_HASH_TIME_COST"],
                                        memory_cost=config["PASSWORD_HASH_MEMORY_KIB"],
                                        parallelism=config["PASSWORD_HASH_PARALLELISM"]))


@cache
def _default_hashing() -> PasswordHashing:
    return PasswordHashing.using(PasswordHasher())


def _hashing() -> PasswordHashing:
    # Services run in a request or a CLI command (the app's cost); code without an app (a
    # script, a test's fixture) hashes at argon2-cffi's defaults, the production cost.
    if has_app_context():
        return current_app.extensions["password_hashing"]
    return _default_hashing()


def hash_password(password: str) -> str:
    return _hashing().hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    hashing = _hashing()
    try:
        return hashing.hasher.verify(user.password_hash if user else hashing.dummy,
                                     password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


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
