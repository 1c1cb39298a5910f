from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Column, Date, Numeric, Text
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class Plot(SQLModel, table=True):
    """One production plot of a batch: where and when its commodity was grown (EUDR art. 9).

    Personal data of a farmer: shown to the batch's exporter and the origin office, exported
    for the due-diligence statement, never on the public page (0029)."""

    id: int = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    kind: str = Field(max_length=8)  # point | polygon
    # GeoJSON geometry, WGS84 longitude/latitude (RFC 7946), as the exporter gave it.
    geometry: str = Field(sa_column=Column(Text, nullable=False))
    declared_ha: Decimal = Field(sa_column=Column(Numeric(12, 4), nullable=False))
    # A polygon's geodesic area when recorded (None for a point).
    measured_ha: Decimal | None = Field(default=None,
                                        sa_column=Column(Numeric(12, 4), nullable=True))
    production_place: str = Field(max_length=200)
    producer_name: str = Field(max_length=200)
    production_start: dt.date = Field(sa_column=Column(Date, nullable=False))
    production_end: dt.date = Field(sa_column=Column(Date, nullable=False))
    added_by: int = Field(foreign_key="user.id")
    added_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )
