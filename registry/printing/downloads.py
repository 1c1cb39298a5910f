"""Serving a finished label file: from the store, in chunks, with HTTP Range (a cut download
resumes where it stopped), and recorded only once its last byte has gone out.

"Gone out" is what the WSGI server tells the body iterator: the code after the last
``yield`` runs only when the server asks for more after writing the last chunk; a client
that disconnects makes the write fail, the server closes the iterator instead, and nothing is
recorded. A resumed download is recorded when the request that reaches the file's end
completes. The response tells a buffering proxy not to buffer it (``X-Accel-Buffering: no``):
otherwise nginx would take the whole file at once and the registry would count a download
the print shop never finished (deploy/nginx: the app serves downloads from a gunicorn
thread, so a slow print shop holds one thread, not a worker).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import cast

from flask import Flask, Response, current_app, request
from sqlmodel import Session
from werkzeug.local import LocalProxy

from registry.accounts.models import User
from registry.files.base import FileStoreError
from registry.files.web import file_store
from registry.printing import jobfiles
from registry.printing.models import LabelFile, PrintJob

log = logging.getLogger(__name__)


def send(row: LabelFile, job: PrintJob, *, filename: str, actor_id: int) -> Response:
    assert row.object_name is not None and row.size is not None and row.sha256 is not None
    size, etag = row.size, row.sha256
    start, stop, status = 0, size, 200
    wanted = request.range
    # A resume names the file it started on (If-Range: its ETag); a file rendered again since
    # is another file, so the client gets the whole new one.
    if_range = request.if_range
    same_file = (if_range.etag is None and if_range.date is None) or if_range.etag == etag
    if wanted is not None and same_file:
        bounds = wanted.range_for_length(size)
        if bounds is None:
            return Response(status=416, headers={"Content-Range": f"bytes */{size}",
                                                 "Accept-Ranges": "bytes"})
        start, stop = bounds
        status = 206
    chunks = file_store().read_range(row.object_name, start, stop)  # FileMissing: before any
    # current_app is typed as the app; it is the proxy in front of it.
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    body = _body(app, chunks, row_id=row.id, job_id=job.id, actor_id=actor_id,
                 start=start, stop=stop, size=size, sha256=etag)
    response = Response(body, status=status, mimetype=jobfiles.content_type(row.format),
                        direct_passthrough=True)
    response.headers["Content-Length"] = str(stop - start)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Accel-Buffering"] = "no"
    if status == 206:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return response


def _body(app: Flask, chunks: Iterator[bytes], *, row_id: int | None, job_id: int | None,
          actor_id: int, start: int, stop: int, size: int, sha256: str) -> Iterator[bytes]:
    sent = 0
    # A whole-file download is hashed on the way: bytes the store damaged are not counted
    # as a good download, and the file is rendered again on the next request.
    digest = hashlib.sha256() if start == 0 and stop == size else None
    try:
        for chunk in chunks:
            if digest is not None:
                digest.update(chunk)
            sent += len(chunk)
            yield chunk
    except FileStoreError:
        log.exception("label file %s: the store failed mid-download", row_id)
        return
    if sent != stop - start or stop != size:
        return  # a part that does not reach the end: the download is not complete yet
    with app.app_context():
        from registry.web.database import engine

        with Session(engine(), expire_on_commit=False) as session:
            row = session.get(LabelFile, row_id)
            job = session.get(PrintJob, job_id)
            actor = session.get(User, actor_id)
            if row is None or job is None:
                return
            if digest is not None and digest.hexdigest() != sha256:
                log.error("label file %s: served bytes hash to %s, %s recorded; rendering "
                          "it again", row_id, digest.hexdigest(), sha256)
                jobfiles.discard_damaged(session, row)
            else:
                jobfiles.record_download(session, actor, job, row, first_byte=start,
                                         sent=sent)
            session.commit()
