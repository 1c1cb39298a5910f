"""Verification benchmark: the real resolver under the verification pool's server (granian, as
deploy/systemd/registry-verify.service runs it; ``--server gunicorn`` for the app's other
server) against a bare Flask route.

Run from the repository root (takes ~10 minutes with the defaults; see bench/README.md)::

    .venv/bin/python bench/verify.py                  # SQLite and PostgreSQL, 1,000,000 batches
    .venv/bin/python bench/verify.py --sqlite-only --batches 100000 --duration 10
    .venv/bin/python bench/verify.py --keep /tmp/bv   # keep the databases, key and URIs ...
    .venv/bin/python bench/verify.py --reuse /tmp/bv  # ... and serve them again without loading
    .venv/bin/python bench/verify.py --reuse /tmp/bv --profile 3000 --sqlite-only --no-http

What it does:

1. Builds a registry of ``--batches`` batches (default 1,000,000) with ``--serials-per-batch``
   printed serials on average (default 100, so 100,000,000 serials), stored as print-job ranges
   (1-3 jobs a batch), with organisations, users, products (20 batches each; ``--gtin-share`` of
   them with a company GTIN, the rest with registry-issued ones), an approval decision per batch
   (plus a suspension or revocation for some), public documents for a quarter of the batches
   and ``--scans`` earlier scans. The schema comes from ``registry.db.migrate.upgrade``; secondary
   indexes are dropped for the load and created again from their own definitions, so they are
   exactly the migrations' indexes. SQLite (WAL) in a temporary file; PostgreSQL in the
   database ``bench_verify`` (dropped and created again), loaded with COPY. Each batch's
   verification facts (``registry/verify/facts.py``) are then filled from the loaded tables.
2. Creates an Ed25519 key (``registry.signing.keydir.KeyDir``) in a temporary folder, writes
   ``--uris`` signed label URIs (path and query) for random printed serials, and imports the
   key into each loaded database (as ``keys import-dir`` does).
3. Serves the real app (``wsgi:app``), a bare Flask "hello" app and two yardsticks with the
   same server settings (``--server``; granian with the verification unit's flags and
   environment, ``--workers`` processes of one thread, loopback, a free port): the issue's
   reference (``REFERENCE_APP``: an ORM get of a random batch and a Jinja page) and the floor
   (``FLOOR_APP``: bare WSGI, signature check and lookup statement only, fixed page). Drives
   each with wrk (``bench/wrk_uris.lua``: a random path per request) after a warm-up: the bare
   route, the reference, the floor, the verification page (``/verify/01/…``, text/html) and
   its JSON, the label URI itself (the resolver's 307 to the page), and the walk-up pages of
   the labels' lots and products.
4. Then, unless ``--rate 0``, the reference, the pages, the 307 and the walk-up pages again at
   a constant ``--rate`` (default 1,000 requests/s: wrk on a fixed schedule, same script) for
   p50/p90/p99 at that load rather than at saturation.
5. Prints requests/s, p50 and p99 for each, the ratio to the bare route and to the reference,
   and the CPU time a request of the servers, PostgreSQL and wrk, per database; then the
   constant-rate table. Targets (issue 14 §5): page and JSON at least as fast relative to the
   reference as before (1.07–1.10× SQLite, 1.17–1.29× PostgreSQL), p99 <= 25 ms at 1,000
   requests/s.

``--profile N`` instead (or as well) runs N verification requests through Flask's test client
against the SQLite database, counting SQL statements per request, timing each step of a
resolution, and printing cProfile's top functions.

Every server is started by this script and stopped at its end (SIGTERM, then SIGKILL of its
own process group); wrk runs are bounded by ``--duration``; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP_ROOT = ROOT  # --app-root: serve and profile another checkout (e.g. a copy with a fix)
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "bench_verify"
SECRET_KEY = "bench-verify-" + "k" * 48
BENCH_KEK = "YmVuY2gtdmVyaWZ5LWtlay0zMi1ieXRlcy1sb25nISE="  # base64 of 32 bytes, bench only
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
USER_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36")
SEED = 20260704
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------- data


def ts(value: dt.datetime) -> str:
    """A timestamp as SQLAlchemy stores it in SQLite; PostgreSQL's COPY (UTC) reads it too."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def ds(value: dt.date) -> str:
    return value.isoformat()


@dataclass
class Plan:
    """The generated registry: rows per table (tuples of text/ints, valid for both databases)."""

    batches: int
    serials_per_batch: int
    gtin_share: float
    scans: int
    tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = field(default_factory=dict)
    # per batch (index batch_id - 1): product id and number of serials printed
    batch_product: list[int] = field(default_factory=list)
    batch_serials: list[int] = field(default_factory=list)
    batch_status: list[str] = field(default_factory=list)
    product_gtin: dict[int, str] = field(default_factory=dict)

    @property
    def total_serials(self) -> int:
        return sum(self.batch_serials)

    def lot(self, batch_id: int) -> str:
        return f"LOT-{batch_id:07d}"


