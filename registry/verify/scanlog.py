"""Scans are buffered in memory and written in batches by a background thread, so a
verification costs no database write; a crash loses at most the last two seconds of scans.

Few, large writes matter beyond the write itself: on SQLite every commit makes each other
connection drop its page cache (and its memory map) before its next read, so each flush slows
every worker's next lookups. At most one flush every ``max_age`` seconds per worker keeps that
rare; ``max_rows`` bounds memory under a burst."""

from __future__ import annotations

import atexit
import datetime as dt
import threading
import time
from typing import Any

from sqlalchemy.engine import Engine

_COLUMNS = ("created_at", "batch_id", "gtin", "lot", "serial", "serial_number", "verdict",
            "language", "country", "mobile", "client")
# Built from the constant tuple above, never from input: S608's injection risk does not apply.
_SQLITE_INSERT = (f"INSERT INTO scan ({', '.join(_COLUMNS)}) "  # noqa: S608
                  f"VALUES ({', '.join('?' for _ in _COLUMNS)})")
_PG_COPY = f"COPY scan ({', '.join(_COLUMNS)}) FROM STDIN"


def _copy(connection: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows through COPY, in the caller's transaction (psycopg)."""
    with connection.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
        for row in rows:
            copy.write_row(tuple(row[c] for c in _COLUMNS))


def _sqlite_row(row: dict[str, Any]) -> tuple[Any, ...]:
    # Timestamps as SQLAlchemy writes them on SQLite (naive UTC text), so reads compare alike.
    created = row["created_at"].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return (created, *(row[c] for c in _COLUMNS[1:]))


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
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="scan-buffer", daemon=True)
            self._thread.start()
            atexit.register(self.close)

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

    def pending_clients(self, batch_id: int, serial: int) -> tuple[str, ...]:
        """The client of each buffered scan of one serial, so signals count scans not yet
        written."""
        if (batch_id, serial) not in self._clients:
            return ()
        with self._lock:
            return tuple(self._clients.get((batch_id, serial), ()))

    def flush(self) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
            self._clients = {}
        if not rows:
            return 0
        try:
            with self.engine.begin() as conn:
                # Thousands of rows a second, written by the driver without the ORM's
                # per-row processing: that held the GIL (and so the worker's requests) for
                # tens of milliseconds a flush, which showed in the page's p99.
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql(_SQLITE_INSERT, [_sqlite_row(r) for r in rows])
                else:
                    _copy(conn.connection.driver_connection, rows)
        except Exception:
            # Keep the rows for the next attempt, but never grow without bound.
            with self._lock:
                self._rows = (rows + self._rows)[-100_000:]
                self._clients = {}
                for row in self._rows:
                    self._index(row)
            raise
        return len(rows)

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.max_age)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # a database hiccup must not kill the writer thread
                time.sleep(self.max_age)

    def close(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            self.flush()
        except Exception:  # nothing sensible to do at interpreter exit
            return
