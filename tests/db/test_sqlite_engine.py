"""The SQLite engine's connection settings (registry.db.make_engine)."""

from __future__ import annotations

from pathlib import Path

from registry.db import make_engine


def test_sqlite_connections_map_the_whole_file_and_wait_for_writers(tmp_path: Path) -> None:
    # Every scan reads a label's pages by index and every scan buffer flush empties the other
    # connections' page caches: the file is memory-mapped whole (up to SQLite's build limit)
    # so those reads come from the kernel's page cache instead of read() calls (README
    # Performance, "Session 16"). 256 MB covered a sixth of a 1 M-batch registry.
    engine = make_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        with engine.connect() as conn:
            mmap = conn.exec_driver_sql("PRAGMA mmap_size").scalar_one()
            limit = conn.exec_driver_sql("PRAGMA compile_options").scalars().all()
            journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
            busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    finally:
        engine.dispose()
    cap = next((int(o.split("=")[1], 0) for o in limit if o.startswith("MAX_MMAP_SIZE=")),
               0x7FFF0000)
    assert mmap == min(cap, 64 * 2**30)
    assert (journal, foreign_keys, busy) == ("wal", 1, 15000)
