from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from registry.clock import utcnow
from registry.db.types import UTCDateTime


class Product(SQLModel, table=True):
    # Typed int as SQLAlchemy types a primary key (Mapped[int]): None only between
    # construction and the first flush.
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name_id: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    category: str = Field(max_length=32)
    hs_code: str = Field(max_length=6)
    # One GTIN, one product of one company: a unique index (0010), so parallel registrations
    # cannot both win. NULL (no GTIN: the product carries a registry number) many times.
    gtin: str | None = Field(default=None, max_length=14, index=True, unique=True)
    description: str = Field(default="", max_length=4000)
    photo_stored_name: str | None = Field(default=None, max_length=64)
    # The photo's SHA-256, checked on every read (0015). NULL for photos stored before
    # digests were kept: served unchecked until ``files import`` records it.
    photo_sha256: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )


class Batch(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("organisation_id", "lot_code", name="uq_batch_org_lot"),
        Index("ix_batch_status_origin", "status", "origin_province_code"),
        # A label names product and lot: one index probe finds its batch (0008).
        Index("ix_batch_product_lot", "product_id", "lot_code"),
        # An office's decided batches, latest decision first, a page at a time (0009).
        Index("ix_batch_origin_decided", "origin_province_code", "decided_at", "id"),
        # A label's GTIN and lot find its batch by the frozen GTIN (0010).
        Index("ix_batch_gtin_lot", "gtin", "lot_code"),
    )

    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    product_id: int = Field(foreign_key="product.id")
    lot_code: str = Field(max_length=20)
    quantity: Decimal = Field(sa_column=Column(Numeric(14, 3), nullable=False))
    unit: str = Field(max_length=8)
    production_date: dt.date = Field(sa_column=Column(Date, nullable=False))
    best_before: dt.date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    origin_regency_code: str = Field(max_length=5)
    # Denormalised from the regency so an officer's queue is one indexed lookup.
    origin_province_code: str = Field(max_length=2)
    producer: str = Field(max_length=200)
    hub: str = Field(max_length=32)
    destination_country: str = Field(max_length=2)
    # Up to MAX_VALUE_IDR (10**15): beyond a 32-bit INTEGER, which PostgreSQL refused (a 500).
    declared_value_idr: int = Field(ge=0, sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False, default="draft"))
    valid_until: dt.date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # Optimistic lock: every status change bumps it, so of two officers deciding at once
    # only the one whose UPDATE still sees the old version wins.
    version: int = Field(default=1)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )
    submitted_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    decided_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    # The product as the office reviewed it, frozen at submission (refreshed when a rejected
    # batch is submitted again): labels, the public page, figures and exports read these,
    # never the live product, which stays editable for batches registered later (0010).
    # NULL while the batch is a draft. ``gtin`` is what the labels carry: the company GTIN or
    # the registry-issued 0049... number.
    gtin: str | None = Field(default=None, max_length=14)
    product_name_id: str | None = Field(default=None, max_length=300)
    product_name_en: str | None = Field(default=None, max_length=300)
    product_category: str | None = Field(default=None, max_length=32)
    product_hs_code: str | None = Field(default=None, max_length=6)
    product_description: str | None = Field(default=None, max_length=4000)
    product_photo: str | None = Field(default=None, max_length=64)
    # The frozen photo's SHA-256 (0015); NULL as for ``Product.photo_sha256``.
    product_photo_sha256: str | None = Field(default=None, max_length=64)
    # What a scan shows besides these columns (latest decisions, public documents, confirmed
    # shipments, plots on record) as JSON text, kept by registry/verify/facts.py's flush hook
    # in the transaction that changes them (0033). Never set by a service.
    verify_facts: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """A product as one batch shows it: frozen on the batch once submitted, the live product
    before. Same attribute names as ``Product``, so pages and labels read either."""

    id: int
    organisation_id: int
    name_id: str
    name_en: str
    category: str
    hs_code: str
    gtin: str  # always set: the company GTIN or the registry number
    description: str
    photo_stored_name: str | None
    frozen: bool


class Document(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    kind: str = Field(max_length=32)
    original_name: str = Field(max_length=255)
    stored_name: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=64)
    size: int
    sha256: str = Field(max_length=64)
    is_public: bool = Field(default=False)
    uploaded_by: int = Field(foreign_key="user.id")
    uploaded_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )
    # A certificate's facts (issue 18 §2, migration 0026; ``certificates.rules``): NULL for
    # plain documents and for certificates uploaded as a scan alone. The scan stays the
    # document's file; the issuer's check page is derived from the kind, never stored.
    number: str | None = Field(default=None, max_length=64)
    issuer: str | None = Field(default=None, max_length=200)
    issued_on: dt.date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # Indexed: the expiry sweep looks for certificates expiring on a given day.
    expires_on: dt.date | None = Field(default=None,
                                       sa_column=Column(Date, nullable=True, index=True))
    form_type: str | None = Field(default=None, max_length=16)  # certificate of origin
    scheme: str | None = Field(default=None, max_length=16)  # organic
