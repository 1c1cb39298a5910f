"""What the public verification page and JSON may show: a whitelist, nothing else leaks."""

from __future__ import annotations

import datetime as dt

from sqlmodel import SQLModel


class DocumentPublic(SQLModel):
    kind: str
    url: str
    sha256: str


class BatchPublic(SQLModel):
    product_name: str
    product_name_id: str
    category: str
    hs_code: str
    photo_url: str | None
    lot: str
    quantity: str
    unit: str
    production_date: dt.date
    best_before: dt.date | None
    origin_regency_code: str
    origin_regency: str
    origin_province: str
    producer: str
    hub: str
    destination_country: str
    exporter: str
    certifying_office: str | None
    certified_on: dt.date | None
    valid_until: dt.date | None
    status: str
    revocation_reason: str | None
    suspension_reason: str | None
    documents: list[DocumentPublic]
