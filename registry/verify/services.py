"""Resolving a label URI: signature, batch, printed range, status, scan signals, verdict."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, literal
from sqlmodel import Session, select

from registry import gs1
from registry.accounts.models import Organisation
from registry.catalog.models import Batch, Document, Product
from registry.certification import Display, Status, display_status
from registry.printing.models import PrintJob
from registry.reference import HUBS, PROVINCES, regencies
from registry.review.models import Decision
from registry.signing import VerifyStatus, verify_uri
from registry.verify.models import FakeReport, Scan
from registry.verify.public import BatchPublic, DocumentPublic
from registry.verify.rules import Facts, ScanStats, Signal, Thresholds, Verdict, decide


@dataclass
class Resolution:
    link: gs1.DigitalLink
    verdict: Verdict
    signals: list[Signal]
    signature: VerifyStatus
    batch: Batch | None = None
    public: BatchPublic | None = None
    stats: ScanStats = field(default_factory=ScanStats)


def find_batch(session: Session, link: gs1.DigitalLink) -> tuple[Batch, Product] | None:
    if gs1.is_registry_gtin(link.gtin):
        product = session.get(Product, int(link.gtin[4:13]))
        if product is not None and product.gtin:
            product = None  # a product with a real GTIN is never labelled with ours
    else:
        product = session.exec(
            select(Product).where(Product.gtin == link.gtin).limit(1)).first()
    if product is None:
        return None
    batch = session.exec(
        select(Batch).where(Batch.product_id == product.id, Batch.lot_code == link.lot).limit(1)
    ).first()
    return (batch, product) if batch is not None else None


def was_printed(session: Session, batch_id: int, serial: int | None) -> bool:
    if serial is None:
        return False
    return session.exec(
        select(PrintJob.id).where(
            PrintJob.batch_id == batch_id,
            PrintJob.serial_first <= serial,
            PrintJob.serial_last >= serial,
        ).limit(1)
    ).first() is not None


def scan_stats(
    session: Session, batch_id: int, serial: int, *, since: dt.datetime,
    pending: Sequence[dict[str, Any]] = (), client: str | None = None,
) -> ScanStats:
    """Scans of one serial so far (written and still buffered), counting this one too.

    One statement: on PostgreSQL every round trip costs more than the counting itself."""
    extra = {row["client"] for row in pending} | ({client} if client else set())
    seen_extra = (
        func.count(func.distinct(case((Scan.client.in_(extra), Scan.client))))  # type: ignore[attr-defined]
        if extra else literal(0)
    )
    total, clients, recent, seen = session.exec(
        select(func.count(), func.count(func.distinct(Scan.client)),
               func.coalesce(func.sum(case((Scan.created_at >= since, 1), else_=0)), 0),
               seen_extra)
        .where(Scan.batch_id == batch_id, Scan.serial_number == serial)
    ).one()
    this = 1 if client else 0
    return ScanStats(total=total + len(pending) + this,
                     distinct_clients=clients + len(extra) - seen,
                     in_window=recent + len(pending) + this)


def _latest_decisions(session: Session, batch_id: int) -> dict[str, Decision]:
    """The latest decision of each kind, in one query on the batch's own few decisions
    (asking per action let SQLite walk the figures' action index over every approval)."""
    latest: dict[str, Decision] = {}
    for decision in session.exec(
        select(Decision).where(Decision.batch_id == batch_id)
        .order_by(Decision.created_at, Decision.id)  # type: ignore[arg-type]
    ).all():
        latest[decision.action] = decision
    return latest


def public_facts(session: Session, batch: Batch, product: Product, *,
                 url_for: Callable[..., str], today: dt.date) -> BatchPublic:
    regency = regencies().get(batch.origin_regency_code)
    exporter = session.get(Organisation, batch.organisation_id)
    decisions = _latest_decisions(session, batch.id)
    approval = decisions.get("approve")
    office = session.get(Organisation, approval.office_id) if approval else None
    revoke = decisions.get("revoke")
    suspend = decisions.get("suspend")
    status = display_status(Status(batch.status), batch.valid_until, today)
    documents = session.exec(
        select(Document).where(Document.batch_id == batch.id, Document.is_public == True)  # noqa: E712
        .order_by(Document.uploaded_at)
    ).all()
    return BatchPublic(
        product_name=product.name_en, product_name_id=product.name_id, category=product.category,
        hs_code=product.hs_code,
        photo_url=url_for("verify.photo", product_id=product.id)
        if product.photo_stored_name else None,
        lot=batch.lot_code, quantity=format(batch.quantity.normalize(), "f"), unit=batch.unit,
        production_date=batch.production_date, best_before=batch.best_before,
        origin_regency_code=batch.origin_regency_code,
        origin_regency=regency.name if regency else batch.origin_regency_code,
        origin_province=PROVINCES.get(batch.origin_province_code, ""),
        producer=batch.producer, hub=HUBS.get(batch.hub, batch.hub),
        destination_country=batch.destination_country,
        exporter=exporter.name if exporter else "",
        certifying_office=office.name if office else None,
        certified_on=approval.created_at.date() if approval else None,
        valid_until=batch.valid_until, status=status.value,
        revocation_reason=revoke.reason if revoke and status is Display.REVOKED else None,
        suspension_reason=suspend.reason if suspend and status is Display.SUSPENDED else None,
        documents=[DocumentPublic(kind=d.kind, sha256=d.sha256,
                                  url=url_for("verify.document", document_id=d.id))
                   for d in documents],
    )


class FactsCache:
    """Public facts per batch for a few seconds. The key holds the batch's version and the
    day, so a decision (which bumps the version) or an expiry shows on the very next scan;
    the short lifetime covers what changes without a version bump (a document made public)."""

    def __init__(self, ttl: float = 30.0, size: int = 4096) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[tuple[int, int, dt.date], tuple[float, BatchPublic]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int, dt.date]) -> BatchPublic | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: tuple[int, int, dt.date], facts: BatchPublic) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()  # crude, but bounded and lock-cheap
            self._items[key] = (time.monotonic() + self.ttl, facts)


