"""Audit log benchmark: a trade officer's ``/audit`` pages at millions of events.

Builds on the registry that ``bench/verify.py --keep DIR`` loaded (1,000,000 batches, 5,000
exporters, three trade offices): copies it (PostgreSQL: ``CREATE DATABASE bench_audit TEMPLATE
bench_verify``; SQLite: a copy of ``DIR/registry.sqlite3`` in ``DIR/audit.sqlite3``), appends
``--per-batch`` events a batch (the exporter's create and submit, the origin office's approval;
3,000,000 with the defaults) and the Bali office's passage decisions on a tenth of the NTB and
NTT batches, then times the listing service (``registry.audit.listing.event_page``, the count
and one page of 50, as ``/audit`` runs it) for the administrator (every event: the baseline,
a walk down the ``seq`` index) and each office, pages 1, 2 and 1,000::

    .venv/bin/python bench/verify.py --keep /tmp/bv --no-http --rate 0     # once, ~4 min
    .venv/bin/python bench/audit_log.py --reuse /tmp/bv                    # both databases
    .venv/bin/python bench/audit_log.py --reuse /tmp/bv --app-root /tmp/old --postgres-only

``--app-root`` times another checkout's listing on the same data (before / after). The events'
hash chain is not computed (the listing never reads it); the copies are dropped at the end
unless ``--keep-copies``. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import kept

ROOT = Path(__file__).resolve().parents[1]
OFFICES = {"51": "Bali", "52": "NTB", "53": "NTT"}

# Events a batch, newest last (seq and time follow batch id): the exporter's, then the
# office's. A placeholder hash: the listing does not read the chain.
EVENTS_SQL = """
INSERT INTO audit_event (seq, created_at, actor_id, actor_label, action, object_type,
                         object_id, before, after, prev_hash, hash)
SELECT {first} + row_number() OVER (ORDER BY b.id, v.k), {created},
       CASE WHEN v.k = {n} - 1 THEN o.id ELSE u.id END,
       CASE WHEN v.k = {n} - 1 THEN 'officer@bench.invalid' ELSE u.email END,
       v.action, 'batch', CAST(b.id AS TEXT), NULL, '{{}}', '{zero}', '{zero}'
FROM batch b
JOIN "user" u ON u.organisation_id = b.organisation_id
JOIN organisation office ON office.kind = 'trade_office'
     AND office.province_code = b.origin_province_code
JOIN "user" o ON o.organisation_id = office.id
JOIN ({kinds}) v ON 1 = 1
"""
PASSAGES_SQL = """
INSERT INTO audit_event (seq, created_at, actor_id, actor_label, action, object_type,
                         object_id, before, after, prev_hash, hash)
SELECT {first} + row_number() OVER (ORDER BY b.id), {created}, o.id, 'officer@bench.invalid',
       'shipment.confirm', 'shipment', CAST(b.id AS TEXT), NULL, '{{}}', '{zero}', '{zero}'
FROM batch b
JOIN organisation office ON office.kind = 'trade_office' AND office.province_code = '51'
JOIN "user" o ON o.organisation_id = office.id
WHERE b.origin_province_code <> '51' AND b.id % 10 = 0
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def fill(url: str, per_batch: int) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    actions = ["batch.create", "batch.submit", "batch.edit"]  # then the approval
    chosen = [*actions[:per_batch - 1], "batch.approve"]
    kinds = " UNION ALL ".join(f"SELECT {k} AS k, '{a}' AS action" for k, a in enumerate(chosen))
    pg = engine.dialect.name == "postgresql"
    order = f"(b.id * {len(chosen)} + v.k)"
    if pg:  # three years of events up to now, then a day of passages
        created = f"now() - interval '3 years' + {order} * interval '30 seconds'"
        passage = "now() - interval '1 day' + b.id * interval '10 milliseconds'"
    else:  # SQLite: times as text, as SQLAlchemy writes them
        created = (f"strftime('%Y-%m-%d %H:%M:%f', '2024-01-01', "
                   f"'+' || ({order} * 30) || ' seconds')")
        passage = "strftime('%Y-%m-%d %H:%M:%f', '2027-01-01', '+' || b.id || ' seconds')"
    zero = "0" * 64
    t0 = time.perf_counter()
    with engine.begin() as conn:
        first = conn.execute(text("SELECT coalesce(max(seq), 0) FROM audit_event")).scalar_one()
        conn.execute(text(EVENTS_SQL.format(first=first, kinds=kinds, created=created,
                                            n=len(chosen), zero=zero)))
        first = conn.execute(text("SELECT max(seq) FROM audit_event")).scalar_one()
        conn.execute(text(PASSAGES_SQL.format(first=first, created=passage, zero=zero)))
        total = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE audit_event"))
    engine.dispose()
    log(f"{url.split(':')[0]}: {total:,} audit events ({time.perf_counter() - t0:.0f} s)")
    return int(total)


