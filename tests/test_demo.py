"""The demo (issue 17 §3): two years of history up to today, written as the services write it,
and a label for every verdict a buyer can be shown."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlmodel import Session, col, func, select

from registry.audit.models import AuditEvent
from registry.catalog.models import Batch
from registry.clock import REGION_TZ, moved_to, today, utcnow
from registry.demo import SHOWCASE
from registry.figures import queries
from registry.printing.models import PrintJob
from registry.printing.services import next_free_serial
from registry.review.models import Decision
from registry.shipments.models import Shipment
from registry.signing.models import LabelSignature
from registry.verify import facts

HEADLINES = {
    "genuine": "Genuine and certified",
    "suspended": "Certification suspended",
    "revoked": "Certification revoked",
    "expired": "Certification expired",
    "not_genuine": "Not a genuine label",
}


def _load(app: Flask) -> dict[str, str]:
    """Run ``flask demo`` and return the label URIs ``flask demo --labels`` prints."""
    loaded = app.test_cli_runner().invoke(args=["demo"])
    assert loaded.exit_code == 0, loaded.output
    printed = app.test_cli_runner().invoke(args=["demo", "--labels"])
    assert printed.exit_code == 0, printed.output
    labels = dict(line.split() for line in printed.output.strip().splitlines())
    # The load's own summary lists the same labels, for whoever ran ``make run``.
    for uri in labels.values():
        assert uri in loaded.output
    return labels


def test_each_verdict_is_reachable_from_a_demo_label(app: Flask) -> None:
    labels = _load(app)
    assert set(labels) == set(HEADLINES)
    phone = app.test_client()
    for verdict, uri in labels.items():
        parts = urlsplit(uri)
        assert parts.netloc == app.config["PUBLIC_HOST"]
        # As a phone opens the QR code: the label URI, sent on to its page.
        sent = phone.get(f"{parts.path}?{parts.query}", base_url=f"{parts.scheme}://{parts.netloc}")
        assert sent.status_code in (302, 303, 307), sent.status_code
        page = phone.get(sent.headers["Location"], headers={"Accept-Language": "en"})
        assert page.status_code == 200, (verdict, page.status_code)
        html = page.get_data(as_text=True)
        assert HEADLINES[verdict] in html, (verdict, html[html.find("<main"):][:1000])
        answer = phone.get(f"/verify{parts.path}?{parts.query}",
                           headers={"Accept": "application/json"})
        assert answer.status_code == 200 and answer.json["verdict"] == verdict, answer.json


def test_the_history_is_written_in_time_order_with_the_services_invariants(
        app: Flask, db: Session) -> None:
    _load(app)
    now = utcnow()
    # Two years: approvals in most of the last 24 months, every province.
    approvals = db.exec(select(Decision.created_at, Batch.origin_province_code)
                        .join(Batch, col(Batch.id) == Decision.batch_id)
                        .where(Decision.action == "approve")).all()
    months = {at.astimezone(REGION_TZ).strftime("%Y-%m") for at, _p in approvals}
    last_24 = queries.Filters(start=queries.add_months(today().replace(day=1), -23),
                              end=today().replace(day=1)).months()
    assert len(months & set(last_24)) >= 20, sorted(months)
    assert {p for _at, p in approvals} == {"51", "52", "53"}
    assert all(at <= now for at, _p in approvals)
    # Every batch's times agree with its life: created, then submitted, then decided.
    for batch in db.exec(select(Batch)).all():
        assert batch.created_at <= now
        if batch.submitted_at is not None:
            assert batch.created_at <= batch.submitted_at <= now
        if batch.decided_at is not None:
            assert batch.submitted_at is not None and batch.submitted_at <= batch.decided_at
    # The audit chain's times rise with its sequence, as when the events really happened.
    times = db.exec(select(AuditEvent.created_at).order_by(col(AuditEvent.seq))).all()
    assert times == sorted(times) and times[0] < now - dt.timedelta(days=700)
    # Each print job was ordered while its batch was certified and within its validity, and
    # downloaded (signed) by the print shop.
    jobs = db.exec(select(PrintJob, Batch).join(Batch, col(Batch.id) == PrintJob.batch_id)).all()
    assert len(jobs) > 100
    signed = set(db.exec(select(LabelSignature.job_id)).all())
    for job, batch in jobs:
        approved = db.exec(select(Decision).where(Decision.batch_id == batch.id,
                                                  Decision.action == "approve")).one()
        assert approved.created_at <= job.created_at
        assert approved.valid_until is not None
        assert job.created_at.astimezone(REGION_TZ).date() <= approved.valid_until
        assert job.id in signed and job.downloads == 1
    # The expired batch was approved, and printed, before its validity ended.
    expired = db.exec(select(Batch).where(Batch.lot_code == SHOWCASE["expired"][1])).one()
    assert expired.status == "approved" and expired.valid_until is not None
    assert expired.valid_until < today()
    assert expired.decided_at is not None
    assert expired.decided_at.astimezone(REGION_TZ).date() < expired.valid_until
    # Most certified batches left through their hub: declared after the approval, confirmed
    # by the Bali office on a later day, to a port of the batch's destination country.
    passages = db.exec(select(Shipment, Batch).join(Batch, col(Batch.id) == Shipment.batch_id)
                       .where(Shipment.status == "confirmed")).all()
    assert len(passages) > 100
    for shipment, batch in passages:
        assert batch.decided_at is not None and shipment.passage_date is not None
        assert shipment.declared_at < (shipment.decided_at or now) <= now
        assert shipment.destination_locode.startswith(batch.destination_country)
        assert shipment.passage_date >= shipment.peb_date
    assert {batch.hub for _s, batch in passages} == {"benoa", "ngurah-rai", "celukan-bawang"}
    # Every label's display facts on its batch row are what its tables say (the services'
    # flush hook kept them through the whole history).
    assert facts.stale(db.connection()) == []
    # Serial counters follow the jobs: the next serial is past every printed one.
    last = db.exec(select(func.max(PrintJob.serial_last)).where(
        PrintJob.batch_id == expired.id)).one()
    assert next_free_serial(db, expired.id) == (last or 0) + 1


def test_the_moved_clock_is_the_registrys_only_inside_the_block() -> None:
    moment = dt.datetime(2025, 3, 4, 17, 30, tzinfo=dt.UTC)  # 01:30 WITA on 5 March
    with moved_to(moment):
        assert utcnow() == moment and today() == dt.date(2025, 3, 5)
    assert utcnow() - dt.datetime.now(dt.UTC) < dt.timedelta(seconds=5)
    with pytest.raises(ValueError, match="aware"), moved_to(dt.datetime(2025, 3, 4)):
        pass
