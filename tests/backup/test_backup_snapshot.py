"""The backup reads one consistent state: rows committed by the running registry while the
backup is reading do not appear in it (on SQLite, pysqlite's missing BEGIN would read each
table at a different moment)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session

from conftest import World
from registry.accounts.models import Organisation, OrgKind
from registry.backup.services import snapshot


def _organisations(conn: object) -> int:
    return conn.execute(select(func.count()).select_from(Organisation)).scalar_one()  # type: ignore[attr-defined, no-any-return]


def test_rows_committed_during_the_snapshot_are_not_in_it(app: Flask, world: World) -> None:
    engine = app.extensions["engine"]
    with snapshot(engine) as conn:
        seen = _organisations(conn)
        with Session(engine) as writer:  # the registry goes on working meanwhile
            writer.add(Organisation(kind=OrgKind.PRINTER, name="Late print shop",
                                    province_code="51"))
            writer.commit()
        assert _organisations(conn) == seen
    with engine.connect() as conn:
        assert _organisations(conn) == seen + 1


def test_a_backup_never_overwrites_an_archive(app: Flask, world: World, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar"
    archive.write_bytes(b"last week's backup")
    result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert archive.read_bytes() == b"last week's backup"
