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
bytes written, and its peak RSS against the RSS just before (``ru_maxrss``; the CSV streams
and the workbook goes to a temporary file, so memory should not grow with the rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# Certified (approved, later suspended or revoked) share of dashboard.py's batches: 85 %.
CERTIFIED_SHARE = 0.85


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


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
        before = _rss_kb()
        cpu = time.process_time()
        wall = time.perf_counter()
        write_export_file(export_id)
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with open_session(app) as session:
            done = session.get_one(ExportFile, export_id)
            result = {"state": done.state, "rows": done.rows_done, "bytes": done.size,
                      "wall": wall, "cpu": cpu, "rss_before_kb": before, "peak_rss_kb": peak}
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
              f"(+{(r['peak_rss_kb'] - r['rss_before_kb']) / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
