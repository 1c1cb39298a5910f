"""Issue 13 §3: two servers running ``flask --app registry db upgrade`` at once (a rolling
deploy) must not both run a migration. On PostgreSQL the upgrade holds an advisory lock on its
migration connection from before Alembic reads the version table until it is done.

Real processes on a fresh database ``<TEST_DATABASE_URL's database>_migrlock`` (dropped
afterwards); PostgreSQL only, as SQLite is one machine's development database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text
from sqlalchemy.exc import ProgrammingError

from registry import ROOT
from registry.db import make_engine, migrate

BIN = Path(sys.executable).parent
# The documented key (registry/db/migrate.py, README "Running in production"): fixed, so an
# operator can find the holder in pg_locks; written out here so that changing it is noticed.
LOCK_KEY = 0x7265676973747279  # the ASCII bytes of "registry" as one signed 64-bit integer

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_url() -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("the migration lock is PostgreSQL's (TEST_DATABASE_URL); SQLite has none")
    url = make_url(base)
    name = f"{url.database}_migrlock"
    admin = make_engine(base)

    def recreate(create: bool) -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{name}"'))

    recreate(True)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        recreate(False)
        admin.dispose()


def start_upgrade(url: str, instance: Path) -> subprocess.Popen[str]:
    """``flask --app registry db upgrade`` as a server's shell runs it."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(instance)),
           "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT), "FLASK_APP": "registry",
           "REGISTRY_ENV": "development", "DATABASE_URL": url,
           "REGISTRY_INSTANCE": str(instance)}
    return subprocess.Popen([str(BIN / "flask"), "--app", "registry", "db", "upgrade"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def head() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    current = script.get_current_head()
    assert current is not None
    return current


def version(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except ProgrammingError:  # no version table: nothing was migrated
        return []
    finally:
        engine.dispose()


def test_two_upgrades_at_once_both_succeed(fresh_url: str, tmp_path: Path) -> None:
    procs = [start_upgrade(fresh_url, tmp_path / name) for name in ("a", "b")]
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], "\n----\n".join(outputs)
    assert version(fresh_url) == [head()]


def test_an_upgrade_waits_for_the_lock(fresh_url: str, tmp_path: Path) -> None:
    assert migrate.MIGRATION_LOCK_KEY == LOCK_KEY
    hi, lo = LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF  # how pg_locks shows a bigint key
    assert (hi, lo) == (1919248233, 1937011321)  # as documented for the pg_locks query
    waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                   " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1")
    engine = make_engine(fresh_url)
    proc: subprocess.Popen[str] | None = None
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            # Another server's upgrade in progress, as far as the lock is concerned.
            holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            holder.commit()
            proc = start_upgrade(fresh_url, tmp_path / "instance")
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if watcher.execute(waiting, {"hi": hi, "lo": lo}).scalar_one():
                    break
                watcher.rollback()
                time.sleep(0.1)
            assert proc.poll() is None, (
                f"db upgrade ended (status {proc.returncode}) without waiting for the "
                f"migration lock:\n{proc.communicate()[0]}")
            assert watcher.execute(waiting, {"hi": hi, "lo": lo}).scalar_one() == 1
            time.sleep(3)
            assert proc.poll() is None, "db upgrade finished while the lock was held"
            assert version(fresh_url) == []  # it has not touched the schema
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            holder.commit()
            output = proc.communicate(timeout=300)[0]
        assert proc.returncode == 0, output
        assert "waiting" in output  # the operator is told why nothing happens
        assert version(fresh_url) == [head()]
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        engine.dispose()
