"""Take a backup of the registry (database, file store, key store) and restore one.

The database part is read in one snapshot: on PostgreSQL a SERIALIZABLE READ ONLY DEFERRABLE
transaction (it waits for a moment when no running transaction can make it see an anomaly,
then never blocks or is cancelled), on SQLite one read transaction (WAL keeps it stable
while the registry goes on writing). The signing keys are rows of that snapshot, their
private halves still sealed under the KEK, which is never written to the archive.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel

import registry.db.models  # noqa: F401  (every table is in the metadata)
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.backup.archive import (
    FORMAT,
    KEK_WARNING,
    ArchiveError,
    Unpacked,
    decode,
    file_digest,
    row_line,
    unpack_verified,
    write_archive,
)
from registry.catalog.storage import content_type_of
from registry.clock import utcnow
from registry.figures.exportfiles import forget_written_files
from registry.files.base import FileStore, FileStoreError
from registry.files.importer import references
from registry.files.local import LocalFileStore
from registry.printing.jobfiles import forget_rendered_files

_INSERT_BATCH = 500
# Rows the migrations themselves write: an empty, migrated database already has them, and
# the archive's own replace them. Each table with what its seed rows hold (ids and times
# differ from one database to the next): the audit head (0001) and the default certificate
# rules (0027: phytosanitary for farm produce, fishery health for fishery; no author).
_SEEDED: dict[str, Callable[[list[dict[str, Any]]], bool]] = {
    "audit_head": lambda rows: rows == [{"id": 1, "seq": 0, "last_hash": audit.GENESIS}],
    "certificate_rule": lambda rows: sorted(
        (r["category"], r["destination_country"], r["kind"], r["created_by"]) for r in rows
    ) == [("agriculture", "", "phytosanitary", None), ("fishery", "", "fishery_health", None)],
}


class BackupError(Exception):
    """The backup or restore was refused or failed; nothing was left half done."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str
    rows: dict[str, int]
    files: int
    size: int


@dataclass(frozen=True)
class RestoreSummary:
    revision: str
    rows: dict[str, int]
    files: int
    created_at: str


def tables() -> list[Table]:
    """Every table, parents before children (the order rows can be inserted in)."""
    return list(SQLModel.metadata.sorted_tables)


def registry_version() -> str:
    try:
        return metadata.version("made-in-bali-ntb-ntt-registry")
    except metadata.PackageNotFoundError:
        return "unknown"


