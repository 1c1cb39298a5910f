from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class Mail(SQLModel, table=True):
    """One mail to one recipient: written in the transaction of what it reports, sent after.

    The row, not the queue, is the truth about delivery (as ``label_file`` is for renders): a
    sender claims it with ``lease_until``; a sender killed mid-send leaves the lease to run out,
    and the next sweep sends it again (a mail may then arrive twice, never not at all). Once
    sent, ``params`` (which may hold a reset link) are cleared: the row stays as the record of
    what was sent to whom and when."""

    __tablename__ = "mail"
    __table_args__ = (Index("ix_mail_due", "state", "next_attempt_at"),)

    id: int = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # registry.mail.kinds.MailKind
    to_address: str = Field(max_length=254)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    locale: str = Field(max_length=8)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="queued", max_length=16)  # registry.mail.kinds.MailState
    attempts: int = Field(default=0)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    next_attempt_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    lease_until: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    sent_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    error: str | None = Field(default=None, max_length=500)


class MailOptOut(SQLModel, table=True):
    """A kind of notification a user switched off (security mails cannot be: the sender
    never asks for them). A row per (user, kind): no row, the mail is sent."""

    __tablename__ = "mail_opt_out"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    kind: str = Field(max_length=40, primary_key=True)  # registry.mail.kinds.MailKind
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))


class MailOnce(SQLModel, table=True):
    """A notification that goes out at most once a day for one thing (a province's digest, a
    batch's possible copies): the sweep that wins the INSERT of (kind, scope, day) sends it,
    in the same transaction, so two workers or two servers never both do, and a sweep that
    dies before its commit leaves the day to the next one. ``created_at`` of the previous
    day's row is where the next digest's news begin."""

    __tablename__ = "mail_once"

    kind: str = Field(max_length=40, primary_key=True)  # registry.mail.kinds.MailKind
    scope: str = Field(max_length=40, primary_key=True)  # "province:52", "batch:17"
    day: dt.date = Field(primary_key=True)  # in WITA
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
