"""Personal API tokens: created and revoked by their owner, stored as SHA-256, shown once.

Services take the session and the acting user, flush and never commit; the request commits.
A token is ``mbr_`` + 43 URL-safe characters (256 random bits), so a plain SHA-256 is enough:
there is nothing to brute-force that a slow hash would protect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from registry.accounts.models import Role, User, UserStatus
from registry.api.models import ApiToken
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.clock import utcnow
from registry.exceptions import Forbidden, NotFound, ValidationError

TOKEN_PREFIX = "mbr_"  # noqa: S105  (a marker for secret scanners, not a secret)
SHOWN_PREFIX_LENGTH = 12  # "mbr_" and 8 random characters: enough to tell tokens apart
MAX_ACTIVE_TOKENS = 20
# Writing last_used_at on every request would turn each read into a write; once a minute
# is precise enough for "is this token still in use?".
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
API_ROLES = frozenset({Role.EXPORTER, Role.OFFICER})
# A token lives as many days as its owner chose at creation: a forgotten token in some
# system's configuration stops working by itself (issue 16 §6).
LIFETIMES = (30, 90, 180, 365)
DEFAULT_LIFETIME = 90


class TokenState(StrEnum):
    """Where a token stands, as its owner's list says it."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class TokenExpired(Exception):
    """A token that was valid until ``expires_at``: told apart from an unknown one, so the
    system using it says "expired" to whoever looks after it."""

    def __init__(self, expires_at: dt.datetime) -> None:
        super().__init__(f"the token expired at {expires_at.isoformat()}")
        self.expires_at = expires_at


class Access(StrEnum):
    """What a token may do, as its owner chooses it: write includes read."""

    READ = "read"
    WRITE = "write"


# The scopes stored on a token (space-separated) for each access.
SCOPE_SETS: dict[str, str] = {Access.READ: "read", Access.WRITE: "read write"}


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to the user once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def scopes_of(token: ApiToken) -> frozenset[str]:
    return frozenset(token.scopes.split())


def access_of(token: ApiToken) -> Access:
    return Access.WRITE if Access.WRITE in scopes_of(token) else Access.READ


def state_of(token: ApiToken, now: dt.datetime | None = None) -> TokenState:
    if token.revoked_at is not None:
        return TokenState.REVOKED
    return TokenState.EXPIRED if token.expires_at <= (now or utcnow()) else TokenState.ACTIVE


def _snapshot(token: ApiToken) -> dict[str, object]:
    return {"name": token.name, "prefix": token.prefix, "scopes": token.scopes,
            "user_id": token.user_id, "expires_at": token.expires_at.isoformat()}


def list_tokens(session: Session, actor: User) -> list[ApiToken]:
    return list(session.exec(
        select(ApiToken).where(ApiToken.user_id == actor.id)
        .order_by(col(ApiToken.revoked_at).is_not(None), col(ApiToken.created_at).desc())
    ).all())


def create_token(session: Session, actor: User, *, name: str, access: str,
                 lifetime_days: int = DEFAULT_LIFETIME) -> NewToken:
    """A new token of ``actor``; ``access`` is "read" or "write" (write includes read); it
    expires after ``lifetime_days``, one of ``LIFETIMES``."""
    if actor.role not in API_ROLES:
        raise Forbidden("the API is for exporters and trade-office officers")
    problems: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        problems["name"] = "required"
    elif len(name) > 100:
        problems["name"] = "too_long"
    if access not in SCOPE_SETS:
        problems["access"] = "unknown"
    if lifetime_days not in LIFETIMES:
        problems["expires_in"] = "unknown"
    now = utcnow()
    # Expired tokens no longer count: they cannot call the API.
    active = [t for t in list_tokens(session, actor) if state_of(t, now) is TokenState.ACTIVE]
    if len(active) >= MAX_ACTIVE_TOKENS:
        problems["name"] = "too_many"
    if problems:
        raise ValidationError("invalid token", fields=problems)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, prefix=secret[:SHOWN_PREFIX_LENGTH],
                     token_hash=hash_secret(secret), scopes=SCOPE_SETS[access],
                     created_at=now, expires_at=now + dt.timedelta(days=lifetime_days))
    session.add(token)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Account.TOKEN_CREATE,
                 object_type="api_token",
                 object_id=token.id, after=_snapshot(token))
    return NewToken(token, secret)


def revoke_token(session: Session, actor: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound("no such token")
    if token.revoked_at is None:
        before = _snapshot(token)
        token.revoked_at = utcnow()
        session.add(token)
        session.flush()
        audit.record(session, actor=actor, action=EventTag.Account.TOKEN_REVOKE,
                     object_type="api_token",
                     object_id=token.id, before=before,
                     after={**_snapshot(token), "revoked": True})
    return token


def authenticate(session: Session, secret: str) -> tuple[User, ApiToken] | None:
    """The active user and live token behind ``secret``, or None (unknown, revoked, disabled).
    Raises ``TokenExpired`` for a token past its expiry that was otherwise good to use: an
    expired token is said to be expired only to whoever holds it (they sent its secret)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or user.status != UserStatus.ACTIVE or user.role not in API_ROLES:
        return None
    now = utcnow()
    if state_of(token, now) is TokenState.EXPIRED:
        raise TokenExpired(token.expires_at)
    last = token.last_used_at
    if last is None or now - last >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
        session.flush()
    return user, token
