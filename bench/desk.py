"""Desk benchmark: the suspicious-activity desk, the offices' digest and the sweep's copy
signals at a million scans, and what recording a scan costs, with the scan indexes of
migration 0035 (partial) and, in the same run, those of 0034 (every scan in every index).

Builds on the registry that ``bench/verify.py --keep DIR`` loaded (1,000,000 batches, 5,000
exporters, 1,000,000 genuine scans of batches): copies it (PostgreSQL: ``CREATE DATABASE
bench_desk TEMPLATE bench_verify``; SQLite: ``DIR/desk.sqlite3``) and adds what a desk shows:
``--not-genuine`` scans of no batch (attributed to a product, its exporter and its office, a
tenth to nobody, the administrators' share) and ``--copies`` "possible copy" answers on
random batches, over the last two years::

    .venv/bin/python bench/verify.py --keep /tmp/bv --no-http --rate 0     # once, ~4 min
    .venv/bin/python bench/desk.py --reuse /tmp/bv                         # both databases

Then, at the head revision and after ``alembic downgrade 0034`` (the baseline), alternately
``--rounds`` times, best of ``--repeat`` each: each desk list (not-genuine groups,
possible-copy serials: page 1 and the count, as ``/desk`` runs them) for the administrators,
the administrators' "everything", the NTB office and one exporter; the NTB office's digest of
a day; the sweep's copy signals of a day (rolled back); and recording 10 × 1,000 genuine scans
through ``ScanBuffer.flush`` (this process's CPU a row: the whole write on SQLite, only the
client's share on PostgreSQL, so the wall time is given too). The copies are dropped at the
end unless ``--keep-copies``. Only 127.0.0.1 is contacted.

``--against all-time`` compares instead, at the head revision only, the desk's lists looking
back the default period (a quarter, ``registry.desk.rules``) with the same lists over all
time, alternately (the suspicious scans span two years)::

    .venv/bin/python bench/desk.py --reuse /tmp/bv --against all-time [--copies 200000 ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kept

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
KINDS = ("bad_signature", "unknown_lot", "never_printed", "unknown_key")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fill(url: str, not_genuine: int, copies: int) -> None:
    """The desk's share of scans, written through the scan buffer as the page writes them."""
    from sqlalchemy import text

    from registry.db import make_engine, migrate
    from registry.verify.scanlog import ScanBuffer

    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        products = conn.execute(text(
            "SELECT p.id, p.organisation_id, o.province_code FROM product p "
            "JOIN organisation o ON o.id = p.organisation_id ORDER BY p.id")).all()
        batches = conn.execute(text("SELECT max(id) FROM batch")).scalar()
    rnd = random.Random(35)
    buffer = ScanBuffer(engine, background=False, max_rows=10**9)
    span = 2 * 365 * 86_400
    for n in range(not_genuine):
        product, organisation, province = rnd.choice(products)
        nobody = n % 10 == 0
        buffer.add(row(NOW - dt.timedelta(seconds=rnd.random() * span), None,
                       "not_genuine", n, client=rnd.getrandbits(48),
                       product=None if nobody else product,
                       organisation=None if nobody else organisation,
                       province=None if nobody else province, kind=rnd.choice(KINDS)))
    for n in range(copies):
        # A copied label is scanned many times: 20 serials a batch's copies at most.
        buffer.add(row(NOW - dt.timedelta(seconds=rnd.random() * span),
                       rnd.randrange(1, batches + 1), "possible_copy", n % 20,
                       client=rnd.getrandbits(48)))
    written = buffer.flush()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE scan")  # as autovacuum would after the load
    engine.dispose()
    log(f"  {written:,} desk scans added")


