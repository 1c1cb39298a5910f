"""Resolving a label URI: signature, batch, printed range, status, scan signals, verdict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from registry.audit.tags import EventTag
from registry.catalog.certification import Display, Status, display_status
from registry.catalog.models import Batch, Document
from registry.clock import REGION_TZ
from registry.db.types import utc
from registry.gs1 import digital_link as gs1
from registry.reference import HUB_LOCODES, HUBS, PROVINCES, country_codes, locodes, regencies
from registry.signing.verifier import Verifier, VerifyStatus
from registry.verify import lookup
from registry.verify.attribution import BATCH_VERDICTS, Attribution
from registry.verify.attribution import NONE as NO_ATTRIBUTION
from registry.verify.models import FakeReport, Scan, told_possible_copy
from registry.verify.public import BatchPublic, CertificatePublic, DocumentPublic, JourneyStep
from registry.verify.rules import Facts, ScanStats, Signal, Thresholds, Verdict, decide


@dataclass
class Resolution:
    link: gs1.DigitalLink
    verdict: Verdict
    signals: list[Signal]
    signature: VerifyStatus
    batch: lookup.LabelRow | None = None
    public: BatchPublic | None = None
    stats: ScanStats = field(default_factory=ScanStats)


class Urls(Protocol):
    """Where the public page's photo and documents are served (the resolver's routes)."""

    def photo(self, batch_id: int) -> str: ...

    def document(self, document_id: int) -> str: ...


def public_facts(row: lookup.LabelRow, *, urls: Urls, today: dt.date) -> BatchPublic:
    regency = regencies().get(row.origin_regency_code)
    approval = row.facts.latest("approve")
    revoke = row.facts.latest("revoke")
    suspend = row.facts.latest("suspend")
    status = display_status(Status(row.status), row.valid_until, today)
    return BatchPublic(
        product_name=row.name_en, product_name_id=row.name_id, category=row.category,
        hs_code=row.hs_code, photo_url=urls.photo(row.batch_id) if row.has_photo else None,
        lot=row.lot, quantity=format(row.quantity.normalize(), "f"), unit=row.unit,
        production_date=row.production_date, best_before=row.best_before,
        origin_regency_code=row.origin_regency_code,
        origin_regency=regency.name if regency else row.origin_regency_code,
        origin_province=PROVINCES.get(row.origin_province_code, ""),
        producer=row.producer, hub=HUBS.get(row.hub, row.hub),
        destination_country=row.destination_country, exporter=row.exporter,
        certifying_office=approval.office if approval else None,
        certified_on=approval.day if approval else None,
        valid_until=row.valid_until, status=status.value,
        revocation_reason=revoke.reason if revoke and status is Display.REVOKED else None,
        suspension_reason=suspend.reason if suspend and status is Display.SUSPENDED else None,
        documents=[DocumentPublic(
            kind=d.kind, sha256=d.sha256, url=urls.document(d.id),
            certificate=CertificatePublic.of(d.kind, d.number, d.issuer, d.issued_on,
                                             d.expires_on, d.form_type, d.scheme))
            for d in row.facts.documents],
        journey=journey(row, regency.name if regency else row.origin_regency_code,
                        approval),
        plot_geolocation_on_record=row.facts.has_plots,
    )


def journey(row: lookup.LabelRow, regency: str,
            approval: lookup.DecisionRow | None) -> list[JourneyStep]:
    """Produced or harvested → certified → passed the Bali hub → shipped to, once per
    shipment the Bali office confirmed (only confirmed passages are told in public)."""
    return journey_of(
        production_date=row.production_date, regency_code=row.origin_regency_code,
        regency=regency, province=PROVINCES.get(row.origin_province_code, ""),
        certified=(approval.day, approval.office) if approval else None,
        shipments=row.facts.shipments, destination_country=row.destination_country)


def journey_of(*, production_date: dt.date, regency_code: str, regency: str, province: str,
               certified: tuple[dt.date, str | None] | None,
               shipments: list[lookup.ShipmentRow],
               destination_country: str) -> list[JourneyStep]:
    """The journey's steps from their facts (the label's lookup row, or the lot page's)."""
    steps = [JourneyStep("produced", date=production_date, regency_code=regency_code,
                         regency=regency, province=province)]
    if certified is not None:
        steps.append(JourneyStep("certified", date=certified[0], office=certified[1]))
    for shipment in shipments:
        place = locodes().get(shipment.destination_locode)
        steps += [
            JourneyStep("hub_passage", date=shipment.passage_date, hub=shipment.hub,
                        hub_name=HUBS.get(shipment.hub, shipment.hub),
                        locode=HUB_LOCODES.get(shipment.hub)),
            JourneyStep("shipped", locode=shipment.destination_locode,
                        port=place.name if place else shipment.destination_locode,
                        country=place.country if place else destination_country),
        ]
    return steps


