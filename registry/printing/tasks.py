"""The worker's tasks for print jobs: render a label file, and the minute's sweep.

Each step commits its own short transaction, so the print shop's page sees progress and a
killed worker leaves a row the sweep can hand on. The render itself runs outside any
transaction, into a temporary file, then into the store in one write.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from flask import current_app
from sqlmodel import Session

from registry.catalog.models import Batch, Product
from registry.files.base import FileStoreError
from registry.files.web import file_store
from registry.ops.metrics import LABEL_FILES_FINISHED, LABELS_RENDERED, PRINT_RENDER_SECONDS
from registry.printing import jobfiles, services
from registry.printing.models import LabelFile, PrintJob
from registry.printing.render.stream import iter_pdf
from registry.printing.zpl import iter_zpl
from registry.queue import enqueue, every_minute, task
from registry.signing.keys import KeyStoreUnavailable, keystore, signer
from registry.signing.services import KeyRevoked, record_signature
from registry.signing.signer import Signer
from registry.web.database import engine, open_session

log = logging.getLogger(__name__)

# Progress is written (and the lease renewed) at most this often: a row update per second is
# nothing for the database, and the print shop's bar moves smoothly.
REPORT_EVERY_SECONDS = 1.0


class LeaseLost(Exception):
    """Another worker holds the render now (this one was presumed dead): stop quietly."""


def _lease() -> float:
    return float(current_app.config["LABEL_RENDER_LEASE_SECONDS"])


# Huey retries a render that raised (the store was down, the database restarted) after
# 10 s, twice; ``jobfiles.fail`` counts the tries and tells the print shop after the last.
@task(retries=jobfiles.MAX_ATTEMPTS - 1, retry_delay=10)
def render_label_file(file_id: int) -> None:
    token = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(6)}"
    with Session(engine(), expire_on_commit=False) as session:
        if not jobfiles.claim(session, file_id, token, _lease()):
            session.rollback()
            return  # rendered, rendering elsewhere, or asked for no more
        session.commit()
    try:
        _render(file_id, token)
    except LeaseLost:
        log.warning("label file %s: lease taken over by another worker; stopped", file_id)
    except Exception as exc:
        with Session(engine(), expire_on_commit=False) as session:
            retry = jobfiles.fail(session, file_id, token, f"{type(exc).__name__}: {exc}")
            session.commit()
        LABEL_FILES_FINISHED.labels("retried" if retry else "failed").inc()
        if retry:
            raise  # Huey sends it again after retry_delay
        log.exception("label file %s failed after %s tries", file_id, jobfiles.MAX_ATTEMPTS)


def _render(file_id: int, token: str) -> None:
    started = time.monotonic()
    with Session(engine(), expire_on_commit=False) as session:
        row = session.get(LabelFile, file_id)
        assert row is not None
        job = session.get_one(PrintJob, row.job_id)
        batch = session.get_one(Batch, job.batch_id)
        product = session.get_one(Product, batch.product_id)
        if not services.can_print(batch):
            jobfiles.refuse(session, file_id, token, "the batch is no longer certified")
            session.commit()
            LABEL_FILES_FINISHED.labels("refused").inc()
            return
        active = _signer_for(session, job.id)
        if not jobfiles.sign(session, file_id, token, active.kid):
            raise LeaseLost
        source = services.label_source(
            batch, product, net_quantity=job.net_quantity,
            host=current_app.config["PUBLIC_HOST"], scheme=current_app.config["PUBLIC_SCHEME"])
        session.commit()
        fmt, stock = row.format, services.stocks()[job.stock]
        first, last, job_id, lot = job.serial_first, job.serial_last, job.id, batch.lot_code

    progress = _Progress(file_id, token, _lease())
    labels = progress.count(source.labels(active, first, last), fmt)
    dpi = jobfiles.format_dpi(fmt)
    chunks = iter_pdf(stock, labels) if dpi is None else iter_zpl(stock, labels, dpi=dpi)
    digest = hashlib.sha256()
    size = 0
    # The system's temporary folder (TMPDIR): tens of MB for a large job, deleted at once.
    with tempfile.NamedTemporaryFile(prefix="labels-",
                                     suffix="." + jobfiles.extension(fmt)) as out:
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        out.flush()
        progress.report(force=True)
        name = f"labels-{job_id}-{fmt}-{secrets.token_hex(8)}.{jobfiles.extension(fmt)}"
        store = file_store()
        store.put_path(name, out.name, jobfiles.content_type(fmt), digest.hexdigest())
    seconds = time.monotonic() - started
    rendered = jobfiles.Rendered(object_name=name, size=size, sha256=digest.hexdigest(),
                                 labels=progress.done, seconds=seconds)
    # A session that sends its mails once it commits (the print shop is told the file is
    # ready, registry.notifications).
    with open_session(current_app) as session:
        done = jobfiles.finish(session, file_id, token, rendered,
                               float(current_app.config["LABEL_FILE_TTL_DAYS"]))
        session.commit()
    if not done:
        _delete_quietly(name)
        raise LeaseLost
    PRINT_RENDER_SECONDS.labels(jobfiles.extension(fmt)).observe(seconds)
    LABEL_FILES_FINISHED.labels("ready").inc()
    log.info("label file %s (job %s, lot %s, %s): %s labels, %s bytes in %.1f s", file_id,
             job_id, lot, fmt, progress.done, size, seconds)


def _signer_for(session: Session, job_id: int) -> Signer:
    """The active signer, noted as a signer of the job in this transaction; a key revoked a
    moment ago (on any server) is noticed by reading the keys again, once."""
    for _attempt in range(2):
        active = signer()
        try:
            record_signature(session, job_id, active.kid)
        except KeyRevoked:
            keystore().invalidate()
            continue
        return active
    raise KeyStoreUnavailable("the active signing key keeps changing")


class _Progress:
    """Counts the labels the renderer takes and reports them (renewing the lease) about once
    a second, in a transaction of its own."""

    def __init__(self, file_id: int, token: str, lease: float) -> None:
        self.file_id, self.token, self.lease = file_id, token, lease
        self.done = 0
        self._last = time.monotonic()

    def count(self, labels: Iterator[Any], fmt: str) -> Iterator[Any]:
        counter = LABELS_RENDERED.labels(jobfiles.extension(fmt))
        for label in labels:
            self.done += 1
            counter.inc()
            if time.monotonic() - self._last >= REPORT_EVERY_SECONDS:
                self.report()
            yield label

    def report(self, force: bool = False) -> None:
        self._last = time.monotonic()
        with Session(engine(), expire_on_commit=False) as session:
            kept = jobfiles.report(session, self.file_id, self.token, self.done, self.lease)
            session.commit()
        if not kept:
            raise LeaseLost


def _delete_quietly(name: str) -> None:
    try:
        file_store().delete(name)
    except FileStoreError:
        log.warning("could not delete the unused label file %s", name, exc_info=True)


@every_minute
def sweep_label_files() -> None:
    """Send again what a dead worker or a lost message left; delete expired files."""
    with Session(engine(), expire_on_commit=False) as session:
        found = jobfiles.sweep(session, _lease())
        session.commit()
    for name in found.expired:
        _delete_quietly(name)
    for file_id in found.resend:
        log.warning("label file %s: sending the render again (worker gone or message lost)",
                    file_id)
        enqueue(render_label_file, file_id)
