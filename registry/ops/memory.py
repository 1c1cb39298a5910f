"""The garbage collector in a serving worker: what lives as long as the worker is frozen.

Measured (issue 14, bench/verify.py's data on SQLite, 8,000 verification pages through one
process on 2026-12-02): a worker holds about 200,000 objects the collector tracks once it has
built the app and served its first requests (SQLAlchemy's mappers and statement cache, Jinja's
compiled templates, Babel's catalogues, the app's own tables). CPython's full (generation 2)
collection walks all of them, and it took 27–220 ms each time it came, about once in 4,000 to
8,000 requests; every request queued behind it in that worker waited as long. That pause was
the verification page's p99 tail (≈50 ms at any load from 500 to 1,000 requests/s) while its
p90 stayed at a few ms. With those objects frozen (``gc.freeze()``: moved to a generation the
collector never walks), no full collection came in 8,000 requests and the young collections
(about 1 ms) stayed as they were.

Freezing twice: once when the app is built (everything create_app made), and once after the
worker's first ``after`` requests, which build what is made on first use (templates compiled,
catalogues loaded, statements cached). Frozen objects are never freed, which is what these are:
they live as long as the worker does (gunicorn replaces a worker after ``max_requests``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment


class FreezeAfterWarmUp:
    """WSGI middleware: ``gc.freeze()`` once, when the worker has answered ``after`` requests."""

    def __init__(self, app: WSGIApplication, after: int) -> None:
        self.app = app
        self.after = after
        self.count = 0
        self._lock = threading.Lock()  # gthread workers: one freeze, counted once

    @property
    def settled(self) -> bool:
        return self.count >= self.after

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        if self.count < self.after:
            with self._lock:
                self.count += 1
                if self.count == self.after:
                    # After the answer before, not during one: the objects this request makes
                    # are its own and die with it.
                    gc.freeze()
        return self.app(environ, start_response)


def settle(app: WSGIApplication, after: int) -> WSGIApplication:
    """Freeze what the built app holds now, and again after ``after`` requests (0: only now)."""
    gc.freeze()
    return FreezeAfterWarmUp(app, after) if after > 0 else app