@lru_cache(maxsize=4)
def hash_day_start(day: dt.date) -> dt.datetime:
    """When the client hashes of ``day`` began (they rotate at midnight, regional time)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=REGION_TZ).astimezone(dt.UTC)


def resolve(
    connection: Any, link: gs1.DigitalLink, *, verifier: Verifier, thresholds: Thresholds,
    now: dt.datetime, today: dt.date, client: str,
    pending_clients: Callable[[int, int], tuple[str, ...]], urls: Urls,
) -> Resolution:
    """The verdict on a label: signature first (no database for a forged code), then one
    lookup of batch, printed range and scans. ``connection`` is a DB-API connection."""
    checked = verifier.verify(link)
    signature = checked.status
    if signature is VerifyStatus.REVOKED_KEY and lookup.signed_before_revocation(connection,
                                                                                 link):
        # Signed by the registry before its key leaked: still its label (issue 12 §1).
        signature = VerifyStatus.VALID
    row = None
    if signature is VerifyStatus.VALID:
        since, day_start = now - thresholds.window, hash_day_start(today)
        row = lookup.find(connection, link, since=since, client=client, day_start=day_start)
        serial = link.serial_number
        if row is not None and serial is not None and (
                pending := pending_clients(row.batch_id, serial)):
            row = lookup.find(connection, link, since=since, client=client,
                              pending_clients=pending, day_start=day_start)
    printed = bool(row and row.printed)
    status = display_status(Status(row.status), row.valid_until, today) if row else None
    verdict, signals = decide(
        Facts(signature=signature.value, batch_found=row is not None, printed=printed,
              status=status, stats=row.stats if row and printed else ScanStats(),
              specimen=checked.specimen),
        thresholds,
    )
    public = public_facts(row, urls=urls, today=today) if row and printed else None
    return Resolution(link, verdict, signals, signature, row if printed else None, public,
                      row.stats if row and printed else ScanStats())


def scan_row(resolution: Resolution, *, now: dt.datetime, language: str, country: str | None,
             mobile: bool, client: str, country_source: str | None = None,
             attribution: Attribution = NO_ATTRIBUTION) -> dict[str, Any]:
    """One scan, every value bounded to its column here at the edge (issue 11: one value
    the database refuses must not stop the recording)."""
    link = resolution.link
    country = country if country in country_codes() else None
    return {
        "created_at": now,
        "batch_id": resolution.batch.batch_id if resolution.batch else None,
        "gtin": link.gtin[:14], "lot": link.lot[:20], "serial": link.serial[:20],
        "serial_number": link.serial_number, "verdict": resolution.verdict.value[:16],
        "language": language[:8], "country": country,
        "country_source": (country_source or "")[:8] or None if country else None,
        "mobile": bool(mobile), "client": client[:16], **attribution.as_row(),
    }


def needs_attribution(resolution: Resolution) -> bool:
    """Scans of a batch are attributed through it; every other answer (not genuine, or a
    verdict added later) carries its own attribution."""
    return resolution.batch is None or resolution.verdict.value not in BATCH_VERDICTS


def report_fake(session: Session, resolution: Resolution, *, message: str, contact: str | None,
                where_bought: str | None, language: str, client: str,
                attribution: Attribution = NO_ATTRIBUTION) -> FakeReport:
    """Store a buyer's report with its attribution (exporter and office, or the admins when
    the code names no known product) and its audit event, in the caller's transaction."""
    from registry.audit import services as audit

    link = resolution.link
    report = FakeReport(
        batch_id=resolution.batch.batch_id if resolution.batch else None, gtin=link.gtin,
        lot=link.lot[:20], serial=link.serial[:20], verdict=resolution.verdict.value[:16],
        message=message.strip()[:4000], contact=(contact or "").strip()[:254] or None,
        where_bought=(where_bought or "").strip()[:200] or None, language=language[:8],
        client=client[:16], **attribution.as_row(),
    )
    session.add(report)
    session.flush()
    audit.record(session, actor=None, action=EventTag.Fake.REPORT, object_type="batch",
                 object_id=report.batch_id,
                 after={"report_id": report.id, "serial": report.serial,
                        "verdict": report.verdict, "kind": report.kind,
                        "province": report.province_code,
                        "organisation_id": report.organisation_id})
    # Its exporter is told by the minute sweep, in a summary at most once a batch a day
    # (registry.notifications.services.fake_reports), not one mail a report.
    return report


