"""Figures dashboard benchmark at 1,000,000 batches, on SQLite and PostgreSQL.

Run from the repository root (by hand; it is not part of the test suite)::

    .venv/bin/python bench/dashboard.py                  # both databases
    .venv/bin/python bench/dashboard.py --only sqlite    # or --only postgres
    .venv/bin/python bench/dashboard.py --batches 200000 # a quicker, smaller run

PostgreSQL: the database ``bench_figures`` is dropped and created on the server of
``--pg-url`` (default ``postgresql://postgres@127.0.0.1:5432``). SQLite: a temporary file.

The registry is migrated with Alembic (so it has exactly the production indexes), then filled
with bulk inserts (``executemany`` on SQLite, ``COPY`` on PostgreSQL): 1,000,000 batches over
2019-01 … 2026-11, their decisions (about 85 % approved, 12 % rejected, some suspended or
revoked), 250,000 print jobs and 1,000,000 scans. Then it rebuilds the figures' summary table
(``flask figures rebuild``, timed) and times, best of three:

* ``queries.dashboard`` for an admin (all provinces), an officer (own province, the default),
  an exporter (own company), a commodity filter, a destination filter, a calendar year, and
  whole-history views (unfiltered, officer, exporter, filtered), each read from the summary
  table and, in the same run, from the base tables (``live=True``: the figures before
  issue 17, one run for the whole histories; an exporter's from their company's cells);
* the full ``/figures/`` page through Flask's test client (officer, default filters);
* a baseline: the naive way of one figure (load the period's certified batches as ORM objects
  and add them up in Python); ``--index-baseline`` also times the live dashboards without the
  figure indexes of migration 0006.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from registry import create_app  # noqa: E402
from registry.db import make_engine, migrate  # noqa: E402
from registry.gs1 import digital_link as gs1  # noqa: E402

START = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 25)
CHUNK = 50_000
PASSWORD = "bench-password-2026-long"
FIGURE_INDEXES = {"ix_decision_action_created": ("decision", "action, created_at, batch_id"),
                  "ix_print_job_created": ("print_job", "created_at, batch_id, quantity"),
                  "ix_scan_figures": ("scan", "created_at, verdict, country, language, batch_id")}

CATEGORY_UNITS = {"agriculture": ("kg", "t"), "fishery": ("kg", "t"), "livestock": ("head",),
                  "craft": ("pcs",), "processed-food": ("kg", "l")}
CATEGORY_HS = {"agriculture": ("090111", "080132", "090510", "121299"),
               "fishery": ("030342", "121221", "030389"), "livestock": ("010229",),
               "craft": ("711620", "442090", "520842"), "processed-food": ("040900", "200819")}
COUNTRIES = ("NL", "JP", "SG", "AU", "US", "CN", "DE", "KR", "MY", "AE", "FR", "GB", "TW", "HK",
             "SA", "IT", "CA", "TH", "VN", "BE")
N_EXPORTERS, N_PRODUCTS = 60, 600


# ---------------------------------------------------------------------------- data
def regency_codes() -> list[str]:
    from registry.reference import regencies

    return sorted(regencies())


def rows(n_batches: int, n_jobs: int, n_scans: int) -> dict[str, Callable[[], Iterator[tuple]]]:
    """Row generators per table (deterministic: each database gets the same registry)."""
    from registry.reference import hs_codes

    known_hs = set(hs_codes())
    regs = regency_codes()
    span = (END - START).total_seconds()

    def orgs() -> Iterator[tuple]:
        yield (1, "admin", "Admin", None, None, "", START)
        for i, p in enumerate(("51", "52", "53")):
            yield (2 + i, "trade_office", f"Office {p}", None, p, "", START)
        yield (5, "printer", "Print shop", None, "51", "", START)
        for i in range(N_EXPORTERS):
            yield (10 + i, "exporter", f"Exporter {i}", f"{9000000000000 + i}",
                   ("51", "52", "53")[i % 3], "", START)

    def users() -> Iterator[tuple]:
        from registry.accounts.auth import password_hashing
        from registry.accounts.passwords import hash_password

        pw = hash_password(password_hashing(), PASSWORD)
        people = [(1, "admin@bench.test", "admin", 1), (2, "officer.bali@bench.test", "officer", 2),
                  (3, "officer.ntb@bench.test", "officer", 3),
                  (4, "officer.ntt@bench.test", "officer", 4),
                  (5, "printer@bench.test", "printer", 5),
                  (6, "exporter@bench.test", "exporter", 10)]
        for uid, email, role, org in people:
            yield (uid, email, email.split("@")[0], pw, role, "active", org, f"nonce{uid}", "en",
                   START, None)

    def product_rows() -> list[tuple]:
        rnd = random.Random(1)
        cats = list(CATEGORY_UNITS)
        rows = []
        for i in range(N_PRODUCTS):
            cat = cats[i % len(cats)]
            hs = rnd.choice([h for h in CATEGORY_HS[cat] if h in known_hs] or ["090111"])
            rows.append((1 + i, 10 + i % N_EXPORTERS, f"Produk {i}", f"Product {i}", cat, hs,
                         None, "", None, None, START))
        return rows

    product_list = product_rows()

    def products() -> Iterator[tuple]:
        yield from product_list

    def frozen(product: int) -> tuple:
        """The batch's copy of its product as submitted (gtin ... photo, migration 0010)."""
        pid, _org, name_id, name_en, cat, hs, _gtin, desc, photo, sha, _at = (
            product_list[product - 1])
        return (gs1.registry_gtin(pid), name_id, name_en, cat, hs, desc, photo, sha)

    product_cat = {1 + i: list(CATEGORY_UNITS)[i % len(CATEGORY_UNITS)] for i in range(N_PRODUCTS)}

    def batch_facts() -> Iterator[tuple[int, int, int, str, dt.datetime, dt.datetime, str]]:
        """(id, product, org, status, submitted, decided, final) shared by batches/decisions."""
        rnd = random.Random(2)
        for i in range(1, n_batches + 1):
            product = rnd.randrange(1, N_PRODUCTS + 1)
            created = START + dt.timedelta(seconds=rnd.random() * span)
            submitted = created + dt.timedelta(hours=rnd.random() * 240)
            decided = submitted + dt.timedelta(hours=rnd.lognormvariate(3.5, 1.0))
            r = rnd.random()
            status = ("approved" if r < 0.80 else "suspended" if r < 0.82 else
                      "revoked" if r < 0.85 else "rejected" if r < 0.97 else "submitted")
            yield i, product, 10 + (product - 1) % N_EXPORTERS, status, submitted, decided, ""

    def batches() -> Iterator[tuple]:
        rnd = random.Random(3)
        for i, product, org, status, submitted, decided, _ in batch_facts():
            regency = rnd.choice(regs)
            unit = rnd.choice(CATEGORY_UNITS[product_cat[product]])
            qty = Decimal(rnd.randrange(10, 50_000)) / (1000 if unit == "t" else 1)
            created = submitted - dt.timedelta(hours=1)
            yield (i, org, product, f"L{i}", qty, unit, created.date(), None, regency,
                   regency[:2], "Koperasi", "benoa", rnd.choice(COUNTRIES),
                   rnd.randrange(5_000_000, 2_000_000_000), status,
                   (decided + dt.timedelta(days=365)).date() if status != "rejected" else None,
                   2, created, None if status == "draft" else submitted,
                   None if status == "submitted" else decided, *frozen(product),
                   None)  # verify_facts: the label's facts, not read by the figures

    def decisions() -> Iterator[tuple]:
        n = 0
        for i, _p, _org, status, _s, decided, _ in batch_facts():
            office = 2 + (i % 3)
            if status == "submitted":
                continue
            if status == "rejected":
                n += 1
                yield (n, i, office - 1, office, "reject", "submitted", "rejected",
                       ("Missing phytosanitary certificate", "Lab results expired",
                        "Quantity does not match invoice")[i % 3], None, decided)
                continue
            n += 1
            yield (n, i, office - 1, office, "approve", "submitted", "approved", None,
                   (decided + dt.timedelta(days=365)).date(), decided)
            if status in ("suspended", "revoked"):
                n += 1
                action = {"suspended": "suspend", "revoked": "revoke"}[status]
                yield (n, i, office - 1, office, action, "approved", status, "Complaint", None,
                       decided + dt.timedelta(days=30))

    def jobs() -> Iterator[tuple]:
        rnd = random.Random(4)
        span_days = (END - START).days
        for j in range(1, n_jobs + 1):
            b = rnd.randrange(1, n_batches + 1)
            q = rnd.randrange(50, 5000)
            at = START + dt.timedelta(days=rnd.random() * span_days)
            yield (j, b, 10, 5, "a4-3x7", q, 1, q, "1 kg", 6, at, 0, None)

    def scans() -> Iterator[tuple]:
        rnd = random.Random(5)
        for s in range(1, n_scans + 1):
            at = START + dt.timedelta(seconds=rnd.random() * span)
            r = rnd.random()
            batch = None if r < 0.03 else rnd.randrange(1, n_batches + 1)
            verdict = ("not_genuine" if batch is None else "possible_copy" if r < 0.05 else
                       "genuine")
            # Unbatched (not genuine) scans unattributed: they count in the unfiltered view.
            yield (s, at, batch, "0" * 14, f"L{batch}", str(s), s, verdict,
                   rnd.choice(("en", "id", "zh", "ja")), rnd.choice(COUNTRIES), "header", True,
                   "c" * 16, None, None, None, None)

    return {"organisation": orgs, "user": users, "product": products, "batch": batches,
            "decision": decisions, "print_job": jobs, "scan": scans}


