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
from typing import Any

from sqlalchemy import Connection, bindparam, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from registry.accounts.models import Organisation
from registry.catalog.certification import Display, Status, display_status
from registry.catalog.models import Batch, Document
from registry.db.paging import Page, Window
from registry.reference import HUBS, PROVINCES, regencies
from registry.verify.lookup import DecisionRow, Facts, read_facts
from registry.verify.public import CertificatePublic, JourneyStep
from registry.verify.services import journey_of

# Statuses whose batches are public: an office decided on them.
PUBLIC = (Status.APPROVED, Status.SUSPENDED, Status.REVOKED)
# A product's page lists its lots this many at a time, newest first. A GTIN gets a lot a
# harvest, a catch or a shipment (years of daily lots for a fishery): listing them all made a
# public page's cost grow with the product's history, for anyone who asked.
LOTS_PER_PAGE = 50


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
    origins: list[str]  # of every decided lot, not only this page's
    lots: Page[LotRow]  # newest first, ``LOTS_PER_PAGE`` a page


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


def _origin(regency_code: str, province_code: str) -> str:
    regency = regencies().get(regency_code)
    name = regency.name if regency else regency_code
    return f"{name}, {PROVINCES.get(province_code, province_code)}"


def _row(batch: Any, today: dt.date) -> LotRow:
    """A lot's line, from a row holding ``_LOT_COLUMNS``."""
    return LotRow(batch_id=batch.id, lot=batch.lot_code,
                  status=display_status(Status(batch.status), batch.valid_until, today),
                  valid_until=batch.valid_until, production_date=batch.production_date,
                  quantity=batch.quantity, unit=batch.unit,
                  origin=_origin(batch.origin_regency_code, batch.origin_province_code))


# What the walk-up pages show: columns, not ORM entities, in statements built once. Public
# pages anyone may request at will; a product's lists every lot of its GTIN. Loading each lot
# as a whole Batch (some forty columns) and the exporter as an Organisation, in statements made
# anew on each request, was about a third of a product page's 2.6 ms of CPU in one process
# (bench/verify.py's million batches, 20 lots a GTIN; 1.9 ms now, README "Session 17").
_LOT_COLUMNS: tuple[Any, ...] = (
    col(Batch.id), col(Batch.lot_code), col(Batch.status), col(Batch.valid_until),
    col(Batch.production_date), col(Batch.quantity), col(Batch.unit),
    col(Batch.origin_regency_code), col(Batch.origin_province_code))
# And of the product, as a lot shows it.
_PRODUCT_COLUMNS: tuple[Any, ...] = (
    col(Batch.product_name_en), col(Batch.product_name_id), col(Batch.product_category),
    col(Batch.product_hs_code), col(Batch.product_description),
    col(Organisation.name).label("exporter"))
_NEWEST_FIRST = (col(Batch.production_date).desc(), col(Batch.id).desc())
_PUBLIC_OF_GTIN = (col(Batch.gtin) == bindparam("gtin"), col(Batch.status).in_(PUBLIC))
_WITH_EXPORTER = (Organisation, col(Organisation.id) == Batch.organisation_id)

# One page of lots, each row with the number of all of them (a window count: the database
# reads every decided lot of the GTIN anyway, to sort them).
_LOTS = (select_columns(*_LOT_COLUMNS, func.count().over().label("total"))
         .where(*_PUBLIC_OF_GTIN).order_by(*_NEWEST_FIRST)
         .limit(bindparam("limit")).offset(bindparam("offset")))
# Every decided lot's origin, with how many lots came from it: the product's origins and its
# number of lots, when not every lot is on the page.
_ORIGINS = (select_columns(col(Batch.origin_regency_code), col(Batch.origin_province_code),
                           func.count().label("lots"))
            .where(*_PUBLIC_OF_GTIN)
            .group_by(col(Batch.origin_regency_code), col(Batch.origin_province_code)))
# The product as its newest decided lot shows it: the first page's first lot, by its key; on
# later pages, found again.
_PRODUCT = (select_columns(*_PRODUCT_COLUMNS).outerjoin(*_WITH_EXPORTER)
            .where(col(Batch.id) == bindparam("batch_id")))
_NEWEST_PRODUCT = (select_columns(*_PRODUCT_COLUMNS).outerjoin(*_WITH_EXPORTER)
                   .where(*_PUBLIC_OF_GTIN).order_by(*_NEWEST_FIRST).limit(1))