def resolve(
    session: Session, link: gs1.DigitalLink, *, public_keys: Sequence[dict[str, Any]],
    thresholds: Thresholds, now: dt.datetime, today: dt.date, client: str,
    pending: Callable[[int, int], Sequence[dict[str, Any]]],
    url_for: Callable[..., str], facts_cache: FactsCache | None = None,
) -> Resolution:
    signature = verify_uri(link, public_keys).status
    found = find_batch(session, link) if signature is VerifyStatus.VALID else None
    serial = link.serial_number
    batch, product = found if found else (None, None)
    printed = bool(batch and was_printed(session, batch.id, serial))
    status = display_status(Status(batch.status), batch.valid_until, today) if batch else None
    stats = ScanStats()
    if batch is not None and printed and serial is not None:
        stats = scan_stats(session, batch.id, serial, since=now - thresholds.window,
                           pending=pending(batch.id, serial), client=client)
    verdict, signals = decide(
        Facts(signature=signature.value, batch_found=batch is not None, printed=printed,
              status=status, stats=stats),
        thresholds,
    )
    public = None
    if batch is not None and product is not None and printed:
        key = (batch.id or 0, batch.version, today)
        public = facts_cache.get(key) if facts_cache else None
        if public is None:
            public = public_facts(session, batch, product, url_for=url_for, today=today)
            if facts_cache is not None:
                facts_cache.put(key, public)
    return Resolution(link, verdict, signals, signature, batch if printed else None, public,
                      stats)


def scan_row(resolution: Resolution, *, now: dt.datetime, language: str, country: str | None,
             mobile: bool, client: str) -> dict[str, Any]:
    link = resolution.link
    return {
        "created_at": now, "batch_id": resolution.batch.id if resolution.batch else None,
        "gtin": link.gtin, "lot": link.lot[:20], "serial": link.serial[:20],
        "serial_number": link.serial_number, "verdict": resolution.verdict.value,
        "language": language[:8], "country": country, "mobile": mobile, "client": client,
    }


def report_fake(session: Session, resolution: Resolution, *, message: str, contact: str | None,
                where_bought: str | None, language: str, client: str) -> FakeReport:
    from registry import audit

    link = resolution.link
    report = FakeReport(
        batch_id=resolution.batch.id if resolution.batch else None, gtin=link.gtin,
        lot=link.lot[:20], serial=link.serial[:20], verdict=resolution.verdict.value,
        message=message.strip()[:4000], contact=(contact or "").strip()[:254] or None,
        where_bought=(where_bought or "").strip()[:200] or None, language=language[:8],
        client=client,
    )
    session.add(report)
    session.flush()
    audit.record(session, actor=None, action="fake.report", object_type="batch",
                 object_id=report.batch_id,
                 after={"report_id": report.id, "serial": report.serial,
                        "verdict": report.verdict})
    return report


# ---------------------------------------------------------------- for exporters and offices


@dataclass(frozen=True)
class ScanSummary:
    count: int
    first: dt.datetime | None
    last: dt.datetime | None
    languages: list[tuple[str, int]]
    suspicious: list[tuple[str, int, int]]  # serial, scans, distinct clients
    reports: list[FakeReport]


def batch_scan_summary(session: Session, batch: Batch, thresholds: Thresholds) -> ScanSummary:
    count, first, last = session.exec(
        select(func.count(), func.min(Scan.created_at), func.max(Scan.created_at))
        .where(Scan.batch_id == batch.id)
    ).one()
    languages = session.exec(
        select(Scan.language, func.count()).where(Scan.batch_id == batch.id)
        .group_by(Scan.language).order_by(func.count().desc())
    ).all()
    suspicious = session.exec(
        select(Scan.serial, func.count(), func.count(func.distinct(Scan.client)))
        .where(Scan.batch_id == batch.id)
        .group_by(Scan.serial)
        .having(func.count(func.distinct(Scan.client)) >= thresholds.distinct_clients)
        .order_by(func.count().desc())
        .limit(50)
    ).all()
    reports = list(session.exec(
        select(FakeReport).where(FakeReport.batch_id == batch.id)
        .order_by(FakeReport.created_at.desc()).limit(50)  # type: ignore[union-attr]
    ).all())
    return ScanSummary(count, first, last, [(lang, n) for lang, n in languages],
                       [(s, n, c) for s, n, c in suspicious], reports)


def public_document(session: Session, document_id: int) -> Document | None:
    doc = session.get(Document, document_id)
    if doc is None or not doc.is_public:
        return None
    batch = session.get(Batch, doc.batch_id)
    # Evidence becomes public only with a certification decision on the batch.
    if batch is None or batch.status in (Status.DRAFT, Status.SUBMITTED, Status.REJECTED):
        return None
    return doc


def public_photo(session: Session, product_id: int) -> Product | None:
    product = session.get(Product, product_id)
    if product is None or not product.photo_stored_name:
        return None
    certified = session.exec(
        select(Batch.id).where(Batch.product_id == product_id, Batch.status.in_(  # type: ignore[union-attr]
            [Status.APPROVED, Status.SUSPENDED, Status.REVOKED])).limit(1)
    ).first()
    return product if certified is not None else None


