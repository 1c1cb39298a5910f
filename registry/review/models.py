from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Date, Index, Text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class Decision(SQLModel, table=True):
    # The figures read a period's approvals as one range of this index (migration 0006).
    __table_args__ = (Index("ix_decision_action_created", "action", "created_at", "batch_id"),)

    # Typed int as SQLAlchemy types a primary key (Mapped[int]): None only between
    # construction and the first flush.
    id: int = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    officer_id: int = Field(foreign_key="user.id")
    office_id: int = Field(foreign_key="organisation.id")
    action: str = Field(max_length=16)
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    valid_until: dt.date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )


def of_batch(batch_id: int, action: str) -> ColumnElement[bool]:
    """The condition for one batch's decisions of ``action``. The action is compared as
    ``action || ''`` so that SQLite finds them through the batch's index: with a bare
    ``action =`` and an ``ORDER BY created_at`` it took the figures' (action, created_at)
    index and walked every approval in the registry (a lot's walk-up page: 100–1,400 ms on
    the benchmark's million batches, against a few ms)."""
    return (col(Decision.batch_id) == batch_id) & ((col(Decision.action) + "") == action)