def build_plan(batches: int, serials_per_batch: int, gtin_share: float, scans: int) -> Plan:
    from registry.catalog.rules import Category
    from registry.gs1 import digital_link as gs1
    from registry.reference import HUBS, regencies

    rng = random.Random(SEED)
    plan = Plan(batches, serials_per_batch, gtin_share, scans)
    regs = sorted(regencies())
    hubs = sorted(HUBS)
    countries = ["JP", "CN", "SG", "US", "AU", "NL", "DE", "KR", "TW", "MY"]
    created = ts(NOW - dt.timedelta(days=400))

    # Organisations and one user each: 1 admin, 3 trade offices (one per province), 20
    # printers, exporters. A user's id is its organisation's id.
    offices = {"51": 2, "52": 3, "53": 4}
    printers = list(range(5, 25))
    n_exporters = max(10, batches // 200)
    exporters = list(range(25, 25 + n_exporters))
    orgs = [(1, "admin", "Registry administration", None, None, "", created)]
    orgs += [(oid, "trade_office", f"Dinas Perdagangan {prov}", None, prov, "", created)
             for prov, oid in offices.items()]
    orgs += [(oid, "printer", f"Percetakan {oid}", None, "51", "", created) for oid in printers]
    orgs += [(oid, "exporter", f"CV Ekspor Nusantara {oid}", f"{oid:013d}",
              ("51", "52", "53")[oid % 3], "Jl. Bypass 1", created) for oid in exporters]
    role = {"admin": "admin", "trade_office": "officer", "printer": "printer",
            "exporter": "exporter"}
    users = [(o[0], f"user{o[0]}@bench.invalid", f"User {o[0]}", "!", role[o[1]], "active",
              o[0], f"nonce{o[0]}", None, created, None) for o in orgs]
    plan.tables["organisation"] = (
        ["id", "kind", "name", "nib", "province_code", "address", "created_at"], orgs)
    plan.tables["user"] = (
        ["id", "email", "name", "password_hash", "role", "status", "organisation_id",
         "session_nonce", "locale", "created_at", "last_login_at"], users)

    n_products = max(1, batches // 20)
    products = []
    for pid in range(1, n_products + 1):
        gtin = None
        if rng.random() < gtin_share:
            body = f"0899{pid:09d}"
            gtin = body + gs1.gtin_check_digit(body)
        plan.product_gtin[pid] = gtin or gs1.registry_gtin(pid)
        category = list(Category)[pid % len(Category)].value
        products.append((pid, exporters[(pid - 1) % n_exporters], f"Kopi Arabika {pid}",
                         f"Arabica coffee {pid}", category, "090111",
                         gtin, "Semi-washed, grade 1.", None, created))
    plan.tables["product"] = (
        ["id", "organisation_id", "name_id", "name_en", "category", "hs_code", "gtin",
         "description", "photo_stored_name", "created_at"], products)

    batch_rows, decisions, jobs, counters, documents = [], [], [], [], []
    job_id = 0
    decision_id = 0
    spb = serials_per_batch
    spread = max(0, spb // 2)
    today = NOW.date()
    for bid in range(1, batches + 1):
        pid = (bid - 1) % n_products + 1
        org = exporters[(pid - 1) % n_exporters]
        regency = regs[bid % len(regs)]
        province = regency[:2]
        office = offices[province]
        # Serials: pairs of batches average exactly ``spb`` (100 +/- d).
        if bid % 2 == 1:
            delta = rng.randint(-spread, spread)
            plan_delta = delta
        else:
            delta = -plan_delta
        n_serials = max(1, spb + delta)
        produced = today - dt.timedelta(days=30 + bid % 300)
        decided = dt.datetime.combine(produced, dt.time(9, 0), dt.UTC) + \
            dt.timedelta(days=3, seconds=bid % 3600)
        r = rng.random()
        status, valid_until = "approved", produced + dt.timedelta(days=730)
        extra = None
        if r < 0.03:
            status, extra = "suspended", ("suspend", "approved", "suspended",
                                          "Laboratory re-test pending")
        elif r < 0.05:
            status, extra = "revoked", ("revoke", "approved", "revoked",
                                        "Pesticide residue above the limit")
        elif r < 0.10:
            valid_until = today - dt.timedelta(days=1 + bid % 60)  # approved, expired
        plan.batch_product.append(pid)
        plan.batch_serials.append(n_serials)
        plan.batch_status.append("expired" if r >= 0.05 and r < 0.10 else status)
        batch_rows.append((
            bid, org, pid, plan.lot(bid), f"{1000 + bid % 5000}.500", "kg", ds(produced),
            ds(produced + dt.timedelta(days=540)), regency, province,
            f"Koperasi Tani {bid % 997}", hubs[bid % len(hubs)], countries[bid % len(countries)],
            150_000_000 + bid, status, ds(valid_until), 2 if extra is None else 3,
            ts(decided - dt.timedelta(days=5)), ts(decided - dt.timedelta(days=2)),
            ts(decided),
            # The product as submitted, frozen with the batch (migration 0010).
            plan.product_gtin[pid], f"Kopi Arabika {pid}", f"Arabica coffee {pid}",
            list(Category)[pid % len(Category)].value, "090111", "Semi-washed, grade 1.", None))
        decision_id += 1
        decisions.append((decision_id, bid, office, office, "approve", "submitted", "approved",
                          None, ds(valid_until), ts(decided)))
        if extra is not None:
            decision_id += 1
            decisions.append((decision_id, bid, office, office, extra[0], extra[1], extra[2],
                              extra[3], None, ts(decided + dt.timedelta(days=20))))
        # 1-3 print jobs splitting the batch's serials.
        k = min(n_serials, rng.choice((1, 1, 2, 2, 2, 3)))
        cuts = sorted(rng.sample(range(1, n_serials), k - 1)) if k > 1 else []
        bounds = [0, *cuts, n_serials]
        for j in range(k):
            first, last = bounds[j] + 1, bounds[j + 1]
            job_id += 1
            printed = decided + dt.timedelta(days=1 + j)
            jobs.append((job_id, bid, org, printers[bid % len(printers)], "a4-3x7",
                         last - first + 1, first, last, "250 g", org, ts(printed), 1, None))
        counters.append((bid, n_serials + 1))
        if bid % 4 == 0:
            documents.append((bid // 4, bid, "phytosanitary", f"phyto-{bid}.pdf",
                              f"{bid:032x}", "application/pdf", 123_456, "ab" * 32, 1, org,
                              ts(decided - dt.timedelta(days=4))))
    plan.tables["batch"] = (
        ["id", "organisation_id", "product_id", "lot_code", "quantity", "unit",
         "production_date", "best_before", "origin_regency_code", "origin_province_code",
         "producer", "hub", "destination_country", "declared_value_idr", "status",
         "valid_until", "version", "created_at", "submitted_at", "decided_at", "gtin",
         "product_name_id", "product_name_en", "product_category", "product_hs_code",
         "product_description", "product_photo"], batch_rows)
    plan.tables["decision"] = (
        ["id", "batch_id", "officer_id", "office_id", "action", "from_status", "to_status",
         "reason", "valid_until", "created_at"], decisions)
    plan.tables["print_job"] = (
        ["id", "batch_id", "exporter_org_id", "printer_org_id", "stock", "quantity",
         "serial_first", "serial_last", "net_quantity", "ordered_by", "created_at",
         "downloads", "last_downloaded_at"], jobs)
    plan.tables["serial_counter"] = (["batch_id", "next_serial"], counters)
    plan.tables["document"] = (
        ["id", "batch_id", "kind", "original_name", "stored_name", "content_type", "size",
         "sha256", "is_public", "uploaded_by", "uploaded_at"], documents)

    scan_rows = []
    for sid in range(1, scans + 1):
        bid = rng.randint(1, batches)
        serial = rng.randint(1, plan.batch_serials[bid - 1])
        when = NOW - dt.timedelta(seconds=rng.randint(3600, 30 * 86400))
        scan_rows.append((sid, ts(when), bid, plan.product_gtin[plan.batch_product[bid - 1]],
                          plan.lot(bid), str(serial), serial, "genuine", "en", "JP", 1,
                          f"{rng.getrandbits(64):016x}"))
    plan.tables["scan"] = (
        ["id", "created_at", "batch_id", "gtin", "lot", "serial", "serial_number", "verdict",
         "language", "country", "mobile", "client"], scan_rows)
    return plan


TABLE_ORDER = ["organisation", "user", "product", "batch", "decision", "print_job",
               "serial_counter", "document", "scan"]


# ------------------------------------------------------------------------------- SQLite load


def load_sqlite(plan: Plan, path: Path) -> None:
    from registry.db.migrate import upgrade

    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    upgrade(f"sqlite:///{path}")
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    # Secondary indexes of the migrations: drop for the load, then create them from their
    # own stored definitions (unique constraints' autoindexes stay).
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({','.join('?' * len(TABLE_ORDER))})", TABLE_ORDER).fetchall()
    for name, _sql in indexes:
        con.execute(f'DROP INDEX "{name}"')
    con.execute("BEGIN")
    for table in TABLE_ORDER:
        cols, rows = plan.tables[table]
        t0 = time.perf_counter()
        con.executemany(
            f'INSERT INTO "{table}" ({",".join(cols)}) VALUES ({",".join("?" * len(cols))})',
            rows)
        log(f"  sqlite {table}: {len(rows):,} rows in {time.perf_counter() - t0:.1f} s")
    con.execute("COMMIT")
    t0 = time.perf_counter()
    for _name, sql in indexes:
        con.execute(sql)
    log(f"  sqlite: {len(indexes)} indexes in {time.perf_counter() - t0:.1f} s")
    con.close()
    fill_facts(f"sqlite:///{path}")
    con = sqlite3.connect(path, isolation_level=None)
    # No ANALYZE: the app's migrations never run it, so production plans come without stats.
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def fill_facts(db_url: str) -> None:
    """Each batch's verification facts from the tables just loaded, as the services' flush
    hook keeps them (the load wrote the tables around it)."""
    from sqlalchemy import create_engine

    from registry.verify import facts

    t0 = time.perf_counter()
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        facts.refresh_all(conn)
    engine.dispose()
    log(f"  {db_url.split(':')[0]}: verification facts of every batch in "
        f"{time.perf_counter() - t0:.1f} s")


# --------------------------------------------------------------------------- PostgreSQL load


def pg_url(db: str = PG_DB) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{db}"


def load_postgres(plan: Plan) -> None:
    import psycopg

    from registry.db.migrate import upgrade

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DB}")
    upgrade(pg_url())
    with psycopg.connect(pg_url(), autocommit=True) as con:
        con.execute("SET TIME ZONE 'UTC'")
        con.execute("SET session_replication_role = replica")  # no FK triggers during COPY
        con.execute("SET maintenance_work_mem = '1GB'")
        con.execute("SET synchronous_commit = off")
        indexes = con.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [TABLE_ORDER]).fetchall()
        for name, _sql in indexes:
            con.execute(f'DROP INDEX "{name}"')
        with con.transaction():
            for table in TABLE_ORDER:
                cols, rows = plan.tables[table]
                t0 = time.perf_counter()
                with con.cursor() as cur, cur.copy(
                        f'COPY "{table}" ({",".join(cols)}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                log(f"  postgres {table}: {len(rows):,} rows in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        for _name, sql in indexes:
            con.execute(sql)
        log(f"  postgres: {len(indexes)} indexes in {time.perf_counter() - t0:.1f} s")
        for table in TABLE_ORDER:
            if "id" not in plan.tables[table][0]:
                continue
            seq = con.execute("SELECT pg_get_serial_sequence(%s, 'id')", [f'"{table}"']
                              ).fetchone()
            if seq and seq[0]:
                con.execute(f"SELECT setval('{seq[0]}', (SELECT max(id) FROM \"{table}\"))")
        fill_facts(pg_url())
        t0 = time.perf_counter()
        con.execute("VACUUM ANALYZE")  # what autovacuum would have done on a live registry
        log(f"  postgres: VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s")


# -------------------------------------------------------------------------------- keys, URIs


def make_key(key_dir: Path) -> None:
    from registry.signing.keydir import KeyDir

    shutil.rmtree(key_dir, ignore_errors=True)  # a fresh load gets a fresh key
    KeyDir(key_dir).create_key()


def import_key(db_url: str, key_dir: Path) -> None:
    """The bench key into a loaded database, sealed under the bench's KEK."""
    from sqlmodel import Session

    from registry.db import make_engine
    from registry.signing import kek, services

    engine = make_engine(db_url)
    with Session(engine) as session:
        services.import_dir(session, None, key_dir, passphrase=None,
                            kek=kek.parse(BENCH_KEK, "BENCH_KEK"))
        session.commit()
    engine.dispose()


def write_uris(plan: Plan, key_dir: Path, path: Path, count: int) -> dict[str, int]:
    """Signed label URIs (path and query) for random printed serials; returns the mix."""
    from registry.signing.keydir import KeyDir

    signer = KeyDir(key_dir).active_signer()
    rng = random.Random(SEED + 1)
    mix: dict[str, int] = {}
    lines = []
    for _ in range(count):
        bid = rng.randint(1, plan.batches)
        serial = rng.randint(1, plan.batch_serials[bid - 1])
        pid = plan.batch_product[bid - 1]
        gtin = plan.product_gtin[pid]
        uri = signer.label_uri("x.invalid", gtin, plan.lot(bid), str(serial))
        lines.append(uri.removeprefix("https://x.invalid"))
        kind = ("company-gtin " if not gtin.startswith("0049") else "registry-gtin ") + \
            plan.batch_status[bid - 1]
        mix[kind] = mix.get(kind, 0) + 1
    path.write_text("\n".join(lines) + "\n")
    return mix


# ------------------------------------------------------------------------------ the servers

HELLO_APP = '''\
from flask import Flask

app = Flask(__name__)


@app.route("/hello")
def hello():
    return "hello"
'''

# The issue's own reference point ("an ORM lookup in 1M rows plus a Jinja page reaches ~53 % of
# the bare route"), measured in the same run so the target can be read against this machine:
# one ORM get of a random batch through the registry's model and a Jinja page of its facts,
# about the size of the verification page. No signature, no status rules, no scan.
REFERENCE_APP = '''\
import os
import sys

sys.path.insert(0, os.environ["BENCH_APP_ROOT"])

from flask import Flask
from sqlalchemy import create_engine
from sqlmodel import Session

from registry.catalog.models import Batch

URL = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
engine = create_engine(URL)
app = Flask(__name__)
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Batch {{ b.lot_code }}</title><link rel="stylesheet" href="/static/verify.css"></head>
<body><main><h1 class="verdict">{{ b.status|upper }}</h1><dl>
{% for name, value in facts %}<dt>{{ name }}</dt><dd>{{ value }}</dd>
{% endfor %}</dl><p>{{ filler }}</p></main></body></html>"""
FILLER = "Compare these facts with the package in your hand. " * 40
TEMPLATE = app.jinja_env.from_string(PAGE)  # compiled once, as render_template caches it


@app.route("/ref/<int:batch_id>")
def reference(batch_id):
    with Session(engine) as session:
        b = session.get(Batch, batch_id)
        if b is None:
            return "not found", 404
        facts = [("Lot", b.lot_code), ("Quantity", f"{b.quantity} {b.unit}"),
                 ("Produced", b.production_date), ("Best before", b.best_before),
                 ("Origin", b.origin_regency_code), ("Producer", b.producer),
                 ("Hub", b.hub), ("Destination", b.destination_country),
                 ("Valid until", b.valid_until), ("Status", b.status)]
        return TEMPLATE.render(b=b, facts=facts, filler=FILLER)
'''


# What the target leaves room for: a bare WSGI app (no Flask) that does only the two things
# every verification must do (check the Ed25519 signature, run the lookup statement through
# the registry's own code) and answers a fixed page of the verification page's size and
# headers. No status rules, no page rendering, no scan recording, no client hash.
FLOOR_APP = '''\
import datetime as dt
import os
import sys

sys.path.insert(0, os.environ["BENCH_APP_ROOT"])

from registry import create_app
from registry.gs1 import digital_link as gs1
from registry.signing.keys import store_for
from registry.web.security import security_headers
from registry.verify import lookup

registry = create_app()
verifier = store_for(registry).verifier()
engine = registry.extensions["engine"]
BODY = ("<!doctype html><title>Verification</title>" + "<p>" + "x" * 3800).encode()
HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(BODY))),
           ("Cache-Control", "no-cache"), ("Vary", "Accept, Accept-Language"),
           *security_headers(production=False)]
kept = []


def app(environ, start_response):
    if environ["PATH_INFO"] != "/ready":
        if not kept:  # one connection per worker, kept like the resolver's
            pooled = engine.raw_connection()
            if hasattr(pooled.driver_connection, "autocommit"):
                pooled.driver_connection.rollback()
                pooled.driver_connection.autocommit = True
            kept.append(pooled)
        # granian passes no RAW_URI; the benchmark's URIs need no percent-decoding.
        link = gs1.parse_uri(environ.get("RAW_URI")
                             or f"{environ['PATH_INFO']}?{environ['QUERY_STRING']}")
        verifier.verify(link)
        now = dt.datetime.now(dt.UTC)
        lookup.find(kept[0].driver_connection, link, since=now - dt.timedelta(hours=1),
                    client="0" * 16, day_start=now - dt.timedelta(days=1))
    start_response("200 OK", HEADERS)
    return [BODY]
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_cpu_seconds() -> float:
    """CPU time (user + system) used so far by this machine's PostgreSQL processes."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            head, _, rest = stat.read_text().rpartition(")")
            if head.endswith(("(postgres", "(postmaster")):
                fields = rest.split()
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def granian_command(app: str, chdir: Path, port: int, workers: int, threads: int
                    ) -> tuple[list[str], dict[str, str]]:
    """granian as the verification pool's unit starts it (deploy/systemd/registry-verify.service,
    read by ``registry.ops.units``: the same flags, so a flag changed there is measured here),
    serving ``app`` from ``chdir`` on ``port`` with ``workers`` processes of ``threads``
    blocking threads, and the unit's ``Environment=`` settings. Every server of a run gets the
    same, yardsticks included."""
    from registry.ops.units import local_command

    unit = APP_ROOT / "deploy" / "systemd" / "registry-verify.service"
    if not unit.exists():  # --app-root at a checkout older than the unit
        unit = ROOT / "deploy" / "systemd" / "registry-verify.service"
    argv, env = local_command(unit, bin_dir=Path(sys.executable).parent, port=port)
    argv = argv[:-1]  # the unit's app (wsgi:app): each server names its own below
    argv[argv.index("--blocking-threads") + 1] = str(threads)
    module, _colon, attr = app.partition(":")
    return [*argv, "--working-dir", str(chdir), "--workers", str(workers),
            "--log-level", "warning", *(["--factory"] if attr.endswith("()") else []),
            f"{module}:{attr.removesuffix('()')}"], env


class Server:
    """A server (granian or gunicorn) started by this script; ``stop`` ends it and its
    workers, nothing else."""

    # The worker class and threads of every server started (``--worker-class``,
    # ``--worker-threads``): the same for the registry and its yardsticks.
    worker_class = "sync"
    worker_threads = 1
    program = "granian"  # or gunicorn (``--server``)

    def __init__(self, name: str, app: str, chdir: Path, env: dict[str, str], workers: int,
                 log_path: Path, ready_path: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if self.program == "granian":
            cmd, unit_env = granian_command(app, chdir, self.port, workers, self.worker_threads)
            if "PROMETHEUS_MULTIPROC_DIR" in unit_env:
                # The unit's metrics in files shared by the workers (multiprocess mode, as in
                # production): a fresh folder of this server's, as the unit makes at start.
                metrics_dir = log_path.with_name(f"prometheus-{name}")
                shutil.rmtree(metrics_dir, ignore_errors=True)
                metrics_dir.mkdir(parents=True)
                unit_env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
            env = {**env, **{k: v for k, v in unit_env.items() if k != "GRANIAN_WORKERS"}}
        else:
            gunicorn = Path(sys.executable).parent / "gunicorn"
            cmd = [str(gunicorn), "--chdir", str(chdir), "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(workers), "--worker-class", self.worker_class,
                   "--threads", str(self.worker_threads), "--timeout", "60",
                   "--log-level", "warning", app]
        self.log = log_path.open("w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_ready(ready_path)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by this server's processes (Linux /proc)."""
        total = 0
        pids = [self.proc.pid]
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
            pids += [int(c) for c in children.split()]
        for pid in pids:
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                total += int(stat[11]) + int(stat[12])  # utime, stime (fields 14, 15)
        return total / os.sysconf("SC_CLK_TCK")

    def _wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: server exited ({self.proc.returncode}); "
                                   f"see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: not ready after 60 s; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)  # its own session, made above
                self.proc.wait(timeout=5)
        self.log.close()


def app_env(workdir: Path, db_url: str, port_hint: str = "127.0.0.1:8000") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "DATABASE_"))}
    env.update({
        # Development mode: production now refuses to start on SQLite, a loopback PUBLIC_HOST
        # and without Redis or an object store, which is what this benchmark runs on. The
        # resolver's path is the same in both modes; only the HSTS header differs, and the
        # reference app below sends the same headers as this mode.
        "REGISTRY_ENV": "development",
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_HOST": port_hint,
        "DATABASE_URL": db_url,
        "KEY_ENCRYPTION_KEY": BENCH_KEK,
        "REGISTRY_INSTANCE": str(workdir / "instance"),
        "UPLOAD_DIR": str(workdir / "instance" / "uploads"),
        "PYTHONDONTWRITEBYTECODE": "1",
        # wrk sends every request from one address, which the scan budget would cut off
        # after a hundred rows; real scans come from many phones, so measure writing them all.
        "SCAN_ROWS_PER_CLIENT": "1000000000",
        "SCAN_ROWS_PER_SERIAL": "1000000000",
    })
    return env


def app_target() -> str:
    return "wsgi:app" if (APP_ROOT / "wsgi.py").exists() else "registry:create_app()"


# -------------------------------------------------------------------------------------- wrk


@dataclass
class Result:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    load: float = 0.0  # 1-minute load average at the end of the run (other work on the machine)
    p90_ms: float = 0.0
    max_ms: float = 0.0
    rate: int | None = None  # requests/s asked for (constant-rate runs); None: saturation
    server_us: float = 0.0  # the server's CPU time per request (master and workers)
    db_us: float = 0.0  # PostgreSQL's CPU time per request (all its processes on this machine)
    wrk_us: float = 0.0  # wrk's CPU time per request


def run_wrk(url: str, uris: Path, *, seconds: float, threads: int, connections: int,
            headers: Sequence[str], label: str, rate: int | None = None) -> Result:
    """wrk with a random path of ``uris`` per request, as fast as the server answers or, with
    ``rate``, on a fixed schedule of that many requests/s (bench/wrk_uris.lua)."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
           "--timeout", "5s", "-s", str(ROOT / "bench" / "wrk_uris.lua")]
    for h in headers:
        cmd += ["-H", h]
    cmd += [url, "--", str(uris)]
    if rate:
        cmd += [str(rate), str(threads)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{out.stdout}\n{out.stderr}")
    d = json.loads(line.removeprefix("WRK_JSON "))
    errors = d["connect"] + d["read"] + d["write"] + d["status"] + d["timeout"]
    return Result(label, d["requests"] / (d["duration_us"] / 1e6), d["p50_us"] / 1000,
                  d["p99_us"] / 1000, errors, d["requests"], os.getloadavg()[0],
                  wrk_us=1e6 * wrk_cpu / max(1, d["requests"]), p90_ms=d["p90_us"] / 1000,
                  max_ms=d["max_us"] / 1000, rate=rate)


def smoke(url: str, uris: Path, n: int = 200) -> dict[str, int]:
    """A few requests by hand to the verification pages (``uris``: their paths): every answer
    must be 200; returns the verdicts seen."""
    paths = uris.read_text().split()
    rng = random.Random(7)
    verdicts: dict[str, int] = {}
    for path in rng.sample(paths, min(n, len(paths))):
        req = urllib.request.Request(url + path, headers={"Accept": "application/json",
                                                         "User-Agent": USER_AGENT})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = json.load(resp)
        verdicts[body["verdict"]] = verdicts.get(body["verdict"], 0) + 1
    req = urllib.request.Request(url + paths[0], headers={"Accept": HTML_ACCEPT})
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.status != 200 or "text/html" not in resp.headers.get("Content-Type", ""):
            raise RuntimeError("the verification page did not answer HTML")
    return verdicts


def prepare_run(db_url: str, preloaded_scans: int) -> None:
    """Every run starts from the loaded registry: the schema brought to the latest migration
    (a kept load may predate one) and the scans that earlier runs recorded removed. Without
    the second, each run would find the same serials scanned more often than the last, until
    every page says "possible copy" and the figures measure that instead of a first scan."""
    from sqlalchemy import create_engine, text

    from registry.db.migrate import upgrade

    upgrade(db_url)
    url = db_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as conn:
        removed = conn.execute(text("DELETE FROM scan WHERE id > :n"),
                               {"n": preloaded_scans}).rowcount
    if url.startswith("sqlite"):
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE scan")
    engine.dispose()
    log(f"{url.split(':')[0]}: schema at head; {removed:,} scans of earlier runs removed")


def page_paths(workdir: Path) -> dict[str, Path]:
    """From the label URIs: the verification pages the resolver redirects them to, and the
    walk-up pages of their lots and products (one line each, as often as the URIs name
    them)."""
    labels = (workdir / "uris.txt").read_text().split()
    out = {"pages": workdir / "pages.txt", "lots": workdir / "lots.txt",
           "products": workdir / "products.txt"}
    out["pages"].write_text("".join(f"/verify{u}\n" for u in labels))
    lots, products = [], []
    for u in labels:
        path = u.split("?", 1)[0]  # /01/{gtin}/10/{lot}/21/{serial}
        parts = path.split("/")
        lots.append(f"/verify/01/{parts[2]}/10/{parts[4]}\n")
        products.append(f"/verify/01/{parts[2]}\n")
    out["lots"].write_text("".join(lots))
    out["products"].write_text("".join(products))
    return out


def database_files(name: str, workdir: Path) -> list[Path]:
    if name == "sqlite":
        db = workdir / "registry.sqlite3"
        return [f for f in (db, db.with_name(db.name + "-wal")) if f.exists()]
    import psycopg

    with psycopg.connect(pg_url(), autocommit=True) as con:
        oid, data = con.execute("SELECT d.oid, current_setting('data_directory') FROM "
                                "pg_database d WHERE d.datname = current_database()").fetchone()
    return sorted(p for p in (Path(data) / "base" / str(oid)).iterdir() if p.is_file())


def warm_database(name: str, db_url: str, workdir: Path) -> None:
    """Read the database's files once, so every run starts from the page cache. This machine's
    host pages out file pages it sees unused (DAMON's ``pageout``, 128 MB/s), and a run that
    met a half-evicted database read from disk: the same command gave 2,896 and then 527 req/s
    for the reference (session 15, iowait 17 %). Logged: how long the read took, i.e. how much
    had been evicted."""
    t0, size = time.perf_counter(), 0
    for path in database_files(name, workdir):
        with contextlib.suppress(OSError), path.open("rb", buffering=0) as fh:
            while chunk := fh.read(1 << 20):
                size += len(chunk)
    seconds = time.perf_counter() - t0
    if seconds > 1:
        log(f"{name}: {size / 2**30:.1f} GiB of database files read back into the page cache "
            f"in {seconds:.1f} s")
    if name == "postgres":
        prewarm_shared_buffers()


def prewarm_shared_buffers() -> None:
    """With ``shared_buffers`` larger than Debian's 128 MB, fill them (``pg_prewarm``, if the
    server has it): PostgreSQL's own buffers are not file pages, so the host cannot page them
    out (no swap here), and a run then reads none of its tables from the page cache."""
    import psycopg

    with psycopg.connect(pg_url(), autocommit=True) as con:
        size = con.execute("SELECT setting::bigint * 8192 FROM pg_settings "
                           "WHERE name = 'shared_buffers'").fetchone()[0]
        if size <= 128 * 2**20:
            return
        try:
            con.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except psycopg.Error:
            return
        t0 = time.perf_counter()
        pages = con.execute(
            "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c WHERE c.relkind IN ('r', 'i', 't') "
            "AND c.relnamespace IN ('public'::regnamespace, 'pg_toast'::regnamespace)"
        ).fetchone()[0]
        log(f"postgres: {pages * 8192 / 2**30:.1f} GiB prewarmed into shared_buffers "
            f"({size / 2**30:.1f} GiB) in {time.perf_counter() - t0:.1f} s")


def bench_database(name: str, db_url: str, workdir: Path, args: argparse.Namespace
                   ) -> tuple[list[Result], list[Result]]:
    uris = workdir / "uris.txt"
    paths = page_paths(workdir)
    hello_uris = workdir / "hello.txt"
    hello_uris.write_text("/hello\n")
    (workdir / "hello_app.py").write_text(HELLO_APP)
    reference_uris = workdir / "reference.txt"
    rng = random.Random(SEED)
    reference_uris.write_text("".join(f"/ref/{rng.randint(1, args.batches)}\n"
                                      for _ in range(100_000)))
    (workdir / "reference_app.py").write_text(REFERENCE_APP)
    (workdir / "floor_app.py").write_text(FLOOR_APP)
    common = [f"User-Agent: {USER_AGENT}", "Accept-Language: en-GB,en;q=0.9"]
    servers: list[Server] = []
    results = []
    rated: list[Result] = []
    try:
        app = Server(f"registry-{name}", app_target(), APP_ROOT, app_env(workdir, db_url),
                     args.workers, workdir / f"server-{name}.log", "/.well-known/gs1resolver")
        servers.append(app)
        hello = Server("hello", "hello_app:app", workdir, app_env(workdir, db_url),
                       args.workers, workdir / "server-hello.log", "/hello")
        servers.append(hello)
        reference = Server("reference", "reference_app:app", workdir,
                           {**app_env(workdir, db_url), "BENCH_APP_ROOT": str(APP_ROOT)},
                           args.workers, workdir / "server-reference.log", "/ref/1")
        servers.append(reference)
        floor = Server("floor", "floor_app:app", workdir,
                       {**app_env(workdir, db_url), "BENCH_APP_ROOT": str(APP_ROOT)},
                       args.workers, workdir / "server-floor.log", "/ready")
        servers.append(floor)
        verdicts = smoke(app.url, paths["pages"])
        log(f"{name}: verdicts of 200 sampled URIs: {verdicts}")
        html, js = [f"Accept: {HTML_ACCEPT}"], ["Accept: application/json"]
        runs = [
            ("bare hello", hello.url, hello_uris, html),
            ("reference: ORM + Jinja", reference.url, reference_uris, html),
            ("floor: signature + lookup", floor.url, uris, html),
            ("verification page (html)", app.url, paths["pages"], html),
            ("verification JSON", app.url, paths["pages"], js),
            # A phone scanning a label asks the label URI first: the resolver's 307 (no
            # database), then the page above.
            ("label URI: 307 redirect", app.url, uris, html),
            ("walk-up: lot page", app.url, paths["lots"], html),
            ("walk-up: product page", app.url, paths["products"], html),
        ]
        if args.only:
            # e.g. --only "page (html),reference": the runs whose label holds one of these.
            wanted = [w.strip() for w in args.only.split(",") if w.strip()]
            runs = [run for run in runs if any(w in run[0] for w in wanted)]
        plan = [] if args.rate_only else [(run, None) for run in runs]
        if args.rate:
            # Constant rate, below saturation: the latency a buyer sees on a busy day, not the
            # queueing of an overloaded server.
            plan += [(run, args.rate) for run in runs
                     if not run[0].startswith(("bare", "floor"))]
        for (label, url, paths_file, headers), rate in plan:
            kw = dict(threads=args.threads, headers=headers + common, rate=rate,
                      connections=args.rate_connections if rate else args.connections)
            warm_database(name, db_url, workdir)
            run_wrk(url, paths_file, seconds=args.warmup, label=label, **kw)
            server = next(s for s in servers if s.url == url)
            cpu0, db0 = server.cpu_seconds(), postgres_cpu_seconds()
            r = run_wrk(url, paths_file, seconds=args.rate_duration if rate else args.duration,
                        label=label, **kw)
            r.server_us = 1e6 * (server.cpu_seconds() - cpu0) / max(1, r.requests)
            if name == "postgres":
                r.db_us = 1e6 * (postgres_cpu_seconds() - db0) / max(1, r.requests)
            log(f"{name}: {label}{f' at {rate}/s' if rate else ''}: {r.rps:,.0f} req/s, p50 "
                f"{r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, {r.errors} errors, "
                f"load {r.load:.1f}")
            (rated if rate else results).append(r)
    finally:
        for server in servers:
            server.stop()
    return results, rated


def servers(args: argparse.Namespace) -> str:
    """The servers' settings, as the tables say them."""
    if args.server == "granian":
        return f"granian {args.workers} workers x {args.worker_threads} threads"
    threads = f" x {args.worker_threads} threads" if args.worker_class == "gthread" else ""
    return f"gunicorn {args.workers} {args.worker_class} workers{threads}"


def print_rate_table(all_rated: dict[str, list[Result]], args: argparse.Namespace) -> None:
    if not any(all_rated.values()):
        return
    print()
    print(f"Constant rate: {args.rate:,} requests/s for {args.rate_duration:g} s "
          f"(wrk on a schedule, bench/wrk_uris.lua; {args.rate_connections} connections; "
          f"{servers(args)})")
    head = f"{'database':<11}{'endpoint':<27}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}" \
           f"{'p99 ms':>9}{'max ms':>9}{'errors':>8}{'load':>6}{'server µs':>11}{'db µs':>7}"
    print(head)
    print("-" * len(head))
    for db, rated in all_rated.items():
        for r in rated:
            print(f"{db:<11}{r.label:<27}{r.rps:>9,.0f}{r.p50_ms:>9.1f}{r.p90_ms:>9.1f}"
                  f"{r.p99_ms:>9.1f}{r.max_ms:>9.0f}{r.errors:>8}{r.load:>6.1f}"
                  f"{r.server_us:>11.0f}{(f'{r.db_us:.0f}' if r.db_us else '–'):>7}")
    print("Target (issue 14 §5): verification page p99 <= 25 ms at 1,000 requests/s on both "
          "databases.")


def print_table(all_results: dict[str, list[Result]], args: argparse.Namespace) -> None:
    print()
    print(f"Verification benchmark: {args.batches:,} batches, "
          f"{args.batches * args.serials_per_batch:,} printed serials; "
          f"{servers(args)}; wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration:g}s (after {args.warmup:g}s warm-up); {os.cpu_count()} cores")
    head = f"{'database':<11}{'endpoint':<27}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}" \
           f"{'vs bare':>9}{'errors':>8}{'load':>6}{'server µs':>11}{'db µs':>7}{'wrk µs':>8}"
    print(head)
    print("-" * len(head))
    for db, results in all_results.items():
        bare = next((r.rps for r in results if r.label == "bare hello"), 0.0)  # --only
        for r in results:
            ratio = f"{100 * r.rps / bare:.0f} %" if bare and r.label != "bare hello" else ""
            # wrk keeps no latency for requests that timed out (--timeout 5s): say so.
            p50, p99 = (f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}") if r.p99_ms else (">5000", ">5000")
            print(f"{db:<11}{r.label:<27}{r.rps:>9,.0f}{p50:>9}{p99:>9}"
                  f"{ratio:>9}{r.errors:>8}{r.load:>6.1f}{r.server_us:>11.0f}"
                  f"{(f'{r.db_us:.0f}' if r.db_us else '–'):>7}{r.wrk_us:>8.0f}")
    ref = {db: next((r.rps for r in rs if r.label.startswith("reference")), 0.0)
           for db, rs in all_results.items()}
    for db, results in all_results.items():
        for r in results:
            if r.label.startswith("verification") and ref[db]:
                print(f"{db}: {r.label} / reference = {r.rps / ref[db]:.2f}x")
    print("Target (issue 14 §5): page and JSON at least as fast relative to the reference as "
          "before (1.07-1.10x SQLite, 1.17-1.29x PostgreSQL), aim 1.2x. "
          "load: the machine's 1-minute load average after the run (2 cores: >2 means other "
          "work competed for the CPU). server µs, db µs, wrk µs: CPU time a request of the "
          "server's processes, of PostgreSQL (its runs only) and of wrk, which share the "
          "machine's cores.")


# ---------------------------------------------------------------------------------- profile


def profile(workdir: Path, db_url: str, n: int) -> None:
    """N verification requests through the test client: SQL statements, steps, cProfile."""
    import cProfile
    import io
    import pstats

    from sqlalchemy import event

    for k, v in app_env(workdir, db_url).items():
        os.environ[k] = v
    from registry import create_app
    from registry.gs1 import digital_link as gs1
    from registry.signing import verifier
    from registry.verify import hotpath, lookup, page, services

    app = create_app()
    client = app.test_client()
    # The verification pages the resolver redirects label URIs to.
    paths = ["/verify" + p for p in (workdir / "uris.txt").read_text().split()]
    rng = random.Random(11)
    engine = app.extensions["engine"]
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn: Any, _cur: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)

    steps: dict[str, float] = {}

    def timed(owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr)

        def wrapper(*a: Any, **kw: Any) -> Any:
            # CPU time, not wall time: other work on a 2-core machine must not inflate it.
            # (SQLite runs in this process, so its queries count; PostgreSQL's would not.)
            t0 = time.process_time()
            try:
                return original(*a, **kw)
            finally:
                steps[label] = steps.get(label, 0.0) + time.process_time() - t0
        setattr(owner, attr, wrapper)

    timed(gs1, "parse_uri", "gs1.parse_uri")
    timed(verifier.Verifier, "verify", "signature: Verifier.verify (Ed25519)")
    timed(lookup, "find", "lookup.find (the one SQL statement)")
    timed(services, "public_facts", "services.public_facts")
    timed(page.VerifyPages, "label", "VerifyPages.label (page)")
    timed(hotpath.LabelResolver, "client_hash", "client_hash (2 HMAC)")
    timed(hotpath.LabelResolver, "answer", "LabelResolver.answer (all of it)")

    headers = {"Accept": HTML_ACCEPT, "User-Agent": USER_AGENT, "Accept-Language": "en"}
    for path in paths[:200]:  # warm: compile templates, load catalogues, fill caches
        client.get(path, headers=headers)
    for kind, accept in (("html", HTML_ACCEPT), ("json", "application/json")):
        statements.clear()
        steps.clear()
        sample = [rng.choice(paths) for _ in range(n)]
        t0, c0 = time.perf_counter(), time.process_time()
        for path in sample:
            resp = client.get(path, headers={**headers, "Accept": accept})
            assert resp.status_code == 200, (path, resp.status_code)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"\nProfile ({kind}, {db_url.partition(':')[0]}, test client, {n} requests): "
              f"{1000 * cpu / n:.2f} ms CPU a request ({1000 * wall / n:.2f} ms wall, "
              f"load {os.getloadavg()[0]:.1f}), {len(statements) / n:.1f} SQL statements "
              "a request")
        for label, secs in sorted(steps.items(), key=lambda kv: -kv[1]):
            print(f"  {label:<44}{1000 * secs / n:7.3f} ms  {100 * secs / cpu:5.1f} % of CPU")
        if kind == "html":
            distinct: dict[str, int] = {}
            for s in statements:
                key = " ".join(s.split())[:110]
                distinct[key] = distinct.get(key, 0) + 1
            print("  SQL statements (per request):")
            for s, c in sorted(distinct.items(), key=lambda kv: -kv[1]):
                print(f"    {c / n:5.2f}  {s}")
    prof = cProfile.Profile()
    sample = [rng.choice(paths) for _ in range(n)]
    prof.enable()
    for path in sample:
        client.get(path, headers=headers)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    out = workdir / "profile.txt"
    out.write_text(buf.getvalue())
    prof.dump_stats(str(workdir / "profile.pstats"))
    print(f"\ncProfile of {n} html requests: {out} (and profile.pstats)")
    print(textwrap.indent("\n".join(buf.getvalue().splitlines()[:70]), "  "))


# -------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sqlite-only", action="store_true")
    p.add_argument("--postgres-only", action="store_true")
    p.add_argument("--batches", type=int, default=1_000_000)
    p.add_argument("--serials-per-batch", type=int, default=100)
    p.add_argument("--gtin-share", type=float, default=0.2,
                   help="products with a company GTIN (the rest: registry-issued)")
    p.add_argument("--scans", type=int, default=1_000_000, help="earlier scans to preload")
    p.add_argument("--uris", type=int, default=200_000,
                   help="signed URIs to request at random (enough that a serial is scanned "
                        "about once a run, as a package is; see prepare_run)")
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--worker-class", choices=("sync", "gthread"), default="sync",
                   help="gunicorn's worker class (--server gunicorn; production: gthread)")
    p.add_argument("--worker-threads", type=int, default=1,
                   help="threads per gthread worker (production: 4)")
    p.add_argument("--server", choices=("granian", "gunicorn"), default="granian",
                   help="the HTTP server of every server started (granian: the verification "
                        "pool's; gunicorn: the officers' app's)")
    p.add_argument("--rate", type=int, default=1000,
                   help="constant-rate runs at this many requests/s (0: none)")
    p.add_argument("--rate-duration", type=float, default=20)
    p.add_argument("--rate-only", action="store_true", help="only the constant-rate runs")
    p.add_argument("--only", metavar="LABELS",
                   help="only the runs whose label contains one of these (comma-separated)")
    p.add_argument("--rate-connections", type=int, default=32)
    p.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (databases, key, URIs)")
    p.add_argument("--reuse", metavar="DIR", help="serve what --keep DIR left; load nothing")
    p.add_argument("--profile", type=int, metavar="N", default=0,
                   help="also profile N test-client requests on the SQLite database")
    p.add_argument("--no-http", action="store_true", help="skip the servers and wrk")
    p.add_argument("--app-root", metavar="DIR",
                   help="serve and profile the registry from another checkout (default: this one)")
    args = p.parse_args(argv)
    Server.worker_class, Server.worker_threads = args.worker_class, args.worker_threads
    Server.program = args.server
    if args.app_root:
        global APP_ROOT
        APP_ROOT = Path(args.app_root).resolve()
        sys.path.insert(0, str(APP_ROOT))
        log(f"serving the registry from {APP_ROOT}")
    if not args.no_http and shutil.which("wrk") is None:
        p.error("wrk is missing: apt-get install -y wrk")
    do_sqlite = not args.postgres_only
    do_pg = not args.sqlite_only

    workdir = Path(args.reuse or args.keep or tempfile.mkdtemp(prefix="bench_verify_"))
    workdir.mkdir(parents=True, exist_ok=True)
    meta_path = workdir / "bench.json"
    sqlite_path = workdir / "registry.sqlite3"
    try:
        if args.reuse:
            meta = json.loads(meta_path.read_text())
            args.batches, args.serials_per_batch = meta["batches"], meta["serials_per_batch"]
            if do_pg and not meta.get("postgres"):
                p.error(f"{workdir} has no PostgreSQL load; use --sqlite-only")
            if do_sqlite and not meta.get("sqlite"):
                p.error(f"{workdir} has no SQLite load; use --postgres-only")
            log(f"reusing {workdir}: {args.batches:,} batches")
        else:
            t0 = time.perf_counter()
            plan = build_plan(args.batches, args.serials_per_batch, args.gtin_share, args.scans)
            log(f"generated {sum(len(r) for _c, r in plan.tables.values()):,} rows "
                f"({args.batches:,} batches, {plan.total_serials:,} serials in "
                f"{len(plan.tables['print_job'][1]):,} print jobs) in "
                f"{time.perf_counter() - t0:.1f} s")
            make_key(workdir / "keys")
            mix = write_uris(plan, workdir / "keys", workdir / "uris.txt", args.uris)
            log(f"wrote {args.uris:,} signed URIs: {dict(sorted(mix.items()))}")
            if do_sqlite:
                t0 = time.perf_counter()
                load_sqlite(plan, sqlite_path)
                import_key(f"sqlite:///{sqlite_path}", workdir / "keys")
                log(f"SQLite loaded in {time.perf_counter() - t0:.0f} s: {sqlite_path} "
                    f"({sqlite_path.stat().st_size / 2**20:,.0f} MiB)")
            if do_pg:
                t0 = time.perf_counter()
                load_postgres(plan)
                import_key(pg_url(), workdir / "keys")
                log(f"PostgreSQL {PG_DB} loaded in {time.perf_counter() - t0:.0f} s")
            meta_path.write_text(json.dumps({
                "batches": args.batches, "serials_per_batch": args.serials_per_batch,
                "serials": plan.total_serials, "sqlite": do_sqlite, "postgres": do_pg,
                "scans": args.scans}))
            del plan

        all_results: dict[str, list[Result]] = {}
        all_rated: dict[str, list[Result]] = {}
        if not args.no_http:
            preloaded = json.loads(meta_path.read_text()).get("scans", args.scans)
            if do_sqlite:
                prepare_run(f"sqlite:///{sqlite_path}", preloaded)
                all_results["SQLite"], all_rated["SQLite"] = bench_database(
                    "sqlite", f"sqlite:///{sqlite_path}", workdir, args)
            if do_pg:
                prepare_run(pg_url(), preloaded)
                all_results["PostgreSQL"], all_rated["PostgreSQL"] = bench_database(
                    "postgres", pg_url(), workdir, args)
            if any(all_results.values()):
                print_table(all_results, args)
            print_rate_table(all_rated, args)
        if args.profile:
            if not sqlite_path.exists():
                p.error("--profile needs the SQLite database")
            profile(workdir, f"sqlite:///{sqlite_path}", args.profile)
    finally:
        if not (args.keep or args.reuse):
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