def row(at: dt.datetime, batch: int | None, verdict: str, serial: int, *, client: int,
        product: int | None = None, organisation: int | None = None,
        province: str | None = None, kind: str | None = None) -> dict[str, Any]:
    return {"created_at": at, "batch_id": batch, "gtin": "04900000000005", "lot": "L",
            "serial": str(serial), "serial_number": serial, "verdict": verdict,
            "language": "id", "country": "ID", "country_source": "header", "mobile": True,
            "client": f"{client:016x}", "product_id": product, "organisation_id": organisation,
            "province_code": province, "kind": kind}


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def time_desk(url: str, repeat: int, since: dt.datetime | None = None, *,
              lists_only: bool = False) -> list[tuple[str, float]]:
    """Each figure, best of ``repeat``; the desk's lists looking back from ``since`` (None:
    all time)."""
    from sqlalchemy import text
    from sqlmodel import Session

    from registry.db import make_engine
    from registry.db.paging import Window
    from registry.desk import services as desk
    from registry.notifications import services as notices
    from registry.verify.scanlog import ScanBuffer

    engine = make_engine(url)
    results: list[tuple[str, float]] = []
    with engine.connect() as conn:
        exporter = conn.execute(text(
            "SELECT organisation_id FROM scan WHERE batch_id IS NULL "
            "AND organisation_id IS NOT NULL GROUP BY organisation_id "
            "ORDER BY count(*) DESC LIMIT 1")).scalar()
    scopes = {"administrators": desk.DeskScope(admin=True),
              "administrators, everything": desk.DeskScope(admin=True, everything=True),
              "office NTB": desk.DeskScope(province="52"),
              f"exporter {exporter}": desk.DeskScope(organisation_id=exporter)}
    with Session(engine) as session:
        for name, scope in scopes.items():
            for label, fn in (("not-genuine", desk.scan_groups),
                              ("copies", desk.copy_serials)):
                took = best(lambda f=fn, s=scope: f(session, s, Window(1, 25), since),
                            repeat)
                results.append((f"{label:<11} {name}", took))
                log(f"  {label:<11} {name:<28} {took * 1000:9.1f} ms")
    if lists_only:
        engine.dispose()
        return results
    with Session(engine) as session:
        day = NOW - dt.timedelta(days=1)
        took = best(lambda: notices.digest(session, "52", day, NOW), repeat)
        results.append(("digest      office NTB, a day", took))
        log(f"  digest      office NTB, a day            {took * 1000:9.1f} ms")

        def signals() -> None:
            with session.begin_nested() as savepoint:
                notices.copy_signals(session, NOW)
                savepoint.rollback()

        took = best(signals, repeat)
        results.append(("signals     copies of a day (sweep)", took))
        log(f"  signals     copies of a day (sweep)      {took * 1000:9.1f} ms")
        session.rollback()

    # Recording scans as the page does: 1,000-row flushes of genuine scans of random batches.
    buffer = ScanBuffer(engine, background=False, max_rows=10**9)
    rnd = random.Random(7)
    with engine.connect() as conn:
        first = conn.execute(text("SELECT max(id) FROM scan")).scalar()
    cpu = wall = 0.0
    for _ in range(10):
        for _n in range(1000):
            buffer.add(row(NOW, rnd.randrange(1, 1_000_001), "genuine",
                           rnd.randrange(1, 100), client=rnd.getrandbits(48)))
        c, w = time.process_time(), time.perf_counter()
        buffer.flush()
        cpu += time.process_time() - c
        wall += time.perf_counter() - w
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM scan WHERE id > :first"), {"first": first})
    results.append(("record      a scan, this process's CPU", cpu / 10_000))
    results.append(("record      a scan, wall", wall / 10_000))
    log(f"  record      a scan: {cpu / 10_000 * 1e6:.1f} µs CPU here, "
        f"{wall / 10_000 * 1e6:.1f} µs wall")
    engine.dispose()
    return results


def compare(url: str, repeat: int, rounds: int) -> list[tuple[str, float, float]]:
    """Each figure at the head revision and at 0034, alternately ``rounds`` times (the order
    of two runs moves a figure by more than the indexes do): the best of each."""
    from registry.db import migrate

    head: dict[str, float] = {}
    base: dict[str, float] = {}
    try:
        for n in range(rounds):
            for label, revision, best_of in (
                    ("head (0035: partial scan indexes)", "head", head),
                    ("0034 (every scan in every index)", "0034", base)):
                t = time.perf_counter()
                if revision == "head":
                    migrate.upgrade(url)
                else:
                    migrate.downgrade(url, revision)
                log(f"  round {n + 1}, {label}: migrated in {time.perf_counter() - t:.1f} s")
                for name, took in time_desk(url, repeat):
                    best_of[name] = min(best_of.get(name, took), took)
    finally:
        migrate.upgrade(url)
    return [(name, head[name], base[name]) for name in head]


def compare_periods(url: str, repeat: int, rounds: int) -> list[tuple[str, float, float]]:
    """The desk's lists at the head revision looking back the default period (a quarter,
    ``registry.desk.rules``) and all time, alternately ``rounds`` times: the best of each."""
    from registry.db import migrate
    from registry.desk.rules import DEFAULT_PERIOD, since

    migrate.upgrade(url)
    quarter: dict[str, float] = {}
    ever: dict[str, float] = {}
    for n in range(rounds):
        for label, start, best_of in (("the default period", since(DEFAULT_PERIOD, NOW), quarter),
                                      ("all time", None, ever)):
            log(f"  round {n + 1}, {label}:")
            for name, took in time_desk(url, repeat, start, lists_only=True):
                best_of[name] = min(best_of.get(name, took), took)
    return [(name, quarter[name], ever[name]) for name in quarter]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reuse", metavar="DIR", required=True,
                   help="what bench/verify.py --keep DIR loaded")
    p.add_argument("--not-genuine", type=int, default=30_000)
    p.add_argument("--copies", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rounds", type=int, default=2, help="head and 0034 alternately")
    p.add_argument("--sqlite-only", action="store_true")
    p.add_argument("--postgres-only", action="store_true")
    p.add_argument("--keep-copies", action="store_true")
    p.add_argument("--against", choices=("0034", "all-time"), default="0034",
                   help="the baseline: the scan indexes of 0034, or (head only) the desk's lists "
                        "over all time against the default period")
    args = p.parse_args()

    def filled(url: str) -> None:
        fill(url, args.not_genuine, args.copies)

    results: dict[str, list[tuple[str, float, float]]] = {}
    for db, url in kept.copies(Path(args.reuse), "desk", filled, sqlite=not args.postgres_only,
                               postgres=not args.sqlite_only, keep=args.keep_copies):
        log(f"{db}:")
        results[db] = (compare_periods if args.against == "all-time" else compare)(
            url, args.repeat, args.rounds)
    print(f"\nDesk, digest and signals (best of {args.repeat} × {args.rounds} rounds); "
          "recording a scan (10 × 1,000 a round):")
    columns = ("90 days", "all time") if args.against == "all-time" else ("head", "0034")
    for db, rows in results.items():
        print(f"\n{db:<44} {columns[0]:>10} {columns[1]:>10}")
        for name, now, before in rows:
            unit, scale = ("µs", 1e6) if name.startswith("record") else ("ms", 1e3)
            print(f"  {name:<42} {now * scale:7.1f} {unit} {before * scale:7.1f} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
