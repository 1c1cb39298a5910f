"""The audit trail's tables: the events, the head the appends go through, and the signed
checkpoints. The chain's rules and the appends are in ``registry.audit.services``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from registry.db.types import UTCDateTime

GENESIS = "0" * 64


class AuditHead(SQLModel, table=True):
    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0)
    last_hash: str = Field(default=GENESIS, max_length=64)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    # The web log's filter by object, and the join that limits an officer to the province.
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)
    # Typed int as SQLAlchemy types a primary key (Mapped[int]): None only between
    # construction and the first flush.
    id: int = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor_id: int | None = Field(default=None, index=True)
    actor_label: str = Field(max_length=254)
    action: str = Field(max_length=64, index=True)
    object_type: str = Field(max_length=32)
    object_id: str | None = Field(default=None, max_length=64)
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A signed checkpoint of the log: its first ``size`` events end in ``head_hash``. The note
    is what the registry publishes and offices keep; one checkpoint per size."""

    __tablename__ = "audit_checkpoint"
    id: int = Field(default=None, primary_key=True)
    size: int = Field(unique=True, index=True)
    head_hash: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
