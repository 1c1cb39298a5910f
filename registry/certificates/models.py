from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class CertificateRule(SQLModel, table=True):
    """Batches of ``category`` (to ``destination_country``, or anywhere when it is "") need a
    valid certificate of ``kind`` before an office may approve them. Set by administrators
    (audited); the defaults come with migration 0027. The destination is "" rather than NULL
    so the unique constraint also holds for rules that apply everywhere."""

    __tablename__ = "certificate_rule"
    __table_args__ = (UniqueConstraint("category", "destination_country", "kind",
                                       name="uq_certificate_rule"),)

    id: int = Field(default=None, primary_key=True)
    category: str = Field(max_length=32)
    destination_country: str = Field(default="", max_length=2)
    kind: str = Field(max_length=32)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))


class CertificateAlert(SQLModel, table=True):
    """An expiry alert sent for a certificate (a document) at a threshold (days ahead): the
    sweep that wins the INSERT of (document, days) tells the exporter and the office, in the
    same transaction, so each alert goes out once however many workers sweep."""

    __tablename__ = "certificate_alert"

    document_id: int = Field(foreign_key="document.id", primary_key=True)
    days: int = Field(primary_key=True)
    expires_on: dt.date
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow))
