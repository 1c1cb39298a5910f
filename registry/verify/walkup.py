"""The walk-up pages: what the registry says in public about a GTIN (its product) and about a
lot, without a label's serial. The resolver's default link for ``/01/{gtin}`` and
``/01/{gtin}/10/{lot}`` points here.

Only batches an office decided on appear (approved, and later suspended, revoked or expired):
a draft, a batch under review or a rejected one is nobody's business but its exporter's. The
facts are those frozen at submission, as on labels and the verification page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from registry.accounts.models import Organisation
from registry.catalog.certification import Display, Status, display_status
from registry.catalog.models import Batch, Document
from registry.reference import HUBS, PROVINCES, regencies
from registry.verify.lookup import DecisionRow, Facts, read_facts
from registry.verify.public import CertificatePublic, JourneyStep
from registry.verify.services import journey_of

# Statuses whose batches are public: an office decided on them.
PUBLIC = (Status.APPROVED, Status.SUSPENDED, Status.REVOKED)


@dataclass(frozen=True)
class LotRow:
    batch_id: int
    lot: str
    status: Display
    valid_until: dt.date | None
    production_date: dt.date
    quantity: Decimal
    unit: str
    origin: str


@dataclass(frozen=True)
class ProductPublic:
    gtin: str
    name_en: str
    name_id: str
    category: str
    hs_code: str
    description: str
    exporter: str
    origins: list[str]
    lots: list[LotRow]


@dataclass(frozen=True)
class DocumentRow:
    id: int
    kind: str
    name: str
    certificate: CertificatePublic | None = None


@dataclass(frozen=True)
class LotPublic:
    gtin: str
    lot: LotRow
    name_en: str
    name_id: str
    category: str
    hs_code: str
    description: str
    exporter: str
    producer: str
    origin_province: str
    best_before: dt.date | None
    hub: str
    destination_country: str
    has_photo: bool
    documents: list[DocumentRow]
    journey: list[JourneyStep]
    # The approval the claims were "checked" in: its office and WITA day (None: never).
    certifying_office: str | None = None
    certified_on: dt.date | None = None


def _origin(batch: Batch) -> str:
    regency = regencies().get(batch.origin_regency_code)
    name = regency.name if regency else batch.origin_regency_code
    return f"{name}, {PROVINCES.get(batch.origin_province_code, batch.origin_province_code)}"


def _row(batch: Batch, today: dt.date) -> LotRow:
    return LotRow(batch_id=batch.id, lot=batch.lot_code,
                  status=display_status(Status(batch.status), batch.valid_until, today),
                  valid_until=batch.valid_until, production_date=batch.production_date,
                  quantity=batch.quantity, unit=batch.unit,
                  origin=_origin(batch))


def _public_batches(session: Session, gtin: str, lot: str | None = None) -> list[Batch]:
    query = select(Batch).where(Batch.gtin == gtin, col(Batch.status).in_(PUBLIC))
    if lot is not None:
        query = query.where(Batch.lot_code == lot)
    return list(session.exec(query.order_by(col(Batch.production_date).desc(),
                                            col(Batch.id).desc())).all())


def _exporter(session: Session, organisation_id: int) -> str:
    org = session.get(Organisation, organisation_id)
    return org.name if org else ""


def product_public(session: Session, gtin: str, today: dt.date) -> ProductPublic | None:
    """The product a GTIN names, as its latest decided batch shows it, with every decided
    lot; None when no decided batch carries it."""
    batches = _public_batches(session, gtin)
    if not batches:
        return None
    latest = batches[0]
    origins = sorted({_origin(b) for b in batches})
    return ProductPublic(
        gtin=gtin, name_en=latest.product_name_en or "", name_id=latest.product_name_id or "",
        category=latest.product_category or "", hs_code=latest.product_hs_code or "",
        description=latest.product_description or "",
        exporter=_exporter(session, latest.organisation_id), origins=origins,
        lots=[_row(b, today) for b in batches])


def _journey(batch: Batch, kept: Facts, approval: DecisionRow | None) -> list[JourneyStep]:
    """The lot's journey, as its labels' pages tell it (``services.journey_of``), from the
    facts kept on its row, which the labels' pages read too."""
    regency = regencies().get(batch.origin_regency_code)
    return journey_of(
        production_date=batch.production_date, regency_code=batch.origin_regency_code,
        regency=regency.name if regency else batch.origin_regency_code,
        province=PROVINCES.get(batch.origin_province_code, ""),
        certified=(approval.day, approval.office) if approval else None,
        shipments=kept.shipments, destination_country=batch.destination_country)


def lot_public(session: Session, gtin: str, lot: str, today: dt.date) -> LotPublic | None:
    """A decided lot of a GTIN, with its public documents; None when there is none."""
    batches = _public_batches(session, gtin, lot)
    if not batches:
        return None
    batch = batches[0]
    # Decisions and confirmed shipments: the facts kept on the batch row (facts.py), one
    # truth with the labels' pages and three queries fewer. The documents are read for their
    # file names, which the facts do not keep.
    kept = read_facts(batch.verify_facts)
    approval = kept.latest("approve")
    documents = session.exec(
        select(Document).where(Document.batch_id == batch.id, col(Document.is_public))
        .order_by(col(Document.id))).all()
    return LotPublic(
        journey=_journey(batch, kept, approval),
        gtin=gtin, lot=_row(batch, today), name_en=batch.product_name_en or "",
        name_id=batch.product_name_id or "", category=batch.product_category or "",
        hs_code=batch.product_hs_code or "", description=batch.product_description or "",
        exporter=_exporter(session, batch.organisation_id), producer=batch.producer,
        origin_province=PROVINCES.get(batch.origin_province_code, ""),
        best_before=batch.best_before, hub=HUBS.get(batch.hub, batch.hub),
        destination_country=batch.destination_country,
        has_photo=batch.product_photo is not None,
        documents=[DocumentRow(d.id or 0, d.kind, d.original_name, CertificatePublic.of(
            d.kind, d.number, d.issuer, d.issued_on, d.expires_on, d.form_type, d.scheme))
            for d in documents],
        certifying_office=approval.office if approval else None,
        certified_on=approval.day if approval else None)
