from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Numeric,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class SerialCounter(SQLModel, table=True):
    """Next free serial of a batch. Allocation is one ``UPDATE ... RETURNING`` on this row,
    which the database serialises, so concurrent orders get disjoint ranges."""

    __tablename__ = "serial_counter"
    batch_id: int = Field(foreign_key="batch.id", primary_key=True)
    next_serial: int = Field(default=1, sa_column=Column(BigInteger, nullable=False, default=1))


class PrintJob(SQLModel, table=True):
    """N labels of one approved batch on one stock, for one print shop.

    Serials ``serial_first..serial_last`` (inclusive) belong to this job alone; one row per job,
    never one per label."""

    __tablename__ = "print_job"
    __table_args__ = (
        CheckConstraint("serial_last >= serial_first", name="ck_print_job_range"),
        Index("ix_print_job_batch_range", "batch_id", "serial_first", "serial_last"),
        # Labels printed in a period, read from the index alone (figures, migration 0006).
        Index("ix_print_job_created", "created_at", "batch_id", "quantity"),
    )

    # Typed int as SQLAlchemy types a primary key (Mapped[int]): None only between
    # construction and the first flush.
    id: int = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    exporter_org_id: int = Field(foreign_key="organisation.id", index=True)
    printer_org_id: int = Field(foreign_key="organisation.id", index=True)
    stock: str = Field(max_length=40)
    quantity: int
    serial_first: int = Field(sa_column=Column(BigInteger, nullable=False))
    serial_last: int = Field(sa_column=Column(BigInteger, nullable=False))
    net_quantity: str = Field(max_length=16)
    ordered_by: int = Field(foreign_key="user.id")
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )
    downloads: int = Field(default=0)
    last_downloaded_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )


class Reprint(SQLModel, table=True):
    """A damaged sheet printed again: the same serials, recorded as a reprint."""

    id: int = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="print_job.id", index=True)
    sheet_first: int
    sheet_last: int
    reason: str = Field(default="", max_length=500)
    printed_by: int = Field(foreign_key="user.id")
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )


class LabelAllowance(SQLModel, table=True):
    """More net content than certified (plus tolerance) that an officer of the batch's
    province lets its labels claim, with the reason; the bound adds every grant."""

    __tablename__ = "label_allowance"
    __table_args__ = (CheckConstraint("amount > 0", name="ck_label_allowance_amount"),)

    id: int = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    amount: Decimal = Field(sa_column=Column(Numeric(14, 3), nullable=False))  # batch's unit
    reason: str = Field(max_length=500)
    granted_by: int = Field(foreign_key="user.id")
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )


class LabelFile(SQLModel, table=True):
    """A print job's labels rendered into one file (PDF, or ZPL at one resolution) by the task
    queue's worker, and kept in the file store for the print shop to download.

    The row is the truth about the render, not the queue: a worker claims it by writing its
    ``lease_token`` with ``lease_until`` and renews the lease as it reports progress; a worker
    killed mid-job stops renewing, and the next sweep hands the job to another worker. Only
    the holder of the current lease may mark the file ready, so a job completes once."""

    __tablename__ = "label_file"
    __table_args__ = (
        UniqueConstraint("job_id", "format", name="uq_label_file_job_format"),
        Index("ix_label_file_state", "state", "lease_until"),
    )

    id: int = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="print_job.id", index=True)
    format: str = Field(max_length=16)  # pdf, zpl-203, zpl-300, zpl-600
    state: str = Field(default="queued", max_length=16)  # registry.printing.jobfiles.State
    labels_total: int
    labels_done: int = Field(default=0)
    attempts: int = Field(default=0)
    requested_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    # Who asked for the file last (the print shop's user): told when it is ready. None when
    # the registry itself asked (a render sent again by the sweep keeps the asker).
    requested_by: int | None = Field(default=None, foreign_key="user.id")
    started_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    lease_token: str | None = Field(default=None, max_length=64)
    lease_until: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    finished_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    expires_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The finished file: its object in the store, size and digest (the download's ETag), and
    # the key that signed its labels (a file of a key revoked since is never served).
    object_name: str | None = Field(default=None, max_length=128)
    size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    sha256: str | None = Field(default=None, max_length=64)
    kid: str | None = Field(default=None, max_length=11)
    error: str | None = Field(default=None, max_length=500)
    downloads: int = Field(default=0)