# ---------------------------------------------------------------- for exporters and offices


@dataclass(frozen=True)
class SuspiciousSerial:
    serial: str
    scans: int
    copies: int  # scans whose buyer was told "possible copy"
    first_copy: dt.datetime


@dataclass(frozen=True)
class ScanSummary:
    count: int
    first: dt.datetime | None
    last: dt.datetime | None
    languages: list[tuple[str, int]]
    suspicious: list[SuspiciousSerial]
    reports: list[FakeReport]


def batch_scan_summary(session: Session, batch: Batch) -> ScanSummary:
    count, first, last = session.exec(
        select(func.count(), func.min(Scan.created_at), func.max(Scan.created_at))
        .where(Scan.batch_id == batch.id)
    ).one()
    languages = session.exec(
        select(Scan.language, func.count()).where(Scan.batch_id == batch.id)
        .group_by(Scan.language).order_by(func.count().desc())
    ).all()
    # The serials whose buyers were told "possible copy", from the verdict each scan recorded:
    # the same judgement, thresholds and daily client counting as the page, never a second
    # opinion computed differently here.
    copy = told_possible_copy()
    copies = func.sum(case((copy, 1), else_=0))
    suspicious = session.exec(
        select(Scan.serial, func.count(), copies, func.min(case((copy, Scan.created_at))))
        .where(Scan.batch_id == batch.id)
        .group_by(Scan.serial)
        .having(copies > 0)
        .order_by(copies.desc(), Scan.serial)
        .limit(50)
    ).all()
    reports = list(session.exec(
        select(FakeReport).where(FakeReport.batch_id == batch.id)
        .order_by(col(FakeReport.created_at).desc()).limit(50)
    ).all())
    return ScanSummary(count, first, last, [(lang, n) for lang, n in languages],
                       [SuspiciousSerial(s, int(n), int(c), utc(at))
                        for s, n, c, at in suspicious], reports)



def public_document(session: Session, document_id: int) -> Document | None:
    doc = session.get(Document, document_id)
    if doc is None or not doc.is_public:
        return None
    batch = session.get(Batch, doc.batch_id)
    # Evidence becomes public only with a certification decision on the batch.
    if batch is None or batch.status in (Status.DRAFT, Status.SUBMITTED, Status.REJECTED):
        return None
    return doc


def public_photo(session: Session, batch_id: int) -> tuple[str, str | None] | None:
    """The stored name and SHA-256 of the photo frozen with a batch, once the batch had a
    certification decision: the photo the office saw, whatever the product's photo is
    today."""
    batch = session.get(Batch, batch_id)
    if batch is None or batch.status not in (Status.APPROVED, Status.SUSPENDED,
                                             Status.REVOKED):
        return None
    if batch.product_photo is None:
        return None
    return batch.product_photo, batch.product_photo_sha256


