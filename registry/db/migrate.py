"""Alembic driven from code: ``flask --app registry db upgrade`` and the test fixtures."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

HERE = Path(__file__).parent / "migrations"

# The PostgreSQL advisory lock every migration run holds (env.py): the ASCII bytes of
# "registry" read as one signed 64-bit integer. Fixed for good, because operators look for it:
# pg_locks shows a bigint key split in two, classid 1919248233 (high half) and objid
# 1937011321 (low half), so the server holding or waiting for it is
#   SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory'
#     AND classid = 1919248233 AND objid = 1937011321 AND objsubid = 1;
# Advisory locks are per database: registries on other databases of the same server do not
# wait for each other.
MIGRATION_LOCK_KEY = 0x7265676973747279  # 8243108395577799289


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Hold the migration lock on ``connection`` for the block: a second ``db upgrade`` (a
    rolling deploy starting two servers) waits here, then finds the schema at head and does
    nothing, instead of both creating the same tables.

    A session-level lock (``pg_advisory_lock``), not ``pg_advisory_xact_lock`` in Alembic's
    transaction: it outlives commits inside the run (``transaction_per_migration``, or an
    ``autocommit_block()`` a ``CREATE INDEX CONCURRENTLY`` needs), where a transaction lock
    would be released halfway and let the other server in. It is released at the end, and by
    PostgreSQL when the connection ends, so a killed upgrade never leaves it held.

    SQLite takes no lock: it is one machine's development database (production refuses it),
    with no second server to run an upgrade at the same time. It is not safe against that,
    though: pysqlite runs DDL outside a transaction, so two upgrades started together on one
    file can interleave (tried: one fails with "index ... already exists"); run it once."""
    if connection.dialect.name != "postgresql":
        yield
        return
    key = {"key": MIGRATION_LOCK_KEY}
    if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one():
        # Said once, so an operator whose upgrade seems to hang knows what it waits for.
        print(f"waiting for another migration run to finish (PostgreSQL advisory lock "
              f"{MIGRATION_LOCK_KEY}: see pg_locks)", file=sys.stderr, flush=True)
        connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
    # End the transaction the SELECT began (the lock outlives it): Alembic treats a connection
    # already in a transaction as the caller's and would never commit the migrations.
    connection.commit()
    try:
        yield
    finally:
        try:
            if connection.in_transaction():
                connection.rollback()  # a failed run: nothing of it may be committed here
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            connection.commit()
        except SQLAlchemyError:
            # The connection is broken: closing it is what releases the lock server-side.
            connection.invalidate()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)
