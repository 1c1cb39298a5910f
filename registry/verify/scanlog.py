"""Scans are buffered in memory and written in batches by a background thread, so a
verification costs no database write; a crash loses at most the last two seconds of scans.

Few, large writes matter beyond the write itself: on SQLite every commit makes each other
connection drop its page cache (and its memory map) before its next read, so each flush slows
every worker's next lookups. At most one flush every ``max_age`` seconds per worker keeps that
rare; ``max_rows`` bounds memory under a burst.

One bad row must never stop the recording (issue 11): rows are normalised before they get
here (``services.scan_row``), and when the database still refuses a batch, the rows are written
one by one, each in its own savepoint, and only the refused ones are dropped, each logged on
its own line. A database that cannot be reached keeps the rows for the next attempt (bounded).
Every failure is logged and counted; ``stats()`` is shown in ``/healthz``.

``ScanBudget`` bounds the rows one client can cost: a flood of forged codes from one phone,
or one phone rescanning one label, writes a bounded number of rows (the page still answers).
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing.util
import threading
import time
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from registry.ops import metrics

log = logging.getLogger(__name__)

_COLUMNS = ("created_at", "batch_id", "gtin", "lot", "serial", "serial_number", "verdict",
            "language", "country", "country_source", "mobile", "client", "product_id",
            "organisation_id", "province_code", "kind")
# Built from the constant tuple above, never from input: S608's injection risk does not apply.
_SQLITE_INSERT = (f"INSERT INTO scan ({', '.join(_COLUMNS)}) "  # noqa: S608
                  f"VALUES ({', '.join('?' for _ in _COLUMNS)})")
_PG_COPY = f"COPY scan ({', '.join(_COLUMNS)}) FROM STDIN"
_PG_INSERT = (f"INSERT INTO scan ({', '.join(_COLUMNS)}) "  # noqa: S608
              f"VALUES ({', '.join('%s' for _ in _COLUMNS)})")
# What a database says about one row's values (too long, not null, unknown foreign key, an
# encoding it cannot store): drop that row. Anything else (no connection, no table) keeps them.
_ROW_REFUSALS: tuple[type[Exception], ...] = (sa_exc.DataError, sa_exc.IntegrityError)
try:  # COPY runs on the driver's own connection: its errors arrive unwrapped
    import psycopg

    _ROW_REFUSALS += (psycopg.DataError, psycopg.IntegrityError)
except ImportError:  # pragma: no cover - SQLite-only installs
    pass
MAX_KEPT = 100_000


def _copy(connection: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows through COPY, in the caller's transaction (psycopg)."""
    with connection.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
        for row in rows:
            copy.write_row(tuple(row.get(c) for c in _COLUMNS))


def _sqlite_row(row: dict[str, Any]) -> tuple[Any, ...]:
    # Timestamps as SQLAlchemy writes them on SQLite (naive UTC text), so reads compare alike.
    created = row["created_at"].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return (created, *(row.get(c) for c in _COLUMNS[1:]))


def _describe(row: dict[str, Any]) -> str:
    return " ".join(f"{k}={row.get(k)!r:.40}".replace("'", "")
                    for k in ("gtin", "lot", "serial", "verdict", "language", "country"))


