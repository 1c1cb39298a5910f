"""Issue 13, acceptance 1: a 100,000-label job ordered through server A is rendered by the task
queue's worker and downloaded complete through server B by a print shop reading at 1 MB/s;
the worker is killed (kill -9) in the middle of the job and the job still completes once; the
download is recorded only when complete.

"Today" (before the queue) the job was rendered inside the download request: gunicorn's 30 s
timeout cut it at 12.7 of about 55 MB, the print shop got "200 OK" and the download was
counted and audited as done; two such downloads made /healthz wait 7.7 s."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from typing import Any

import pypdfium2
import pytest
import requests
import zxingcpp
from sqlmodel import Session, select

from conftest import PASSWORD, World
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.gs1.digital_link import parse_uri
from registry.printing.models import LabelFile, PrintJob
from tests.multiserver.conftest import Stack
from tests.verify.verify_support import path_of

pytestmark = pytest.mark.slow

LABELS = 100_000
RATE = 1_000_000  # bytes per second: the print shop's line
CHUNK = 64 * 1024


def _file(session: Session, job_id: int) -> LabelFile | None:
    session.expire_all()
    return session.exec(select(LabelFile).where(LabelFile.job_id == job_id)).first()


def _wait(check: Any, timeout: float, what: str, log: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s" + (
        f"\n{log.read_text(errors='replace')[-3000:]}" if log else ""))


def _events(session: Session, action: str, job_id: int) -> list[dict[str, Any]]:
    session.expire_all()
    rows = session.exec(select(AuditEvent).where(AuditEvent.action == action,
                                                 AuditEvent.object_id == str(job_id))
                        .order_by(AuditEvent.seq)).all()
    return [json.loads(row.after or "{}") for row in rows]


class Watch(threading.Thread):
    """A buyer's scan and a health check on B every half second while the print shop
    downloads: their slowest answers."""

    def __init__(self, base: str, verify_path: str) -> None:
        super().__init__(daemon=True)
        self.base, self.verify_path = base, verify_path
        self.stop = threading.Event()
        self.times: dict[str, list[float]] = {"healthz": [], "verify": []}

    def run(self) -> None:
        while not self.stop.is_set():
            for name, path in (("healthz", "/healthz"), ("verify", self.verify_path)):
                started = time.monotonic()
                response = requests.get(self.base + path, timeout=10,
                                        headers={"Accept": "application/json"})
                assert response.status_code < 500, (path, response.status_code)
                self.times[name].append(time.monotonic() - started)
            self.stop.wait(0.5)


def _read(response: requests.Response, limit: int | None) -> bytes:
    """Read at RATE bytes per second, up to ``limit`` bytes (then drop the connection)."""
    got = bytearray()
    started = time.monotonic()
    for chunk in response.iter_content(CHUNK):
        got += chunk
        ahead = len(got) / RATE - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
        if limit is not None and len(got) >= limit:
            break
    response.close()
    return bytes(got)


def _serials(pdf: bytes, index: int) -> list[str]:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        image = doc[index].render(scale=200 / 72, grayscale=True).to_pil()
    finally:
        doc.close()
    return [r.text for r in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)]


def test_a_100000_label_job_survives_a_killed_worker_and_a_slow_resumed_download(
        stack: Stack, cast: tuple[World, Session]) -> None:
    world, session = cast
    stack.a.flask("keys", "ensure")
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)

    exporter = stack.a.browser()
    assert exporter.login("a@test.id", PASSWORD).status_code == 302
    ordered = exporter.post(f"/batches/{world.batch_a.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "a4-3x7",
        "quantity": str(LABELS), "net_quantity": "1 g"},
        token_from=f"/batches/{world.batch_a.id}/labels")
    assert ordered.status_code == 302, ordered.text[:500]
    job = session.exec(select(PrintJob).where(PrintJob.batch_id == world.batch_a.id)).one()

    # The print shop opens the job through B: no rendering in the request, a page that follows
    # the worker's progress.
    shop = stack.b.browser()
    assert shop.login("printer@test.id", PASSWORD).status_code == 302
    asked = shop.get(f"/print-shop/jobs/{job.id}.pdf")
    assert asked.status_code == 303, asked.text[:300]
    assert asked.elapsed.total_seconds() < 2
    _wait(lambda: (f := _file(session, job.id)) and f.labels_done >= 20_000, 240,
          "the worker's progress past 20,000 labels", stack.worker.log)
    page = shop.get(f"/print-shop/jobs/{job.id}").text
    assert 'data-state="rendering"' in page and f'max="{LABELS}"' in page

    stack.worker.kill()
    killed_at = _file(session, job.id)
    assert killed_at is not None and killed_at.state == "rendering"
    assert killed_at.labels_done < LABELS
    time.sleep(6)  # the lease (5 s) lapses: nobody renews it
    stack.worker.start()  # a restarted (or another machine's) worker takes it over
    done = _wait(lambda: (f := _file(session, job.id)) and f.state == "ready" and f, 400,
                 "the job to be completed by the second worker", stack.worker.log)
    assert done.attempts == 2 and done.labels_done == LABELS
    assert [e["attempt"] for e in _events(session, "labelfile.render_start", job.id)] == [1, 2]
    assert len(_events(session, "labelfile.rendered", job.id)) == 1
    assert done.size is not None and done.size > 40_000_000

    # The download at 1 MB/s through B, with a buyer's scans and health checks beside it.
    session.refresh(world.batch_a)
    uri = f"https://verify.example.id/01/{world.batch_a.gtin}/10/{world.batch_a.lot_code}/21/1"
    watch = Watch(stack.b.base, path_of(uri))
    watch.start()
    try:
        # The line drops after 8 MB: that is not a download.
        first = shop.http.get(stack.b.base + f"/print-shop/jobs/{job.id}.pdf", stream=True,
                              timeout=30)
        assert first.status_code == 200, first.text[:300]
        etag = first.headers["ETag"]
        part = _read(first, 8_000_000)
        time.sleep(1)
        session.expire_all()
        assert session.get(PrintJob, job.id).downloads == 0  # type: ignore[union-attr]
        assert _events(session, "printjob.download", job.id) == []
        # The print shop resumes where it stopped.
        rest_response = shop.http.get(
            stack.b.base + f"/print-shop/jobs/{job.id}.pdf", stream=True, timeout=30,
            headers={"Range": f"bytes={len(part)}-", "If-Range": etag})
        assert rest_response.status_code == 206
        assert rest_response.headers["Content-Range"] == (
            f"bytes {len(part)}-{done.size - 1}/{done.size}")
        started = time.monotonic()
        rest = _read(rest_response, None)
        seconds = time.monotonic() - started
    finally:
        watch.stop.set()
        watch.join(15)

    pdf = part + rest
    assert len(pdf) == done.size and f'"{hashlib.sha256(pdf).hexdigest()}"' == etag
    assert seconds > (done.size - len(part)) / RATE * 0.9  # it really was a slow reader
    # Recorded once, when the last byte went out.
    _wait(lambda: _events(session, "printjob.download", job.id), 10, "the download record")
    recorded = _events(session, "printjob.download", job.id)
    assert len(recorded) == 1 and recorded[0]["bytes"] == [len(part), done.size]
    assert session.get(PrintJob, job.id).downloads == 1  # type: ignore[union-attr]
    # Scans and health checks kept answering while the download held a gunicorn thread.
    assert len(watch.times["verify"]) > 20
    assert max(watch.times["healthz"]) < 2 and max(watch.times["verify"]) < 2, watch.times

    # The file holds the whole job: serial 1 on the first page, 100000 on the last, and the
    # labels read genuine through A.
    doc = pypdfium2.PdfDocument(pdf)
    pages = len(doc)
    doc.close()
    first_codes, last_codes = _serials(pdf, 0), _serials(pdf, pages - 1)
    assert min(int(parse_uri(u).serial) for u in first_codes) == 1
    assert max(int(parse_uri(u).serial) for u in last_codes) == LABELS
    reader = stack.a.browser()
    for code in (first_codes[0], last_codes[-1]):
        answer = reader.get(path_of(code), headers={"Accept": "application/json"})
        assert answer.json()["verdict"] == "genuine", code
    assert dt.datetime.now(dt.UTC) < done.expires_at.replace(tzinfo=dt.UTC)  # type: ignore[union-attr]
