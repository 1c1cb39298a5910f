from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Column, Numeric
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class Target(SQLModel, table=True):
    """A yearly target of a province (``province_code`` NULL: the whole region). ``key`` is
    ``rules.TargetSpec.key()``: one row per year, province, metric and dimensions, kept
    unique by the database so two offices saving at once cannot both create it."""

    id: int = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True)
    year: int = Field(index=True)
    province_code: str | None = Field(default=None, max_length=2)
    metric: str = Field(max_length=24)
    category: str | None = Field(default=None, max_length=32)
    hs_chapter: str | None = Field(default=None, max_length=2)
    unit: str | None = Field(default=None, max_length=8)
    destination_country: str | None = Field(default=None, max_length=2)
    amount: Decimal = Field(sa_column=Column(Numeric(24, 3), nullable=False))
    set_by_id: int = Field(foreign_key="user.id")
    set_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
