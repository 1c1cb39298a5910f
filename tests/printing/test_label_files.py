"""Issue 13 §1: finished label files are served from the store with HTTP Range, a download is
recorded only when its last byte went out, files expire and are rendered again on demand, and
the batch pages show each job's files, downloads and reprints.

"Today" (before the task queue): the PDF was rendered inside the download request and the
download was counted and audited as done before its first byte was sent, so a print shop cut
off after 12.7 of 55 MB had a "complete" download on record."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from flask import Flask
from sqlmodel import Session, select

from conftest import Client, World, decode_qr_codes, stored_objects
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.clock import utcnow
from registry.printing import services as printing
from registry.printing.models import LabelFile, PrintJob
from registry.queue import enqueue


def _job(world: World, db: Session, quantity: int = 42) -> PrintJob:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    job = printing.order_job(db, world.exporter_a, world.batch_a.id,
                             printer_org_id=world.print_org.id, stock="a4-3x7",
                             quantity=quantity, net_quantity="250 g")
    db.commit()
    return job


def _printer(make_client: Any) -> Client:
    printer = make_client()
    printer.login("printer@test.id")
    return printer


def _row(db: Session, job: PrintJob) -> LabelFile:
    db.expire_all()
    return db.exec(select(LabelFile).where(LabelFile.job_id == job.id)).one()


def _downloads(db: Session, job: PrintJob) -> int:
    db.expire_all()
    return len(db.exec(select(AuditEvent).where(AuditEvent.action == "printjob.download",
                                                AuditEvent.object_id == str(job.id))).all())


def test_a_download_cut_short_is_not_recorded_and_resumes_with_range(
        app: Flask, make_client: Any, world: World, db: Session) -> None:
    job = _job(world, db)
    printer = _printer(make_client)
    whole = printer.download(f"/print-shop/jobs/{job.id}.pdf")
    pdf = whole.get_data()
    etag = whole.headers["ETag"]
    assert etag == f'"{hashlib.sha256(pdf).hexdigest()}"'
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["X-Accel-Buffering"] == "no"
    assert _downloads(db, job) == 1
    row = _row(db, job)
    assert row.downloads == 1 and db.get(PrintJob, job.id).downloads == 1  # type: ignore[union-attr]

    # The print shop's line drops after the first chunk: nothing is recorded.
    cut = printer.http.get(f"/print-shop/jobs/{job.id}.pdf", buffered=False)
    assert cut.status_code == 200
    next(iter(cut.response))
    cut.close()
    assert _downloads(db, job) == 1

    # It resumes: the first part alone is not a download, the part reaching the end is.
    head = printer.http.get(f"/print-shop/jobs/{job.id}.pdf",
                            headers={"Range": "bytes=0-9999", "If-Range": etag})
    assert head.status_code == 206
    assert head.headers["Content-Range"] == f"bytes 0-9999/{len(pdf)}"
    assert _downloads(db, job) == 1
    tail = printer.http.get(f"/print-shop/jobs/{job.id}.pdf",
                            headers={"Range": "bytes=10000-", "If-Range": etag})
    assert tail.status_code == 206
    assert head.get_data() + tail.get_data() == pdf
    assert _downloads(db, job) == 2
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "printjob.download")
                    .order_by(AuditEvent.id.desc())).first()  # type: ignore[union-attr]
    assert event is not None and f"[10000,{len(pdf)}]" in str(event.after)

    # A resume naming another file (one rendered again since) gets the whole new one.
    stale = printer.http.get(f"/print-shop/jobs/{job.id}.pdf",
                             headers={"Range": "bytes=10000-", "If-Range": '"0000"'})
    assert stale.status_code == 200 and stale.get_data() == pdf
    beyond = printer.http.get(f"/print-shop/jobs/{job.id}.pdf",
                              headers={"Range": f"bytes={len(pdf) + 5}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(pdf)}"


def test_expired_files_are_deleted_and_rendered_again_with_the_same_labels(
        app: Flask, make_client: Any, world: World, db: Session) -> None:
    job = _job(world, db)
    printer = _printer(make_client)
    first = printer.download(f"/print-shop/jobs/{job.id}.pdf").get_data()
    row = _row(db, job)
    assert row.expires_at is not None
    assert row.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None) > dt.timedelta(
        days=6, hours=23)  # LABEL_FILE_TTL_DAYS, 7 by default
    assert row.object_name in stored_objects(app)

    row.expires_at = utcnow() - dt.timedelta(minutes=1)
    db.add(row)
    db.commit()
    with app.app_context():
        from registry.printing.tasks import sweep_label_files

        sweep_label_files()
    row = _row(db, job)
    assert row.state == "expired" and row.object_name is None
    assert not [n for n in stored_objects(app) if n.startswith(f"labels-{job.id}-")]
    page = printer.get(f"/print-shop/jobs/{job.id}").get_data(as_text=True)
    assert 'data-state="expired"' in page

    again = printer.download(f"/print-shop/jobs/{job.id}.pdf")
    assert again.status_code == 200
    assert sorted(decode_qr_codes(again.get_data(), 150)) == sorted(decode_qr_codes(first, 150))
    assert _row(db, job).state == "ready"


def test_a_file_of_a_key_revoked_since_is_rendered_again_with_the_new_key(
        app: Flask, make_client: Any, world: World, db: Session) -> None:
    job = _job(world, db, 21)
    printer = _printer(make_client)
    printer.download(f"/print-shop/jobs/{job.id}.pdf")
    old_kid = _row(db, job).kid
    assert old_kid is not None
    done = app.test_cli_runner().invoke(args=[
        "keys", "revoke", old_kid, "--with-successor", "--reason", "found on a stolen laptop"])
    assert done.exit_code == 0, done.output
    response = printer.get(f"/print-shop/jobs/{job.id}.pdf")
    assert response.status_code == 303  # never the old key's labels
    again = printer.download(f"/print-shop/jobs/{job.id}.pdf")
    assert again.status_code == 200
    assert _row(db, job).kid not in (None, old_kid)


def test_a_lost_message_and_a_dead_worker_are_sent_again_by_the_sweep(
        app: Flask, world: World, db: Session) -> None:
    job = _job(world, db)
    # A render asked for whose message never reached a worker (Redis restarted empty).
    db.add(LabelFile(job_id=job.id, format="pdf", state="queued", labels_total=job.quantity,
                     requested_at=utcnow() - dt.timedelta(minutes=5)))
    db.commit()
    with app.app_context():
        from registry.printing.tasks import sweep_label_files

        sweep_label_files()  # in-process queue: the render runs when sent
    row = _row(db, job)
    assert row.state == "ready" and row.attempts == 1
    # A worker that claimed it and vanished: a lapsed lease is taken over; a live one is not.
    row.state, row.lease_token = "rendering", "gone:1:x"
    row.lease_until = utcnow() + dt.timedelta(seconds=30)
    db.add(row)
    db.commit()
    with app.app_context():
        enqueue(sweep_label_files)
    assert _row(db, job).state == "rendering"
    row = _row(db, job)
    row.lease_until = utcnow() - dt.timedelta(seconds=1)
    db.add(row)
    db.commit()
    with app.app_context():
        sweep_label_files()
    row = _row(db, job)
    assert row.state == "ready" and row.attempts == 2 and row.lease_token is None


def test_batch_pages_show_each_jobs_files_downloads_and_reprints(
        app: Flask, client: Client, make_client: Any, world: World, db: Session) -> None:
    job = _job(world, db, 1_234)
    printer = _printer(make_client)
    printer.download(f"/print-shop/jobs/{job.id}.pdf").get_data()  # read to the last byte
    reprint = printer.post(f"/print-shop/jobs/{job.id}/reprint", {
        "sheet_first": "2", "sheet_last": "3", "reason": "paper jam"}, token_from="/print-shop")
    assert reprint.status_code == 200
    client.login("a@test.id")
    exporter_page = client.get(f"/batches/{world.batch_a.id}").get_data(as_text=True)
    officer = make_client()
    officer.login("officer.ntb@test.id")
    officer_page = officer.get(f"/review/batches/{world.batch_a.id}").get_data(as_text=True)
    for page in (exporter_page, officer_page):
        assert 'data-format="pdf" data-state="ready"' in page
        assert "1,234" in page  # labels, with the reader's separators
        assert "Complete downloads: 1" in page
        assert "Reprints: 1, sheets: 2" in page
    # Only the print shop gets links to the files.
    assert f"/print-shop/jobs/{job.id}.pdf" not in exporter_page + officer_page
