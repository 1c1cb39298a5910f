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
    # The web log's filters (registry/audit/listing.py): its pages are newest first by seq, so
    # an action's or a person's index ends in seq and a page walks it backwards and stops after
    # fifty; an object has a handful of events, sorted at once; a time window's first and last
    # seq are read from (created_at, seq) alone (listing.window_seqs). Without them (before
    # migration 0034) each of these filters walked the whole trail: 0.75–1.2 s a page on
    # PostgreSQL and 1.6–4.9 s on SQLite at 3 M events.
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),
                      Index("ix_audit_event_action_seq", "action", "seq"),
                      Index("ix_audit_event_actor_label_seq", "actor_label", "seq"),
                      Index("ix_audit_event_created_seq", "created_at", "seq"))
    # Typed int as SQLAlchemy types a primary key (Mapped[int]): None only between
    # construction and the first flush.
    id: int = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor_id: int | None = Field(default=None, index=True)
    actor_label: str = Field(max_length=254)
    action: str = Field(max_length=64)
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
