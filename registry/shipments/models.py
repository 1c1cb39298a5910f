from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Column, Date, Index, Numeric, String
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class Shipment(SQLModel, table=True):
    """One shipment of a certified batch through a Bali hub: declared by the exporter, then
    confirmed (the goods passed the hub) or refused by the Bali trade office, or cancelled by
    the exporter while declared. A batch may leave in several shipments."""

    __table_args__ = (
        # The Bali office's queue: declared shipments, oldest first (0028).
        Index("ix_shipment_status_declared", "status", "declared_at"),
        # The hub figures: confirmed passages by hub and day.
        Index("ix_shipment_hub_passage", "hub", "passage_date"),
    )

    id: int = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    hub: str = Field(max_length=32)
    planned_date: dt.date = Field(sa_column=Column(Date, nullable=False))
    peb_number: str = Field(max_length=6)
    peb_date: dt.date = Field(sa_column=Column(Date, nullable=False))
    # A bill of lading (sea) or an air waybill "NNN-NNNNNNNN" (air), as normalised.
    transport_document: str = Field(max_length=35)
    # ISO 6346 numbers, space-separated (none by air).
    containers: str = Field(default="", max_length=700)
    destination_locode: str = Field(max_length=5)
    quantity: Decimal = Field(sa_column=Column(Numeric(14, 3), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False, default="declared"))
    declared_by: int = Field(foreign_key="user.id")
    declared_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The day the goods passed the hub (WITA), as the officer recorded it.
    passage_date: dt.date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    remarks: str = Field(default="", max_length=1000)
    refusal_reason: str | None = Field(default=None, max_length=1000)

    @property
    def container_list(self) -> list[str]:
        return self.containers.split()
