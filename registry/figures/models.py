from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class ExportFile(SQLModel, table=True):
    """An XLSX of the figures' certified batches, written by the task queue's worker into the
    file store for the one user who asked (``registry.figures.exportfiles``).

    As for label files (``registry.printing.models.LabelFile``), the row is the truth about
    the job, not the queue: a worker claims it with a lease it renews as it reports progress,
    a worker killed mid-file stops renewing and the sweep hands the file to another, and only
    the lease holder may mark it ready. The filters and the language are kept so the worker
    writes exactly what was asked, and so an expired file can be asked for again."""

    __tablename__ = "export_file"
    __table_args__ = (Index("ix_export_file_state", "state", "lease_until"),)

    id: int = Field(default=None, primary_key=True)
    requested_by: int = Field(foreign_key="user.id", index=True)
    state: str = Field(default="queued", max_length=16)  # exportfiles.State
    lang: str = Field(max_length=8)
    from_month: dt.date
    to_month: dt.date
    province: str | None = Field(default=None, max_length=2)
    category: str | None = Field(default=None, max_length=40)
    destination: str | None = Field(default=None, max_length=2)
    # Rows the filters gave when the worker began (None until then) and rows written so far.
    rows_total: int | None = Field(default=None)
    rows_done: int = Field(default=0)
    attempts: int = Field(default=0)
    requested_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    started_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    lease_token: str | None = Field(default=None, max_length=64)
    lease_until: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    finished_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    expires_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    object_name: str | None = Field(default=None, max_length=128)
    size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    sha256: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=500)
    downloads: int = Field(default=0)