def schema_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one consistent state of the whole database, read only."""
    if engine.dialect.name == "postgresql":
        conn = engine.connect().execution_options(
            isolation_level="SERIALIZABLE", postgresql_readonly=True,
            postgresql_deferrable=True)
    else:
        conn = engine.connect()
        # pysqlite starts no transaction for a SELECT: without BEGIN each table would be
        # read at a different moment. The snapshot is fixed by the first read.
        conn.exec_driver_sql("BEGIN")
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


# ------------------------------------------------------------------ backup

def take_backup(engine: Engine, store: FileStore, path: Path) -> BackupSummary:
    """Write the archive to ``path`` (via a temporary name: a failed backup leaves nothing
    under ``path``). Every file is checked against the digest its rows recorded."""
    try:
        return _take_backup(engine, store, path)
    except SQLAlchemyError as exc:
        raise BackupError(f"the database could not be read ({_first_line(exc)}); no archive "
                          "written") from None


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]


def _take_backup(engine: Engine, store: FileStore, path: Path) -> BackupSummary:
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new name (a backup never "
                          "overwrites another)")
    with tempfile.TemporaryDirectory(prefix="registry-backup-") as tmp:
        staging = Path(tmp)
        members: list[tuple[str, Path]] = []
        with snapshot(engine) as conn:
            revision = schema_revision(conn)
            if revision is None:
                raise BackupError("the database has no schema (run `flask --app registry db "
                                  "upgrade`)")
            created_at = utcnow()
            table_info: dict[str, Any] = {}
            for table in tables():
                member = f"db/{table.name}.jsonl"
                staged = staging / member
                staged.parent.mkdir(parents=True, exist_ok=True)
                count = 0
                order = list(table.primary_key.columns) or list(table.columns)
                with open(staged, "wb") as out:
                    result = conn.execution_options(yield_per=1000).execute(
                        select(table).order_by(*order))
                    for row in result.mappings():
                        out.write(row_line(dict(row)))
                        count += 1
                table_info[table.name] = {"rows": count,
                                          "columns": [c.name for c in table.columns]}
                members.append((member, staged))
            # Stored files are never changed in place (every upload gets a new name), so
            # reading them inside the snapshot gives exactly the files its rows refer to.
            with Session(bind=conn) as session:
                files = _copy_files(session, store, staging)
            members += files
        digests = {}
        for name, staged in members:
            facts = file_digest(staged)
            digests[name] = {"size": facts.size, "sha256": facts.sha256}
        manifest = {
            "format": FORMAT,
            "created_at": created_at.isoformat(timespec="seconds"),
            "registry_version": registry_version(),
            "schema_revision": revision,
            "source_dialect": engine.dialect.name,
            "file_store": store.describe(),
            "NOT_INCLUDED": KEK_WARNING,
            "tables": table_info,
            "members": digests,
        }
        partial = path.with_name(f".{path.name}.part")
        try:
            with open(partial, "wb") as out:
                write_archive(out, manifest, members)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
        except OSError as exc:
            raise BackupError(f"cannot write {path}: {exc.strerror or exc}") from None
        finally:
            partial.unlink(missing_ok=True)
    return BackupSummary(path, revision, {t: i["rows"] for t, i in table_info.items()},
                         len(files), path.stat().st_size)


def _copy_files(session: Session, store: FileStore, staging: Path) -> list[tuple[str, Path]]:
    copied = []
    for name, rows in sorted(references(session).items()):
        recorded = {r.sha256.lower() for r in rows if r.sha256}
        where = ", ".join(map(str, rows))
        if len(recorded) > 1:
            raise BackupError(f"file {name} ({where}): the rows recorded different SHA-256 "
                              "digests")
        try:
            data = store.get(name, next(iter(recorded), None))
        except FileStoreError as exc:
            raise BackupError(f"file {name} ({where}) could not be copied: "
                              f"{type(exc).__name__} {exc.detail}; no archive written") from None
        staged = staging / "files" / name
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(data)
        copied.append((f"files/{name}", staged))
    return copied


# ------------------------------------------------------------------ restore

def restore_backup(engine: Engine, store: FileStore, path: Path) -> RestoreSummary:
    """Restore the archive at ``path`` into an empty database migrated to the archive's
    revision and an empty store. Every checksum is verified before anything is written; the
    files are written first and removed again if the database part fails; the database part
    is one transaction, ended by a ``backup.restore`` audit event."""
    with tempfile.TemporaryDirectory(prefix="registry-restore-") as tmp:
        try:
            archive = unpack_verified(path, Path(tmp))
        except ArchiveError as exc:
            raise BackupError(f"archive refused, nothing restored: {exc}") from None
        manifest = archive.manifest
        try:
            with engine.connect() as conn:
                _check_target(conn, manifest)
        except SQLAlchemyError as exc:
            raise BackupError(f"the target database could not be read ({_first_line(exc)}); "
                              "nothing restored") from None
        _check_store_empty(store, archive.file_names())
        written: list[str] = []
        try:
            for name in archive.file_names():
                data = archive.path(f"files/{name}").read_bytes()
                written.append(name)
                try:
                    store.put(name, data, content_type_of(name))
                except FileStoreError as exc:
                    raise BackupError(f"the file store failed on {name} ({exc.detail}); the "
                                      "files written were removed, nothing restored") from None
            try:
                rows = _restore_database(engine, archive, path.name, len(written))
            except SQLAlchemyError as exc:
                raise BackupError(f"the database part failed ({_first_line(exc)}); the files "
                                  "written were removed, nothing restored") from None
        except BaseException:
            for name in written:
                with suppress(FileStoreError):  # the first error is the one to report
                    store.delete(name)
            raise
    return RestoreSummary(manifest["schema_revision"], rows, len(written),
                          str(manifest.get("created_at")))


def _restore_database(engine: Engine, archive: Unpacked, name: str, files: int) -> (
    dict[str, int]
):
    manifest = archive.manifest
    with engine.begin() as conn:
        _check_target(conn, manifest)
        rows = _insert_rows(conn, archive)
        # Rendered label files are not in a backup (tens of MB each, and the labels are
        # deterministic): the restored registry renders each again when it is next asked for.
        forget_rendered_files(conn)
        forget_written_files(conn)  # nor are the figures' XLSX exports
        with Session(bind=conn) as session:
            audit.record(session, actor=None, action=EventTag.Operations.BACKUP_RESTORE,
                         object_type="registry",
                         after={"archive": name, "created_at": manifest.get("created_at"),
                                "schema_revision": manifest["schema_revision"],
                                "rows": sum(rows.values()), "files": files})
    return rows


def _check_target(conn: Connection, manifest: dict[str, Any]) -> None:
    revision = schema_revision(conn)
    wanted = manifest["schema_revision"]
    if revision != wanted:
        raise BackupError(
            f"the target database is at schema revision {revision or 'none (empty)'}, the "
            f"archive at {wanted}: run `flask --app registry db upgrade {wanted}` on an empty "
            "database first")
    for table in tables():
        rows = [dict(r) for r in conn.execute(select(table).limit(3)).mappings()]
        seeded = _SEEDED.get(table.name)
        if rows and not (seeded and seeded(rows)):
            raise BackupError(f"the target database is not empty (table {table.name} has "
                              "rows): restore only into a new, empty database")
        archived = manifest["tables"].get(table.name)
        if archived is None:
            raise BackupError(f"the archive has no table {table.name}")
        if archived.get("columns") != [c.name for c in table.columns]:
            raise BackupError(f"table {table.name} has other columns in the archive than in "
                              "the target database")


def _check_store_empty(store: FileStore, names: list[str]) -> None:
    if isinstance(store, LocalFileStore):
        directory = store.directory
        if directory.is_dir() and any(p.is_file() and not p.name.startswith(".")
                                      for p in directory.iterdir()):
            raise BackupError(f"the file store ({store.describe()}) is not empty: restore "
                              "only into an empty store")
        return
    try:
        held = [n for n in names if store.exists(n)]
    except FileStoreError as exc:
        raise BackupError(f"the file store did not answer: {exc.detail}") from None
    if held:
        raise BackupError(f"the file store ({store.describe()}) already holds {held[0]}: "
                          "restore only into an empty store")


def _insert_rows(conn: Connection, archive: Unpacked) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables():
        if table.name in _SEEDED:
            # Not an audit table with the append-only trigger: the seed row may be replaced.
            conn.execute(table.delete())
        types = {c.name: _python_type(c) for c in table.columns}
        try:
            count = _insert_table(conn, table, archive.rows(table.name), types)
        except (SQLAlchemyError, ValueError, TypeError, KeyError) as exc:
            # The checksums were right, so the archive is what was written; the rows still
            # do not fit (a hand-edited archive, a bug): the transaction is rolled back.
            raise BackupError(f"the database refused table {table.name} ({_first_line(exc)}); "
                              "nothing restored") from None
        expected = archive.manifest["tables"][table.name]["rows"]
        if count != expected:
            raise BackupError(f"table {table.name}: {count} rows in the archive where the "
                              f"manifest counts {expected}; nothing restored")
        counts[table.name] = count
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn)
    return counts


def _insert_table(conn: Connection, table: Table, rows: Iterator[dict[str, Any]],
                  types: dict[str, type | None]) -> int:
    batch: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        batch.append({k: decode(v, types[k]) for k, v in row.items()})
        if len(batch) >= _INSERT_BATCH:
            conn.execute(insert(table), batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)
        count += len(batch)
    return count


def _python_type(column: Any) -> type | None:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return None
    # Strings, numbers and booleans come back from JSON as they went in.
    return kind if kind in (dt.datetime, dt.date, dt.time, bytes, Decimal) else None


def _reset_sequences(conn: Connection) -> None:
    # Rows came with their ids; the next id a sequence hands out must follow them.
    for table in tables():
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar_one()
            if sequence is None:
                continue
            highest = func.max(column)
            conn.execute(select(func.setval(sequence, func.coalesce(highest, 1),
                                            highest.is_not(None))))
