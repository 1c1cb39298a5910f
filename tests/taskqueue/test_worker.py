"""Issue 13 §1: label jobs are rendered by the task queue's worker process (Huey on a SQLite
file and on Redis), with progress the print shop sees, and a worker killed mid-job leaves the
job to another worker, which completes it once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from sqlmodel import Session, select

from conftest import Client, World, stored_objects
from registry.audit.models import AuditEvent
from registry.gs1.digital_link import parse_uri
from tests.taskqueue.queue_support import approve, label_file, order, wait_until

pytestmark = pytest.mark.slow


def serials_on_page(pdf: bytes, index: int) -> list[int]:
    """The serials of one page's QR codes, decoded from its pixels."""
    doc = pypdfium2.PdfDocument(pdf)
    try:
        page = doc[index if index >= 0 else len(doc) + index]
        image = page.render(scale=200 / 72, grayscale=True).to_pil()
    finally:
        doc.close()
    return sorted(int(parse_uri(r.text).serial) for r in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCodeModel2))


def events(db: Session, action: str, job_id: int) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action,
                                                 AuditEvent.object_id == str(job_id))).all())


def job_objects(app: Flask, job_id: int) -> list[str]:
    return [name for name in stored_objects(app) if f"labels-{job_id}-" in name]


def test_the_worker_renders_the_job_and_the_page_follows_it(
        queued_app: Flask, workers: object, shop: Client, world: World, db: Session) -> None:
    approve(world)
    job = order(world, db, 3_000)
    # Nothing renders in the request: the print shop is sent to the job's page, which
    # reloads itself and shows the render waiting for a worker.
    response = shop.get(f"/print-shop/jobs/{job.id}.pdf")
    assert response.status_code == 303 and response.location.endswith(f"/print-shop/jobs/{job.id}")
    page = shop.get(f"/print-shop/jobs/{job.id}").get_data(as_text=True)
    assert 'data-state="queued"' in page and 'http-equiv="refresh"' in page
    assert '<progress value="0" max="3000">' in page and "0 of 3,000 labels" in page
    row = label_file(db, job)
    assert row is not None and row.state == "queued"

    worker = workers()  # type: ignore[operator]
    wait_until(lambda: (r := label_file(db, job)) and r.state == "ready", 120,
               "the worker to finish the file", worker)
    page = shop.get(f"/print-shop/jobs/{job.id}").get_data(as_text=True)
    assert 'data-state="ready"' in page and 'http-equiv="refresh"' not in page
    assert f'href="/print-shop/jobs/{job.id}.pdf"' in page

    download = shop.get(f"/print-shop/jobs/{job.id}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    pdf = download.get_data()
    assert download.headers["ETag"] == f'"{hashlib.sha256(pdf).hexdigest()}"'
    assert serials_on_page(pdf, 0) == list(range(1, 22))
    assert serials_on_page(pdf, -1)[-1] == 3_000
    row = label_file(db, job)
    assert row is not None and row.labels_done == 3_000 and row.attempts == 1
    assert len(events(db, "labelfile.rendered", job.id)) == 1
    assert len(events(db, "printjob.download", job.id)) == 1


def test_a_worker_killed_mid_job_leaves_it_to_another_that_completes_it_once(
        queued_app: Flask, workers: object, shop: Client, world: World, db: Session) -> None:
    approve(world)
    job = order(world, db, 30_000)
    assert shop.get(f"/print-shop/jobs/{job.id}.pdf").status_code == 303
    first = workers()  # type: ignore[operator]
    # Progress reaches the database (and the print shop's page) while the worker renders.
    wait_until(lambda: (r := label_file(db, job)) and r.labels_done >= 3_000, 120,
               "progress from the first worker", first)
    page = shop.get(f"/print-shop/jobs/{job.id}").get_data(as_text=True)
    assert 'data-state="rendering"' in page
    done = re.search(r'<progress value="(\d+)" max="30000">', page)
    assert done and int(done.group(1)) >= 3_000

    first.kill()
    row = label_file(db, job)
    assert row is not None and row.state == "rendering" and row.labels_done < 30_000
    assert job_objects(queued_app, job.id) == []  # nothing half-rendered reached the store
    # Its lease (3 s here) lapses without the worker renewing it; a new worker takes over.
    wait_until(lambda: (r := label_file(db, job)) and r.lease_until is not None and
               r.lease_until.replace(tzinfo=None) < dt.datetime.now(dt.UTC).replace(tzinfo=None),
               10, "the lease to lapse")
    second = workers()  # type: ignore[operator]
    wait_until(lambda: (r := label_file(db, job)) and r.state == "ready", 180,
               "the second worker to finish the job", second)

    row = label_file(db, job)
    assert row is not None and row.attempts == 2 and row.labels_done == 30_000
    starts = events(db, "labelfile.render_start", job.id)
    assert [json.loads(e.after or "{}")["attempt"] for e in starts] == [1, 2]
    assert len(events(db, "labelfile.rendered", job.id)) == 1
    assert job_objects(queued_app, job.id) == [row.object_name]

    pdf = shop.get(f"/print-shop/jobs/{job.id}.pdf").get_data()
    assert hashlib.sha256(pdf).hexdigest() == row.sha256 and len(pdf) == row.size
    assert serials_on_page(pdf, 0)[0] == 1
    assert serials_on_page(pdf, -1)[-1] == 30_000