def time_pages(url: str, repeat: int) -> list[tuple[str, int, float, int]]:
    from sqlmodel import Session

    from registry.audit import listing
    from registry.db import make_engine
    from registry.db.paging import Window

    engine = make_engine(url)
    scopes = [("admin", listing.LogScope())] + [
        (f"{name} office", listing.LogScope(province=code)) for code, name in OFFICES.items()]
    out = []

    def timed(label: str, scope: Any, filters: Any, number: int) -> None:
        """Best of ``repeat`` timings of one page, each in a fresh session."""
        best, total = float("inf"), 0
        for _ in range(repeat):
            with Session(engine) as session:
                t0 = time.perf_counter()
                page = listing.event_page(session, scope, filters,
                                          Window(number=number, size=50))
                best = min(best, time.perf_counter() - t0)
                total = page.total
        out.append((label, number, best, total))
        log(f"  {label}, page {number}: {1000 * best:,.0f} ms ({total:,} events)")

    for label, scope in scopes:
        for number in (1, 2, 1000):
            timed(label, scope, listing.LogFilter(), number)
    # What an officer looking into something asks: one batch's events, one person's, one
    # kind of action, one day; page 1 of each, for each office (the batch and the person of
    # its own province, in the middle of the trail).
    for code, name in OFFICES.items():
        scope = listing.LogScope(province=code)
        for what, filters in _filters(engine, code):
            timed(f"{name} office, {what}", scope, filters, 1)
    engine.dispose()
    return out


def _filters(engine: Any, province: str) -> list[tuple[str, Any]]:
    """A batch of ``province`` halfway through the ids, an exporter of it, an action, a day."""
    import datetime as dt

    from sqlalchemy import text

    from registry.audit import listing

    with engine.connect() as conn:
        batch_id = conn.execute(text(
            "SELECT min(id) FROM batch WHERE origin_province_code = :p AND id > "
            "(SELECT max(id) / 2 FROM batch)"), {"p": province}).scalar_one()
        email = conn.execute(text(
            'SELECT min(u.email) FROM "user" u JOIN organisation o ON o.id = u.organisation_id '
            "WHERE o.kind = 'exporter' AND o.province_code = :p"), {"p": province}).scalar_one()
        created = conn.execute(text(
            "SELECT min(created_at) FROM audit_event WHERE object_type = 'batch' "
            "AND object_id = :id"), {"id": str(batch_id)}).scalar_one()
    if isinstance(created, str):  # SQLite keeps it as text
        created = dt.datetime.fromisoformat(created)
    day = created.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=dt.UTC)
    return [
        ("batch", listing.LogFilter(object_type="batch", object_id=str(batch_id))),
        ("exporter", listing.LogFilter(actor=email)),
        ("approvals", listing.LogFilter(action="batch.approve")),
        ("one day", listing.LogFilter(since=day, until=day + dt.timedelta(days=1))),
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reuse", metavar="DIR", required=True,
                   help="what bench/verify.py --keep DIR loaded")
    p.add_argument("--per-batch", type=int, default=3, choices=(1, 2, 3, 4))
    p.add_argument("--repeat", type=int, default=2, help="best of N timings a page")
    p.add_argument("--sqlite-only", action="store_true")
    p.add_argument("--postgres-only", action="store_true")
    p.add_argument("--app-root", metavar="DIR", help="time another checkout's listing")
    p.add_argument("--keep-copies", action="store_true")
    args = p.parse_args()
    sys.path.insert(0, str(Path(args.app_root).resolve() if args.app_root else ROOT))

    results: dict[str, list[tuple[str, int, float, int]]] = {}
    for db, url in kept.copies(Path(args.reuse), "audit",
                               lambda url: fill(url, args.per_batch),
                               sqlite=not args.postgres_only, postgres=not args.sqlite_only,
                               keep=args.keep_copies):
        log(f"{db}:")
        results[db] = time_pages(url, args.repeat)
    print(f"\n/audit, the listing service's count and page of 50 (best of {args.repeat}):")
    print(f"{'database':11}{'reader':28}{'page':>6}{'ms':>9}{'events':>12}")
    for db, rows in results.items():
        for label, number, best, total in rows:
            print(f"{db:11}{label:28}{number:>6}{1000 * best:>9,.0f}{total:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