_LOT = (select_columns(*_LOT_COLUMNS, *_PRODUCT_COLUMNS, col(Batch.producer),
                       col(Batch.best_before), col(Batch.hub), col(Batch.destination_country),
                       col(Batch.product_photo).is_not(None).label("has_photo"),
                       col(Batch.verify_facts))
        .outerjoin(*_WITH_EXPORTER)
        .where(*_PUBLIC_OF_GTIN, col(Batch.lot_code) == bindparam("lot"))
        .order_by(*_NEWEST_FIRST).limit(1))
_DOCUMENTS = (select_columns(col(Document.id), col(Document.kind), col(Document.original_name),
                             col(Document.number), col(Document.issuer),
                             col(Document.issued_on), col(Document.expires_on),
                             col(Document.form_type), col(Document.scheme))
              .where(col(Document.batch_id) == bindparam("batch_id"), col(Document.is_public))
              .order_by(col(Document.id)))


def _core(session: Session) -> Connection:
    """The session's connection, for the walk-up's statements: they select columns, never
    entities, so the ORM's execution (autoflush, loading, result processing) is cost without
    use; through the connection a lot's page took 1.47 ms of CPU instead of 1.68 and a
    product's 1.93 instead of 2.31 (test client, alternately 4 × 1,000 requests, best of
    each; bench/verify.py's million batches)."""
    return session.connection()


def product_public(session: Session, gtin: str, today: dt.date,
                   window: Window | None = None) -> ProductPublic | None:
    """The product a GTIN names, as its newest decided batch shows it, with one page of its
    decided lots (``window``, of ``LOTS_PER_PAGE``; the first by default); None when no
    decided batch carries it. A page past the last has no lots and pages back to the last."""
    window = window or Window(1, LOTS_PER_PAGE)
    db = _core(session)
    lots = db.execute(_LOTS, {"gtin": gtin, "limit": window.size,
                              "offset": window.offset}).all()
    first_page = window.offset == 0
    if first_page and lots and lots[0].total == len(lots):
        # Every lot is on this page (most products): their origins are here too.
        origins = {_origin(r.origin_regency_code, r.origin_province_code) for r in lots}
        total = len(lots)
    else:
        counted = db.execute(_ORIGINS, {"gtin": gtin}).all()
        if not counted:
            return None
        origins = {_origin(r.origin_regency_code, r.origin_province_code) for r in counted}
        total = sum(r.lots for r in counted)
    latest = (db.execute(_PRODUCT, {"batch_id": lots[0].id}).one() if first_page and lots
              else db.execute(_NEWEST_PRODUCT, {"gtin": gtin}).one())
    return ProductPublic(
        gtin=gtin, name_en=latest.product_name_en or "", name_id=latest.product_name_id or "",
        category=latest.product_category or "", hs_code=latest.product_hs_code or "",
        description=latest.product_description or "", exporter=latest.exporter or "",
        origins=sorted(origins),
        lots=Page(items=[_row(r, today) for r in lots], total=total, window=window))


def _journey(batch: Any, kept: Facts, approval: DecisionRow | None) -> list[JourneyStep]:
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
    db = _core(session)
    batch = db.execute(_LOT, {"gtin": gtin, "lot": lot}).first()
    if batch is None:
        return None
    # Decisions and confirmed shipments: the facts kept on the batch row (facts.py), one
    # truth with the labels' pages and three queries fewer. The documents are read for their
    # file names, which the facts do not keep.
    kept = read_facts(batch.verify_facts)
    approval = kept.latest("approve")
    documents = db.execute(_DOCUMENTS, {"batch_id": batch.id}).all()
    return LotPublic(
        journey=_journey(batch, kept, approval),
        gtin=gtin, lot=_row(batch, today), name_en=batch.product_name_en or "",
        name_id=batch.product_name_id or "", category=batch.product_category or "",
        hs_code=batch.product_hs_code or "", description=batch.product_description or "",
        exporter=batch.exporter or "", producer=batch.producer,
        origin_province=PROVINCES.get(batch.origin_province_code, ""),
        best_before=batch.best_before, hub=HUBS.get(batch.hub, batch.hub),
        destination_country=batch.destination_country, has_photo=bool(batch.has_photo),
        documents=[DocumentRow(d.id, d.kind, d.original_name, CertificatePublic.of(
            d.kind, d.number, d.issuer, d.issued_on, d.expires_on, d.form_type, d.scheme))
            for d in documents],
        certifying_office=approval.office if approval else None,
        certified_on=approval.day if approval else None)
