"""The verification benchmark's kept registry (``bench/verify.py --keep DIR``: 1,000,000
batches on SQLite in ``DIR/registry.sqlite3`` and on PostgreSQL in ``bench_verify``), copied
for another benchmark to add its own rows to and measure: ``DIR/NAME.sqlite3`` and the
database ``bench_NAME``. A copy left by an earlier run (``--keep-copies``) is used as it is."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432/"
SOURCE = "bench_verify"


def copies(reuse: Path, name: str, fill: Callable[[str], None], *, sqlite: bool = True,
           postgres: bool = True, keep: bool = False) -> Iterator[tuple[str, str]]:
    """(database, URL) of each copy, filled by ``fill(url)`` when new; each is removed once the
    caller has measured it, unless ``keep``."""
    import psycopg

    if sqlite:
        copy = reuse / f"{name}.sqlite3"
        if not copy.exists():
            with sqlite3.connect(reuse / "registry.sqlite3") as con:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(reuse / "registry.sqlite3", copy)
            fill(f"sqlite:///{copy}")
        yield "SQLite", f"sqlite:///{copy}"
        if not keep:
            copy.unlink()
    if postgres:
        database = f"bench_{name}"
        with psycopg.connect(PG + "postgres", autocommit=True) as con:
            exists = con.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                 (database,)).fetchone()
            if not exists:
                con.execute(f"CREATE DATABASE {database} TEMPLATE {SOURCE}")
        if not exists:
            fill(PG + database)
        yield "PostgreSQL", PG + database
        if not keep:
            with psycopg.connect(PG + "postgres", autocommit=True) as con:
                con.execute(f"DROP DATABASE {database}")
