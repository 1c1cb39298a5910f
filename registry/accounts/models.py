from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class OrgKind(StrEnum):
    EXPORTER = "exporter"
    PRINTER = "printer"
    TRADE_OFFICE = "trade_office"
    ADMIN = "admin"


class Role(StrEnum):
    EXPORTER = "exporter"
    OFFICER = "officer"
    PRINTER = "printer"
    ADMIN = "admin"


ROLE_ORG_KIND: dict[Role, OrgKind] = {
    Role.EXPORTER: OrgKind.EXPORTER,
    Role.OFFICER: OrgKind.TRADE_OFFICE,
    Role.PRINTER: OrgKind.PRINTER,
    Role.ADMIN: OrgKind.ADMIN,
}


class UserStatus(StrEnum):
    PENDING = "pending"  # exporter signed up, waits for an officer or admin
    ACTIVE = "active"
    DISABLED = "disabled"
    # A trade office or the administrators declined the sign-up (with a reason, told to the
    # applicant): the account never signs in, and its e-mail address is free for a new sign-up
    # (``ix_user_email`` holds only accounts that are not declined).
    DECLINED = "declined"


# Where an e-mail address must be unique: among the accounts that are not declined.
LIVE_ACCOUNT = text("status <> 'declined'")


def _ts() -> Column:
    return Column(UTCDateTime, nullable=False, default=utcnow)


class Organisation(SQLModel, table=True):
    # Typed int as SQLAlchemy types a primary key (Mapped[int]): None only between
    # construction and the first flush.
    id: int = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    name: str = Field(max_length=200)
    nib: str | None = Field(default=None, max_length=13, unique=True)
    province_code: str | None = Field(default=None, max_length=2, index=True)
    address: str = Field(default="", max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())


class User(SQLModel, table=True):
    __table_args__ = (Index("ix_user_email", "email", unique=True, sqlite_where=LIVE_ACCOUNT,
                            postgresql_where=LIVE_ACCOUNT),)

    id: int = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    role: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False, default="pending"))
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    # Part of the login session id: rotating it on logout or password change ends every
    # session that was issued before, even though Flask's session is a signed cookie.
    session_nonce: str = Field(default_factory=lambda: secrets.token_urlsafe(16), max_length=32)
    locale: str | None = Field(default=None, max_length=8)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_login_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"


class SecondFactor(SQLModel, table=True):
    """A user's TOTP authenticator (RFC 6238, 30-second steps, six digits).

    The seed is sealed under the key-encryption key (registry.signing.kek), bound to the user.
    ``enrolled_at`` is None while the user has scanned but not yet confirmed a code: such a
    row does not count. ``last_step`` is the time step of the last code accepted: a code of
    that step or an earlier one is refused, so a code is good once, on every server."""

    __tablename__ = "second_factor"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user.id"), primary_key=True))
    secret: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    kek_id: str = Field(max_length=16)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())
    enrolled_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class RecoveryCode(SQLModel, table=True):
    """One of the ten single-use codes given at enrolment, kept as its SHA-256 (the codes are
    random, 80 bits: a slow hash would add nothing)."""

    __tablename__ = "recovery_code"

    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class PasswordResetRequest(SQLModel, table=True):
    """A "forgot password" request waiting to be turned into a mail (issue 16 §2).

    Written in the request's own transaction for every address typed, known or not, so the
    answer does the same work either way and says nothing; the queue task sent after the
    commit (or, when the queue did not answer, the worker's minute sweep) deletes the row and,
    in the same transaction, writes the reset mail if an account may use it. So a request is
    never lost to a queue outage, and what a stranger typed is kept only until then (a
    minute while the worker runs)."""

    __tablename__ = "password_reset_request"

    id: int = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)  # normalised (registry.accounts.services)
    locale: str | None = Field(default=None, max_length=8)  # the page's: the mail's fallback
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_ts())
