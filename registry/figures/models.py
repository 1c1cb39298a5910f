"""The figures' tables: the summary cells and the XLSX export jobs.

The summary table (issue 17 §2): the dashboard's GROUP BYs kept up to date by the
decisions that change them, so any period of a million batches answers in well under a second.

One table of grouping sets rather than one cube: the registry's dimensions (regency, month,
category, destination, status ...) are close to independent, so a cube of all of them is as
large as the batches. Each row is one cell of one figure (``kind``) at one filter level:
``org`` (the exporter), ``category`` and ``destination`` hold a value or ``'*'`` (rolled
up), so a dashboard reads the rows of exactly its level, through the primary key, and adds up
months and provinces.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Index, String, Text
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime

ALL = "*"  # a filter column rolled up


class FigureCell(SQLModel, table=True):
    __tablename__ = "figure_cell"
    # The primary key is the cell's identity and the dashboard's access path (kind, level,
    # month range, province); SQLite keeps the rows in it (WITHOUT ROWID), so a range read
    # touches no second structure.
    __table_args__ = {"sqlite_with_rowid": False}

    kind: str = Field(sa_column=Column(String(4), primary_key=True))
    # The exporter's organisation id, or '*' for every company: an exporter's dashboard
    # reads its own company's cells (0026), an office's and the admin's the '*' ones.
    org: str = Field(sa_column=Column(String(12), primary_key=True))
    category: str = Field(sa_column=Column(String(32), primary_key=True))
    destination: str = Field(sa_column=Column(String(2), primary_key=True))
    month: str = Field(sa_column=Column(String(7), primary_key=True))  # 'YYYY-MM', WITA
    province: str = Field(sa_column=Column(String(2), primary_key=True))
    # The figure's own keys ('' when unused): see ``registry.figures.summary.KINDS``.
    k1: str = Field(sa_column=Column(String(64), primary_key=True))
    k2: str = Field(sa_column=Column(String(32), primary_key=True))
    k3: str = Field(sa_column=Column(String(16), primary_key=True))
    unit: str = Field(sa_column=Column(String(8), primary_key=True))
    batches: int = Field(sa_column=Column(BigInteger, nullable=False))
    value_idr: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Thousandths of the normalised unit: integers add up exactly on both databases (SQLite
    # has no decimal type) and subtract back to zero when a batch changes status.
    quantity_milli: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Rejection reasons ("rr"): the reason as last written, and when, of the cell's group.
    shown: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    shown_at: dt.datetime | None = Field(default=None,
                                         sa_column=Column(UTCDateTime, nullable=True))


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
