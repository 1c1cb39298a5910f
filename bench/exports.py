"""XLSX export benchmark: the task queue's task writing an export of 300,000 rows, on SQLite
and PostgreSQL; wall time, CPU time and peak memory (RSS) of the process that writes it.

Run from the repository root (by hand; it is not part of the test suite)::

    .venv/bin/python bench/exports.py                   # both databases, 300,000 rows
    .venv/bin/python bench/exports.py --only sqlite     # or --only postgres
    .venv/bin/python bench/exports.py --rows 50000      # a quicker, smaller run

The registry is migrated with Alembic and filled with ``bench/dashboard.py``'s generator
(bulk inserts, the same plausible batches over 2019-01 … 2026-11), with enough batches that
the whole history holds ``--rows`` certified ones. PostgreSQL: the database
``bench_exports`` is dropped and created on the server of ``--pg-url``.

Each measurement runs in a fresh child process, as a worker would: it makes the app, records
an export of the whole history for the administrator (``exportfiles.request_export``), then
runs the task ``write_export_file`` itself and reports its wall and CPU time, the rows and
bytes written, and its memory: the peak RSS of the export alone (``VmHWM``, reset just before
it) against the RSS just before, and the highest anonymous and mapped-file RSS sampled while
it runs (the CSV streams and the workbook goes to a temporary file, so memory should not grow
with the rows; on SQLite the database file is memory-mapped, so the pages read show as mapped
file, the kernel's page cache, not memory the process holds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# Certified (approved, later suspended or revoked) share of dashboard.py's batches: 85 %.
CERTIFIED_SHARE = 0.85


def _status_kb() -> dict[str, int]:
    """This process's memory lines of /proc/self/status, in kB."""
    with open("/proc/self/status") as status:
        return {name: int(value.split()[0]) for name, value in
                (line.split(":", 1) for line in status) if value.strip().endswith("kB")}


class _Sampler(threading.Thread):
    """The highest anonymous and file-backed resident memory seen while the export runs.

    ``VmHWM`` alone cannot say what the peak is made of: on SQLite the registry maps the whole
    database file (``PRAGMA mmap_size``), and the pages the export reads through that map
    count in the process's RSS as ``RssFile``: the kernel's page cache, shared and dropped at
    will, not memory the process holds. ``RssAnon`` is what it holds (the Python heap,
    SQLite's and libpq's buffers)."""

    def __init__(self, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.anon = self.file = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            status = _status_kb()
            self.anon = max(self.anon, status["RssAnon"])
            self.file = max(self.file, status["RssFile"])
            self.stop.wait(self.every)


def child(url: str, store: str) -> None:
    """One export written by the task, in this process; prints a JSON line."""
    from registry import create_app
    from registry.accounts.models import User
    from registry.figures import exportfiles
    from registry.figures.models import ExportFile
    from registry.figures.queries import Filters
    from registry.figures.tasks import write_export_file
    from registry.web.database import open_session

    app = create_app({"DATABASE_URL": url, "TESTING": True, "QUEUE_URL": "immediate",
                      "UPLOAD_DIR": store, "SECRET_KEY": "bench-" + "x" * 40,
                      "INSTANCE_PATH": store})
    with app.app_context():
        with open_session(app) as session:
            admin = session.get_one(User, 1)
            row = exportfiles.request_export(
                session, admin, Filters(start=dt.date(2019, 1, 1), end=dt.date(2026, 11, 1)),
                "en")
            session.commit()
            export_id = row.id
        before = _status_kb()
        # The peak of the export alone: ru_maxrss and VmHWM hold the process's whole life,
        # whose highest point may come earlier (building the app, loading reference lists).
        # Writing 5 to clear_refs resets VmHWM to the RSS of now (Linux, proc(5)).
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        sampler = _Sampler()
        sampler.start()
        cpu = time.process_time()
        wall = time.perf_counter()
        write_export_file(export_id)
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        sampler.stop.set()
        sampler.join()
        peak = _status_kb()["VmHWM"]
        with open_session(app) as session:
            done = session.get_one(ExportFile, export_id)
            result = {"state": done.state, "rows": done.rows_done, "bytes": done.size,
                      "wall": wall, "cpu": cpu, "rss_before_kb": before["VmRSS"],
                      "peak_rss_kb": peak, "anon_before_kb": before["RssAnon"],
                      "peak_anon_kb": sampler.anon, "file_before_kb": before["RssFile"],
                      "peak_file_kb": sampler.file}
    print(json.dumps(result), flush=True)


def measure(url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as store:
        out = subprocess.run([sys.executable, __file__, "--child", url, store], check=True,
                             capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


# Columns added since dashboard.py's generator was written (the photos' digests, nullable,
# read by nothing here): a NULL goes in their place.
ADDED = {"photo_sha256", "product_photo_sha256"}


def _padded(generators: dict[str, Callable[[], Iterator[tuple]]]
            ) -> dict[str, Callable[[], Iterator[tuple]]]:
    from dashboard import columns

    def pad(table: str, gen: Callable[[], Iterator[tuple]]) -> Callable[[], Iterator[tuple]]:
        names = columns(table)
        added = [i for i, name in enumerate(names) if name in ADDED]

        def rows() -> Iterator[tuple]:
            for row in gen():
                if len(row) < len(names):
                    values = list(row)
                    for i in added:
                        values.insert(i, None)
                    row = tuple(values)
                yield row

        return rows

    return {table: pad(table, gen) for table, gen in generators.items()}


def prepare(url: str, rows: int) -> None:
    from dashboard import load
    from dashboard import rows as generators

    from registry.db import migrate

    batches = round(rows / CERTIFIED_SHARE)
    t = time.perf_counter()
    migrate.upgrade(url)
    counts = load(url, _padded(generators(batches, 0, 0)))
    print(f"  loaded {counts} in {time.perf_counter() - t:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--pg-url", default=os.environ.get(
        "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--child", nargs=2, metavar=("URL", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    report: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "sqlite"):
            url = f"sqlite:///{tmp}/bench.sqlite3"
            print(f"\n== sqlite: {url}", flush=True)
            prepare(url, args.rows)
            report["sqlite"] = measure(url)
        if args.only in (None, "postgres"):
            import psycopg

            with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS bench_exports")
                conn.execute("CREATE DATABASE bench_exports")
            url = f"{args.pg_url}/bench_exports"
            print(f"\n== postgres: {url}", flush=True)
            prepare(url, args.rows)
            report["postgres"] = measure(url)
    print("\n== XLSX export written by the task (whole history, administrator)")
    for kind, r in report.items():
        print(f"  {kind:<9} {r['state']}: {r['rows']:,} rows, {r['bytes'] / 1e6:.1f} MB in "
              f"{r['wall']:.1f} s (CPU {r['cpu']:.1f} s); RSS {r['rss_before_kb'] / 1024:.0f} MB "
              f"before, peak {r['peak_rss_kb'] / 1024:.0f} MB "
              f"(+{(r['peak_rss_kb'] - r['rss_before_kb']) / 1024:.0f} MB): anonymous "
              f"{r['anon_before_kb'] / 1024:.0f} → {r['peak_anon_kb'] / 1024:.0f} MB, "
              f"mapped files {r['file_before_kb'] / 1024:.0f} → "
              f"{r['peak_file_kb'] / 1024:.0f} MB (sampled every 0.1 s)")


if __name__ == "__main__":
    main()
