"""Copy an upload folder of the one-machine layout into the configured store.

Every file a row refers to (evidence documents, product photos, photos frozen with batches)
is checked against the SHA-256 its rows recorded, copied unless the store already holds the
same bytes, and its digest recorded where the rows had none (photos stored before 0015).
Files no row refers to are listed, never copied.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.catalog.models import Batch, Document, Product
from registry.catalog.storage import content_type_of
from registry.files.base import (
    FileDamaged,
    FileMissing,
    FileStore,
    check_name,
    sha256_hex,
)


@dataclass(frozen=True)
class Ref:
    """One row naming a file: ``kind`` is document, product or batch."""

    kind: str
    row_id: int
    sha256: str | None

    def __str__(self) -> str:
        return f"{self.kind} {self.row_id}"


@dataclass
class ImportReport:
    copied: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    recorded: list[Ref] = field(default_factory=list)
    # (name, rows, what is wrong): not copied, and the command exits 1.
    problems: list[tuple[str, list[Ref], str]] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def references(session: Session) -> dict[str, list[Ref]]:
    refs: dict[str, list[Ref]] = defaultdict(list)
    for row_id, name, digest in session.exec(
            select(Document.id, Document.stored_name, Document.sha256)):
        refs[name].append(Ref("document", row_id, digest))
    for row_id, photo, photo_digest in session.exec(
            select(Product.id, Product.photo_stored_name, Product.photo_sha256)
            .where(col(Product.photo_stored_name).is_not(None))):
        assert photo is not None  # selected for it
        refs[photo].append(Ref("product", row_id, photo_digest))
    for row_id, photo, photo_digest in session.exec(
            select(Batch.id, Batch.product_photo, Batch.product_photo_sha256)
            .where(col(Batch.product_photo).is_not(None))):
        assert photo is not None  # selected for it
        refs[photo].append(Ref("batch", row_id, photo_digest))
    return dict(refs)


def _holds(store: FileStore, name: str, digest: str) -> bool:
    try:
        store.get(name, digest)
    except (FileMissing, FileDamaged):
        return False
    return True


def import_folder(session: Session, store: FileStore, directory: Path) -> ImportReport:
    """Copy ``directory`` into ``store``; flushes the recorded digests and their audit
    event, the caller commits. Store errors (``StoreUnavailable``) propagate."""
    report = ImportReport()
    refs = references(session)
    for name in sorted(refs):
        rows = refs[name]
        recorded = {r.sha256.lower() for r in rows if r.sha256}
        if len(recorded) > 1:
            report.problems.append((name, rows, "the rows recorded different SHA-256 digests"))
            continue
        expected = next(iter(recorded), None)
        try:
            path = directory / check_name(name)
        except FileMissing:
            report.problems.append((name, rows, "not a stored file name"))
            continue
        if path.is_file():
            data = path.read_bytes()
            digest = sha256_hex(data)
            if expected is not None and digest != expected:
                report.problems.append((name, rows, f"SHA-256 {digest} in the folder where "
                                                    f"{expected} was recorded; not copied"))
                continue
            if _holds(store, name, digest):
                report.present.append(name)
            else:
                store.put(name, data, content_type_of(name))
                report.copied.append(name)
        else:
            # Not in the folder: perhaps copied by an earlier run (or uploaded to the store
            # directly); what the store holds is then what the registry serves.
            try:
                digest = sha256_hex(store.get(name, expected))
            except FileMissing:
                report.problems.append((name, rows, "neither in the folder nor in the store"))
                continue
            except FileDamaged as exc:
                report.problems.append((name, rows, f"not in the folder, and damaged in the "
                                                    f"store ({exc.detail})"))
                continue
            report.present.append(name)
        report.recorded += [r for r in rows if r.sha256 is None]
        _record(session, name, digest, [r for r in rows if r.sha256 is None])
    referenced = set(refs)
    report.unreferenced = sorted(
        p.name for p in directory.iterdir() if p.is_file() and p.name not in referenced)
    if report.recorded or report.copied:
        audit.record(session, actor=None, action=EventTag.Operations.FILES_IMPORT,
                     object_type="file_store",
                     after={"store": store.describe(), "copied": len(report.copied),
                            "digests_recorded": [str(r) for r in report.recorded]})
    return report


def _record(session: Session, name: str, digest: str, rows: list[Ref]) -> None:
    for ref in rows:
        if ref.kind == "product":
            session.execute(update(Product).where(col(Product.id) == ref.row_id)
                            .values(photo_sha256=digest))
        elif ref.kind == "batch":
            session.execute(update(Batch).where(col(Batch.id) == ref.row_id)
                            .values(product_photo_sha256=digest))
    session.flush()