def columns(table: str) -> list[str]:
    from sqlmodel import SQLModel

    import registry.db.models  # noqa: F401

    return [c.name for c in SQLModel.metadata.tables[table].columns]


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):  # as SQLAlchemy stores it: naive UTC text
        return v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    return v


def load(url: str, generators: dict[str, Callable[[], Iterator[tuple]]]) -> dict[str, int]:
    engine = make_engine(url)
    counts = {}
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, gen in generators.items():
            cols = columns(table)
            quoted = ", ".join(f'"{c}"' for c in cols)
            n = 0
            if engine.dialect.name == "postgresql":
                with cur.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for row in gen():
                        copy.write_row(row)
                        n += 1
            else:
                sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(cols))})'
                chunk: list[tuple] = []
                for row in gen():
                    chunk.append(tuple(_sqlite_value(v) for v in row))
                    if len(chunk) >= CHUNK:
                        cur.executemany(sql, chunk)
                        n += len(chunk)
                        chunk = []
                cur.executemany(sql, chunk)
                n += len(chunk)
            counts[table] = n
        if engine.dialect.name == "postgresql":
            for table in generators:  # sequences follow the explicit ids
                cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                            f"(SELECT max(id) FROM \"{table}\"))")
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return counts


# ---------------------------------------------------------------------------- timing
def best_of(fn: Callable[[], Any], runs: int = 3) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), times


