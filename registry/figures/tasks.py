"""The figures' worker tasks: XLSX exports (write one, and the minute's sweep), and the
minute's roll-up of scans into the summary cells (``summary.roll_up_scans``).

The pattern of ``registry.printing.tasks`` (label files): each step commits its own short
transaction, so the asker's page sees progress and a killed worker leaves a row the sweep can
hand on; the workbook is written outside any transaction, from a server-side cursor into a
temporary file, then into the store in one write. No web request waits for it, so no gunicorn
timeout can cut it, however many rows the period holds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlmodel import Session
from werkzeug.local import LocalProxy

from registry.accounts.models import User, UserStatus
from registry.exceptions import Forbidden
from registry.figures import exportfiles, exports, queries, summary
from registry.figures.models import ExportFile
from registry.files.base import CHUNK, FileStoreError
from registry.files.web import file_store
from registry.queue import enqueue, every_minute, task
from registry.web.database import engine

log = logging.getLogger(__name__)

# Progress is written (and the lease renewed) at most this often, as for label files.
REPORT_EVERY_SECONDS = 1.0
# Rows fetched from the server-side cursor at a time.
FETCH = 2000


class LeaseLost(Exception):
    """Another worker holds the file now (this one was presumed dead): stop quietly."""


def _lease() -> float:
    # One lease for every render of the worker: label files' setting.
    return float(current_app.config["LABEL_RENDER_LEASE_SECONDS"])


@task(retries=exportfiles.MAX_ATTEMPTS - 1, retry_delay=10)
def write_export_file(export_id: int) -> None:
    token = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(6)}"
    with Session(engine(), expire_on_commit=False) as session:
        if not exportfiles.claim(session, export_id, token, _lease()):
            session.rollback()
            return  # written, being written elsewhere, or gone
        session.commit()
    try:
        _write(export_id, token)
    except LeaseLost:
        log.warning("export file %s: lease taken over by another worker; stopped", export_id)
    except Exception as exc:
        with Session(engine(), expire_on_commit=False) as session:
            retry = exportfiles.fail(session, export_id, token, f"{type(exc).__name__}: {exc}")
            session.commit()
        if retry:
            raise  # Huey sends it again after retry_delay
        log.exception("export file %s failed after %s tries", export_id,
                      exportfiles.MAX_ATTEMPTS)


def _write(export_id: int, token: str) -> None:
    started = time.monotonic()
    with Session(engine(), expire_on_commit=False) as session:
        row = session.get_one(ExportFile, export_id)
        user = session.get_one(User, row.requested_by)
        try:
            if user.status != UserStatus.ACTIVE:
                raise Forbidden("the account that asked for it is no longer active")
            # The asker's scope as it is now: an officer moved to another office since gets
            # nothing of the old province.
            statement = queries.export_statement(session, user, exportfiles.filters_of(row))
        except Forbidden as exc:
            exportfiles.refuse(session, export_id, token, str(exc))
            session.commit()
            return
        total = int(session.execute(
            select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one())
        if not exportfiles.report(session, export_id, token, 0, _lease(), total=total):
            raise LeaseLost
        session.commit()
        lang = row.lang
    progress = _Progress(export_id, token, _lease())
    digest = hashlib.sha256()
    with progress, tempfile.NamedTemporaryFile(prefix="export-", suffix=".xlsx") as out, \
            engine().connect() as conn, force_locale(lang):
        words = exports.export_words()
        rows = conn.execution_options(stream_results=True, yield_per=FETCH).execute(statement)
        exports.write_xlsx(progress.count(rows), words, out)
        out.flush()
        size = out.tell()
        out.seek(0)
        while chunk := out.read(CHUNK):
            digest.update(chunk)
        name = f"export-{export_id}-{secrets.token_hex(8)}.xlsx"
        file_store().put_path(name, out.name, exportfiles.CONTENT_TYPE, digest.hexdigest())
    if progress.lost:  # another worker holds it now: its file is the one
        _delete_quietly(name)
        raise LeaseLost
    written = exportfiles.Written(object_name=name, size=size, sha256=digest.hexdigest(),
                                  rows=progress.done, seconds=time.monotonic() - started)
    with Session(engine(), expire_on_commit=False) as session:
        done = exportfiles.finish(session, export_id, token, written,
                                  float(current_app.config["EXPORT_FILE_TTL_DAYS"]))
        session.commit()
    if not done:
        _delete_quietly(name)
        raise LeaseLost
    log.info("export file %s: %s rows, %s bytes in %.1f s", export_id, progress.done, size,
             written.seconds)


class _Progress:
    """Counts the rows the workbook takes; a thread of its own reports them (renewing the
    lease) about once a second, in a transaction of its own, until the file is stored. A
    thread, not the row loop: once the last row is in, zipping a workbook of hundreds of
    thousands of rows and putting it into the store take a while with no row coming, and a
    lease lapsing then would look like a dead worker (the sweep would hand the file on, again
    and again)."""

    def __init__(self, export_id: int, token: str, lease: float) -> None:
        self.export_id, self.token, self.lease = export_id, token, lease
        self.done = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def count(self, rows: Any) -> Iterator[Sequence[Any]]:
        for row in rows:
            if self.lost:
                raise LeaseLost
            self.done += 1
            yield row

    def report(self) -> None:
        with Session(engine(), expire_on_commit=False) as session:
            kept = exportfiles.report(session, self.export_id, self.token, self.done,
                                      self.lease)
            session.commit()
        if not kept:
            self.lost = True

    def __enter__(self) -> _Progress:
        # current_app is typed as the app; it is the proxy in front of it.
        app = cast("LocalProxy[Flask]", current_app)._get_current_object()

        def beat() -> None:
            with app.app_context():
                while not self._stop.wait(REPORT_EVERY_SECONDS) and not self.lost:
                    try:
                        self.report()
                    except Exception:  # the database hiccuped: the next beat tries again
                        log.warning("export file %s: progress not recorded", self.export_id,
                                    exc_info=True)

        self._thread = threading.Thread(target=beat, name=f"export-{self.export_id}",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if exc[0] is None:
            self.report()  # the last count, before the file is marked ready


def _delete_quietly(name: str) -> None:
    try:
        file_store().delete(name)
    except FileStoreError:
        log.warning("could not delete the export file %s", name, exc_info=True)


@every_minute
def sweep_export_files() -> None:
    """Send again what a dead worker or a lost message left; delete expired files."""
    with Session(engine(), expire_on_commit=False) as session:
        found = exportfiles.sweep(session, _lease())
        session.commit()
    for name in found.expired:
        _delete_quietly(name)
    for export_id in found.resend:
        log.warning("export file %s: sending it again (worker gone or message lost)",
                    export_id)
        enqueue(write_export_file, export_id)


@every_minute
def roll_up_scans() -> None:
    """Add the settled scans to the cells, so the dashboard's live tail stays a few minutes
    of scans however long the registry runs."""
    with Session(engine(), expire_on_commit=False) as session:
        summary.roll_up_scans(session)
        session.commit()
