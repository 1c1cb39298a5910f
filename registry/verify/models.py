from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, ColumnElement, Index, Text, literal, text
from sqlmodel import Field, SQLModel, col

from registry.clock import utcnow
from registry.db.types import UTCDateTime
from registry.verify.rules import Verdict

# The partial indexes' conditions. A query uses such an index only when its own condition
# says the same: ``told_possible_copy()`` writes the verdict into the SQL text, since with a
# bound parameter PostgreSQL's generic plans cannot use the index.
UNBATCHED = "batch_id IS NULL"
TOLD_COPY = f"verdict = '{Verdict.POSSIBLE_COPY.value}'"


class Scan(SQLModel, table=True):
    """One resolution of a label URI. No raw IP: ``client`` is an HMAC of the address and
    user agent under a key that changes every day, so one client is countable within a day
    and untraceable across days."""

    __table_args__ = (
        # A serial's scan counts from the index alone, on every verification (lookup.py, 0008).
        Index("ix_scan_serial_seen", "batch_id", "serial_number", "created_at", "client"),
        # Scans of a period by verdict, country (and its source) and language from the index
        # alone, with what the office and company filters ask of unbatched scans (figures,
        # 0006; widened in 0012).
        Index("ix_scan_figures", "created_at", "verdict", "country", "country_source",
              "language", "batch_id", "province_code", "organisation_id"),
        # The suspicious-activity desk: a province's or a company's (or nobody's) scans that
        # belong to no batch, newest first (0012). Partial (0035): nearly every scan has a
        # batch and no attribution of its own, and the administrators' desk asks for
        # ``province_code IS NULL``, which a full index holds for every one of them (3.4 s at
        # 1 M scans on SQLite).
        Index("ix_scan_desk_province", "province_code", "created_at",
              sqlite_where=text(UNBATCHED), postgresql_where=text(UNBATCHED)),
        Index("ix_scan_desk_organisation", "organisation_id", "created_at",
              sqlite_where=text(UNBATCHED), postgresql_where=text(UNBATCHED)),
        # And every desk's at once (the administrators' "everything"), by time: the desk looks
        # back a period (0036). Covering for its grouping by product and kind. It leads with
        # batch_id, NULL in every entry, because SQLite's planner takes an equality over a
        # range: led by the time, it lost to ix_scan_serial_seen's ``batch_id IS NULL``,
        # which reads every unbatched scan of all time.
        Index("ix_scan_unbatched", "batch_id", "created_at", "product_id", "kind",
              sqlite_where=text(UNBATCHED), postgresql_where=text(UNBATCHED)),
        # The "possible copy" answers, for the desk, the office's digest and the sweep's
        # signals (0035; an index on every scan's verdict before). Covering: the desk's
        # grouping and countries come from the index alone.
        Index("ix_scan_copies", "verdict", "created_at", "batch_id", "serial", "country",
              "country_source", sqlite_where=text(TOLD_COPY), postgresql_where=text(TOLD_COPY)),
    )

    # Typed int as SQLAlchemy types a primary key (Mapped[int]): None only between
    # construction and the first flush.
    id: int = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )
    batch_id: int | None = Field(default=None, foreign_key="batch.id")
    gtin: str = Field(max_length=14)
    lot: str = Field(max_length=20)
    serial: str = Field(max_length=20)
    serial_number: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    verdict: str = Field(max_length=16)
    language: str = Field(max_length=8)
    # Coarse facts only: an ISO 3166 alpha-2 country, from a country header set by a trusted
    # proxy or CDN ("header": the reader's country) or else the region of the reader's
    # preferred language ("language": a language region, not a location), and whether the
    # client looked like a phone.
    country: str | None = Field(default=None, max_length=2)
    country_source: str | None = Field(default=None, max_length=8)
    mobile: bool = Field(default=False)
    client: str = Field(max_length=16)
    # Who must see a scan that belongs to no batch (a not-genuine answer), when the code names
    # a product the registry knows: its exporter and the origin province's office (the
    # batch's when the lot is known, else the exporter's province). Scans of a batch are
    # attributed through the batch; all four stay empty for them. ``kind``: an
    # ``attribution.Kind`` (bad signature, never printed, unknown lot, ...).
    product_id: int | None = Field(default=None, foreign_key="product.id")
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    province_code: str | None = Field(default=None, max_length=2)
    kind: str | None = Field(default=None, max_length=16)


class FakeReport(SQLModel, table=True):
    """A buyer's report of a suspected fake, for the exporter and the trade office: always
    attributed (product, exporter, office's province) when the code names a known product,
    else to the administrators; a desk user marks it handled with a note."""

    __tablename__ = "fake_report"
    __table_args__ = (
        Index("ix_fake_report_desk_province", "province_code", "created_at"),
        Index("ix_fake_report_desk_organisation", "organisation_id", "created_at"),
    )
    id: int = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False, default=utcnow)
    )
    batch_id: int | None = Field(default=None, foreign_key="batch.id", index=True)
    gtin: str = Field(max_length=14)
    lot: str = Field(max_length=20)
    serial: str = Field(max_length=20)
    verdict: str = Field(max_length=16)
    message: str = Field(sa_column=Column(Text, nullable=False))
    contact: str | None = Field(default=None, max_length=254)
    where_bought: str | None = Field(default=None, max_length=200)
    language: str = Field(max_length=8)
    client: str = Field(max_length=16)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    province_code: str | None = Field(default=None, max_length=2)
    kind: str | None = Field(default=None, max_length=16)
    handled_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True))
    handled_by_id: int | None = Field(default=None, foreign_key="user.id")
    handled_note: str | None = Field(default=None, max_length=2000)
    # When the minute sweep dealt with it: told its exporter in the day's summary of the
    # batch (at most one mail a batch a day), or found nobody to tell. NULL until then.
    notified_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True, index=True))


def told_possible_copy() -> ColumnElement[bool]:
    """Scans whose reader was told "possible copy" (the verdict each scan recorded)."""
    return col(Scan.verdict) == literal(Verdict.POSSIBLE_COPY.value, literal_execute=True)
