from __future__ import annotations

import datetime as dt

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class ApiToken(SQLModel, table=True):
    """A personal API token. Only its SHA-256 is stored; the secret is shown once."""

    __tablename__ = "api_token"
    # Typed int as SQLAlchemy types a primary key (Mapped[int]): None only between
    # construction and the first flush.
    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=100)
    # The first characters of the token, shown in lists so a user can tell tokens apart.
    prefix: str = Field(max_length=12)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    scopes: str = Field(max_length=32)  # "read" or "read write"
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )
    last_used_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    # Chosen at creation (tokens.LIFETIMES); an expired token answers 401 "expired".
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