class ScanBuffer:
    def __init__(self, engine: Engine, *, max_rows: int = 10_000, max_age: float = 2.0,
                 background: bool = True) -> None:
        self.engine = engine
        self.max_rows = max_rows
        self.max_age = max_age
        self._rows: list[dict[str, Any]] = []
        # Clients of the buffered scans per (batch, serial): asked on every verification.
        self._clients: dict[tuple[int, int], list[str]] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time (the thread, close, tests)
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._stats = {"rows_written": 0, "rows_refused": 0, "rows_discarded": 0,
                       "flush_failures": 0}
        self._last_error: str | None = None
        self._last_failure: dt.datetime | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="scan-buffer", daemon=True)
            self._thread.start()
            # Written at the process's end. multiprocessing's exit finalizers run both where
            # the process ends normally (multiprocessing runs them from atexit: gunicorn's
            # workers) and where it is a multiprocessing child that leaves by os._exit and
            # runs no atexit function (granian's workers, the verification pool: with atexit
            # alone a graceful stop lost the last seconds of scans there).
            multiprocessing.util.Finalize(self, self.close, exitpriority=10)

    def add(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._rows.append(row)
            self._index(row)
            full = len(self._rows) >= self.max_rows
        if full:
            self._wake.set()

    def _index(self, row: dict[str, Any]) -> None:
        if row.get("batch_id") is not None and row.get("serial_number") is not None:
            self._clients.setdefault((row["batch_id"], row["serial_number"]),
                                     []).append(row["client"])

    def __len__(self) -> int:
        """Scans waiting to be written."""
        return len(self._rows)

    def stats(self) -> dict[str, Any]:
        """For operators (``/healthz``): rows waiting, written, refused by the database
        (dropped one by one), discarded because the buffer overflowed while the database was
        away, failed flushes, and the last failure."""
        return {"pending": len(self._rows), **self._stats,
                "last_failure": self._last_failure.isoformat() if self._last_failure else None,
                "last_error": self._last_error}

    def pending_clients(self, batch_id: int, serial: int) -> tuple[str, ...]:
        """The client of each buffered scan of one serial, so signals count scans not yet
        written."""
        if (batch_id, serial) not in self._clients:
            return ()
        with self._lock:
            return tuple(self._clients.get((batch_id, serial), ()))

    def flush(self) -> int:
        """Write the buffered rows; the number written. Raises (keeping the rows) only when
        the database cannot take any of them."""
        with self._flushing:
            with self._lock:
                rows, self._rows = self._rows, []
                self._clients = {}
            if not rows:
                return 0
            try:
                self._write(rows)
            except _ROW_REFUSALS as exc:
                self._failed(exc, len(rows))
                written = self._write_one_by_one(rows)
            except Exception as exc:
                self._failed(exc, len(rows))
                self._keep(rows)
                raise
            else:
                written = len(rows)
            self._stats["rows_written"] += written
            return written

    def _write(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            # Thousands of rows a second, written by the driver without the ORM's per-row
            # processing: that held the GIL (and so the worker's requests) for tens of
            # milliseconds a flush, which showed in the page's p99.
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(_SQLITE_INSERT, [_sqlite_row(r) for r in rows])
            else:
                _copy(conn.connection.driver_connection, rows)

    def _write_one_by_one(self, rows: list[dict[str, Any]]) -> int:
        """The batch was refused: each row in its own transaction, dropping the refused ones.
        Rare (a value normalisation did not foresee), so speed does not matter here."""
        written = 0
        for n, row in enumerate(rows):
            try:
                with self.engine.begin() as conn:
                    if conn.dialect.name == "sqlite":
                        conn.exec_driver_sql(_SQLITE_INSERT, _sqlite_row(row))
                    else:
                        conn.exec_driver_sql(_PG_INSERT, tuple(row.get(c) for c in _COLUMNS))
                written += 1
            except _ROW_REFUSALS as exc:
                self._stats["rows_refused"] += 1
                metrics.SCAN_ROWS_DROPPED.labels("refused").inc()
                reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
                log.warning("scan row refused by the database and dropped: %s (%s)",
                            _describe(row), reason)
            except Exception as exc:  # the database went away in between: keep the rest
                self._stats["rows_written"] += written
                self._failed(exc, len(rows) - n)
                self._keep(rows[n:])
                raise
        return written

    def _failed(self, exc: Exception, count: int) -> None:
        self._stats["flush_failures"] += 1
        metrics.SCAN_BUFFER_FLUSH_FAILURES.inc()
        self._last_failure = dt.datetime.now(dt.UTC)
        self._last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        log.warning("scan buffer flush failed (%d rows, %d waiting): %s", count,
                    len(self._rows), self._last_error)

    def _keep(self, rows: list[dict[str, Any]]) -> None:
        """Keep the rows for the next attempt, but never grow without bound."""
        with self._lock:
            merged = rows + self._rows
            discarded = max(0, len(merged) - MAX_KEPT)
            self._rows = merged[discarded:]
            self._clients = {}
            for row in self._rows:
                self._index(row)
        if discarded:
            self._stats["rows_discarded"] += discarded
            metrics.SCAN_ROWS_DROPPED.labels("discarded").inc(discarded)
            log.error("scan buffer full while the database is unavailable: %d oldest scans "
                      "discarded", discarded)

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.max_age)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # logged in flush; a database hiccup must not kill the thread
                time.sleep(self.max_age)
            # Other workers cannot see this buffer: its depth goes to the (multiprocess)
            # gauge here, at most ``max_age`` seconds old, never on a verification's path.
            metrics.SCAN_BUFFER_PENDING.set(len(self._rows))

    def close(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            self.flush()
        except Exception:  # logged in flush: nothing more to do at interpreter exit
            if self._rows:
                log.error("scan buffer closed with %d scans unwritten", len(self._rows))


class ScanBudget:
    """How many scan rows one client may cost per hour (per worker): ``per_client`` in all,
    and ``per_serial`` of one label. The page answers every request; beyond the budget the
    scan is not written (and counted in ``skipped``). The client is the daily hash of the
    network prefix, so a flood from one address or /64 is one client.

    Fixed clock hours keep it to two dictionaries cleared on the hour: no per-request
    bookkeeping beyond a lookup and an increment."""

    def __init__(self, per_client: int, per_serial: int, max_clients: int = 200_000) -> None:
        self.per_client = per_client
        self.per_serial = per_serial
        self.max_clients = max_clients
        self.skipped = 0
        self._hour = -1
        self._clients: dict[str, int] = {}
        self._serials: dict[tuple[str, str, str, str], int] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, gtin: str, lot: str, serial: str) -> bool:
        hour = int(time.time() // 3600)
        key = (client, gtin, lot, serial)
        with self._lock:
            if (hour != self._hour or len(self._clients) > self.max_clients
                    or len(self._serials) > 10 * self.max_clients):
                self._hour, self._clients, self._serials = hour, {}, {}
            used = self._clients.get(client, 0)
            same = self._serials.get(key, 0)
            if used >= self.per_client or same >= self.per_serial:
                self.skipped += 1
                return False
            self._clients[client] = used + 1
            self._serials[key] = same + 1
            return True