def rebuild_summary(url: str) -> float:
    """``flask figures rebuild``'s work on the loaded registry (the migration ran on an empty
    one): every summary cell from the base tables, in one transaction."""
    from registry.figures import summary

    engine = make_engine(url)
    t = time.perf_counter()
    with Session(engine) as s:
        cells = summary.rebuild(s)
        s.commit()
    took = time.perf_counter() - t
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    print(f"  summary rebuilt: {cells:,} cells in {took:.1f} s", flush=True)
    return took


def measure(url: str, index_baseline: bool) -> list[tuple[str, float, float]]:
    from registry.accounts.models import User
    from registry.catalog.models import Batch
    from registry.figures import queries
    from registry.figures.queries import Filters
    from registry.review.models import Decision

    app = create_app({"DATABASE_URL": url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench-secret-key-long-enough-0123456789",
                      "INSTANCE_PATH": tempfile.mkdtemp(), "RATELIMIT_ENABLED": False,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    engine = app.extensions["engine"]
    year = Filters(start=dt.date(2025, 12, 1), end=dt.date(2026, 11, 1))
    whole = Filters(start=dt.date(2019, 1, 1), end=dt.date(2026, 11, 1))
    results = []

    def run_dashboards(label: str, quick: bool = False, live_too: bool = True) -> None:
        with app.test_request_context(), Session(engine) as s:
            admin, ntb, exporter = (s.get(User, i) for i in (1, 3, 6))
            cases = [
                ("admin, 12 months, all provinces", admin, year),
                ("officer NTB, 12 months, own province", ntb,
                 Filters(start=year.start, end=year.end, province="52")),
                ("exporter, 12 months, own company", exporter, year),
                ("admin, 12 months, category=fishery", admin,
                 Filters(start=year.start, end=year.end, category="fishery")),
                ("admin, 12 months, destination=NL", admin,
                 Filters(start=year.start, end=year.end, destination="NL")),
                ("admin, calendar year 2025", admin,
                 Filters(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 1))),
                ("admin, whole history (95 months)", admin, whole),
                ("officer NTB, whole history, own province", ntb,
                 Filters(start=whole.start, end=whole.end, province="52")),
                ("exporter, whole history, own company", exporter, whole),
                ("admin, whole history, category=fishery", admin,
                 Filters(start=whole.start, end=whole.end, category="fishery")),
                ("admin, whole history, destination=NL", admin,
                 Filters(start=whole.start, end=whole.end, destination="NL")),
                ("admin, whole history, fishery to JP, NTT", admin,
                 Filters(start=whole.start, end=whole.end, category="fishery",
                         destination="JP", province="53")),
            ]
            for name, user, filters in cases[:3] if quick else cases:
                modes = (False, True) if live_too else (True,)
                for live in modes:
                    # The live queries over a whole history take seconds: one run of those.
                    runs = 1 if quick or (live and "whole" in name) else 3
                    best, times = best_of(
                        lambda u=user, f=filters, v=live: queries.dashboard(s, u, f, live=v),
                        runs=runs)
                    mode = "live" if live else "summary"
                    results.append((f"{label} {mode}: {name}", best, statistics.median(times)))
                    print(f"  {label:<10} {mode:<8} {name:<44} best {best * 1000:8.1f} ms",
                          flush=True)

    run_dashboards("dashboard")

    client = app.test_client()
    client.post("/login", data={"email": "officer.ntb@bench.test", "password": PASSWORD})

    def page() -> None:
        response = client.get("/figures/")
        assert response.status_code == 200, response.status_code

    best, times = best_of(page)
    results.append(("page: /figures/ (officer, defaults)", best, statistics.median(times)))
    print(f"  {'page':<19} {'/figures/ officer, defaults':<44} best {best * 1000:8.1f} ms")

    # The monthly PDF is built in the request (README "Known gaps"): what that costs.
    admin = app.test_client()
    admin.post("/login", data={"email": "admin@bench.test", "password": PASSWORD})
    for who, reader, lang in (("officer", client, "id"), ("officer", client, "en"),
                              ("admin", admin, "en")):
        def report(reader: Any = reader, lang: str = lang) -> None:
            response = reader.get(f"/figures/report.pdf?month=2026-10&lang={lang}")
            assert response.status_code == 200, response.status_code
            assert response.data.startswith(b"%PDF"), response.data[:20]

        best, times = best_of(report)
        name = f"/figures/report.pdf {who}, 2026-10, {lang}"
        results.append((f"report: {name}", best, statistics.median(times)))
        print(f"  {'report':<19} {name:<44} best {best * 1000:8.1f} ms", flush=True)

    # Baseline: the naive ORM way for one figure (total value) of the admin's year.
    def naive() -> int:
        start, end = year.bounds()
        with Session(engine) as s:
            total = 0
            for batch in s.exec(select(Batch).join(Decision, Decision.batch_id == Batch.id)
                                .where(Decision.action == "approve",
                                       Decision.created_at >= start, Decision.created_at < end)):
                total += batch.declared_value_idr
            return total

    best, times = best_of(naive, runs=1)
    results.append(("baseline: ORM loop, total value only, admin 12 months", best, best))
    print(f"  {'baseline':<19} {'ORM loop, one figure, admin 12 months':<44} best "
          f"{best * 1000:8.1f} ms")

    if index_baseline:
        # The live dashboards without the figure indexes of migration 0006.
        with engine.begin() as conn:
            for name in FIGURE_INDEXES:
                conn.execute(text(f"DROP INDEX {name}"))
            conn.execute(text("ANALYZE"))
        try:
            run_dashboards("no 0006 indexes", quick=True)
        finally:
            with engine.begin() as conn:
                for name, (table, cols) in FIGURE_INDEXES.items():
                    conn.execute(text(f'CREATE INDEX {name} ON "{table}" ({cols})'))
                conn.execute(text("ANALYZE"))
    engine.dispose()
    return results


def bench(kind: str, url: str, sizes: tuple[int, int, int], index_baseline: bool
          ) -> list[tuple[str, float, float]]:
    print(f"\n== {kind}: {url}", flush=True)
    t = time.perf_counter()
    migrate.upgrade(url)
    counts = load(url, rows(*sizes))
    print(f"  loaded {counts} in {time.perf_counter() - t:.0f} s", flush=True)
    took = rebuild_summary(url)
    return [("rebuild: flask figures rebuild", took, took), *measure(url, index_baseline)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--pg-db", default="bench_figures",
                        help="the PostgreSQL database to drop and create (default bench_figures)")
    parser.add_argument("--index-baseline", action="store_true",
                        help="also time the live dashboards without migration 0006's indexes")
    parser.add_argument("--pg-url", default=os.environ.get(
        "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    sizes = (args.batches, args.batches // 4, args.batches)
    report: dict[str, list[tuple[str, float, float]]] = {}
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            report["sqlite"] = bench("sqlite", f"sqlite:///{tmp}/bench.sqlite3", sizes,
                                     args.index_baseline)
    if args.only in (None, "postgres"):
        import psycopg

        with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.pg_db}"')
            conn.execute(f'CREATE DATABASE "{args.pg_db}"')
        report["postgres"] = bench("postgres", f"{args.pg_url}/{args.pg_db}", sizes,
                                   args.index_baseline)
    print(f"\n== at {args.batches:,} batches (best of 3, live whole histories 1 run; "
          "target <= 1 s with the summary table)")
    for kind, results in report.items():
        for name, best, median in results:
            over = not name.startswith(("baseline", "rebuild")) and " live" not in name
            flag = "  (over 1 s)" if over and best > 1 else ""
            print(f"  {kind:<9} {name:<70} {best * 1000:9.1f} ms (median {median * 1000:.1f})"
                  f"{flag}")
    # Side by side: each view with and without the summary table, same run.
    print("\n| view | " + " | ".join(f"{k} summary | {k} live" for k in report) + " |")
    print("|---|" + "---|---|" * len(report))
    names = [n.split(": ", 1)[1] for n, _b, _m in next(iter(report.values()))
             if n.startswith("dashboard summary")]
    for name in names:
        cells = []
        for results in report.values():
            found = {n: b for n, b, _m in results}
            cells += [f"{found[f'dashboard {m}: {name}'] * 1000:,.0f} ms"
                      for m in ("summary", "live")]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
