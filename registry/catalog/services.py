"""Products, batches and evidence. Services flush, never commit; the request commits once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import and_, case, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from registry import files
from registry.accounts.models import Role, User
from registry.accounts.services import officer_province
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.catalog import storage
from registry.catalog.certification import (
    EDITABLE,
    Action,
    Display,
    Status,
    TransitionError,
    display_status,
    is_editable,
    next_status,
)
from registry.catalog.models import Batch, Document, Product, ProductFacts
from registry.catalog.rules import (
    ANY_DOCUMENT,
    BatchInput,
    DocumentKind,
    ProductInput,
    batch_problems,
    missing_evidence,
    normalise_gtin,
    product_problems,
)
from registry.certificates.rules import (
    CertificateInput,
    certificate_problems,
    normalise_number,
)
from registry.clock import today, utcnow
from registry.db import fetch_page, flush_unique, unique_columns
from registry.db.paging import Page, Window
from registry.exceptions import Conflict, Forbidden, NotFound, Taken, ValidationError
from registry.gs1 import digital_link as gs1
from registry.plaintext import text_problem
from registry.plots import rules as plot_rules
from registry.plots.models import Plot
from registry.reference import eudr_heading, province_of_regency

PHOTO_TYPES = frozenset({storage.JPEG, storage.PNG})
EVIDENCE_TYPES = frozenset({storage.PDF, storage.JPEG, storage.PNG})


def _require_exporter(actor: User) -> None:
    if actor.role != Role.EXPORTER:
        raise Forbidden("only exporters manage products and batches")


def batch_snapshot(batch: Batch) -> dict[str, Any]:
    return {
        "product_id": batch.product_id,
        "lot_code": batch.lot_code,
        "quantity": str(batch.quantity),
        "unit": batch.unit,
        "production_date": batch.production_date,
        "best_before": batch.best_before,
        "origin_regency_code": batch.origin_regency_code,
        "producer": batch.producer,
        "hub": batch.hub,
        "destination_country": batch.destination_country,
        "declared_value_idr": batch.declared_value_idr,
        "status": batch.status,
        "valid_until": batch.valid_until,
        # What was certified, frozen at submission (None while a draft).
        "gtin": batch.gtin,
        "product_name_id": batch.product_name_id,
        "product_name_en": batch.product_name_en,
        "product_category": batch.product_category,
        "product_hs_code": batch.product_hs_code,
        "product_photo": batch.product_photo,
    }


def _product_snapshot(product: Product) -> dict[str, Any]:
    return {
        "name_id": product.name_id,
        "name_en": product.name_en,
        "category": product.category,
        "hs_code": product.hs_code,
        "gtin": product.gtin,
        "photo": product.photo_stored_name,
        "photo_sha256": product.photo_sha256,
    }


# ---------------------------------------------------------------- products


def list_products(session: Session, actor: User) -> list[Product]:
    _require_exporter(actor)
    return list(
        session.exec(
            select(Product)
            .where(Product.organisation_id == actor.organisation_id)
            .order_by(Product.name_en)
        ).all()
    )


def get_product(session: Session, actor: User, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.organisation_id != actor.organisation_id:
        raise NotFound("no such product")
    return product


def label_gtin(product: Product) -> str:
    """The GTIN a product's labels carry: its own, or the registry-issued 0049... number."""
    return product.gtin or gs1.registry_gtin(product.id or 0)


def frozen_columns(product: Product) -> dict[str, Any]:
    """The batch columns that freeze ``product`` as submitted (see ``Batch``)."""
    return {
        "gtin": label_gtin(product), "product_name_id": product.name_id,
        "product_name_en": product.name_en, "product_category": product.category,
        "product_hs_code": product.hs_code, "product_description": product.description,
        "product_photo": product.photo_stored_name,
        "product_photo_sha256": product.photo_sha256,
    }


def registered_product(batch: Batch, product: Product) -> ProductFacts:
    """The product as ``batch`` shows it: as frozen at submission once submitted (what the
    office reviewed and certified), the live product while the batch is a draft."""
    if batch.gtin is not None:
        return ProductFacts(
            id=batch.product_id, organisation_id=batch.organisation_id,
            name_id=batch.product_name_id or "", name_en=batch.product_name_en or "",
            category=batch.product_category or "", hs_code=batch.product_hs_code or "",
            gtin=batch.gtin, description=batch.product_description or "",
            photo_stored_name=batch.product_photo, frozen=True)
    return ProductFacts(
        id=product.id, organisation_id=product.organisation_id, name_id=product.name_id,
        name_en=product.name_en, category=product.category, hs_code=product.hs_code,
        gtin=label_gtin(product), description=product.description,
        photo_stored_name=product.photo_stored_name, frozen=False)


def has_submitted_batches(session: Session, product_id: int) -> bool:
    """Whether any batch of the product was ever submitted (its facts are frozen there)."""
    return session.exec(
        select(Batch.id).where(Batch.product_id == product_id,
                               or_(col(Batch.status) != Status.DRAFT,
                                   col(Batch.submitted_at).is_not(None)))
        .limit(1)
    ).first() is not None


def _apply_product(product: Product, data: ProductInput) -> None:
    product.name_id = data.name_id.strip()
    product.name_en = data.name_en.strip()
    product.category = data.category
    product.hs_code = data.hs_code
    # '' is no GTIN: stored as NULL, which the unique index allows any number of times.
    product.gtin = normalise_gtin(data.gtin) if data.gtin and data.gtin.strip() else None
    product.description = data.description.strip()


def _check_product(session: Session, actor: User, data: ProductInput, exclude: int | None) -> None:
    problems = product_problems(data)
    if data.gtin and data.gtin.strip() and "gtin" not in problems:
        gtin = normalise_gtin(data.gtin)
        clash = session.exec(
            select(Product.id).where(Product.gtin == gtin, Product.id != (exclude or 0))
        ).first()
        if clash is not None:
            problems["gtin"] = "taken"
    if problems:
        raise ValidationError("invalid product", fields=problems)


def _flush_product(session: Session, product: Product) -> None:
    """Flush inside a savepoint: the unique index on ``product.gtin`` is what decides a race
    between two registrations of one GTIN (the check above only answers the common case
    kindly), and the loser gets the same field error, with nothing of it written."""
    try:
        with session.begin_nested():
            session.add(product)
            session.flush()
    except IntegrityError:
        if product.gtin is None:
            raise
        raise ValidationError("invalid product", fields={"gtin": "taken"}) from None


def create_product(session: Session, actor: User, data: ProductInput) -> Product:
    _require_exporter(actor)
    _check_product(session, actor, data, None)
    product = Product(organisation_id=actor.organisation_id, name_id="", name_en="",
                      category="", hs_code="")
    _apply_product(product, data)
    _flush_product(session, product)
    audit.record(session, actor=actor, action=EventTag.Product.CREATE, object_type="product",
                 object_id=product.id, after=_product_snapshot(product))
    return product


def update_product(session: Session, actor: User, product_id: int, data: ProductInput) -> Product:
    """Edit a product; batches already submitted keep the facts frozen with them.

    Its GTIN can no longer change once any batch of it was submitted: printed labels carry it.
    The check runs after the row is written (in a savepoint): the UPDATE holds the product
    row (PostgreSQL) or the database's write lock (SQLite) and ``submit_batch`` reads the
    product after taking its batch, so a submission racing this edit is either seen here or
    freezes the edited product."""
    _require_exporter(actor)
    product = get_product(session, actor, product_id)
    _check_product(session, actor, data, product.id)
    before = _product_snapshot(product)
    try:
        with session.begin_nested():
            _apply_product(product, data)
            session.add(product)
            session.flush()
            if product.gtin != before["gtin"] and has_submitted_batches(session, product.id):
                raise ValidationError("invalid product", fields={"gtin": "locked"})
    except IntegrityError:
        raise ValidationError("invalid product", fields={"gtin": "taken"}) from None
    audit.record(session, actor=actor, action=EventTag.Product.UPDATE, object_type="product",
                 object_id=product.id, before=before, after=_product_snapshot(product))
    return product


def set_product_photo(
    session: Session, actor: User, product_id: int, data: bytes, *, store: files.FileStore,
    max_bytes: int, max_pixels: int,
) -> tuple[Product, files.StoredFile, str | None]:
    """Store a re-encoded photo, written last so a failed flush leaves no object behind
    (and one the transaction then fails to commit is deleted again, see
    ``files.put_in_transaction``).

    Returns the new file and the replaced one's name: the caller deletes the old one once
    the transaction commits."""
    _require_exporter(actor)
    product = get_product(session, actor, product_id)
    try:
        payload, content_type = storage.prepare(
            data, allowed=PHOTO_TYPES, max_bytes=max_bytes, max_pixels=max_pixels
        )
    except storage.UploadError as exc:
        raise ValidationError("invalid photo", fields={"photo": exc.code}) from None
    before = _product_snapshot(product)
    replaced = product.photo_stored_name
    product.photo_stored_name = storage.new_name(content_type)
    product.photo_sha256 = hashlib.sha256(payload).hexdigest()
    session.add(product)
    session.flush()
    # A photo frozen with a submitted batch is what its buyers see: keep the file. Checked
    # after the write, so a submission racing this one either shows here or freezes the new
    # photo (see ``update_product``).
    if replaced and session.exec(
            select(Batch.id).where(Batch.product_photo == replaced).limit(1)).first():
        replaced = None
    audit.record(session, actor=actor, action=EventTag.Product.PHOTO, object_type="product",
                 object_id=product.id, before=before, after=_product_snapshot(product))
    stored = files.put_in_transaction(session, store, product.photo_stored_name, payload,
                                      content_type)
    return product, stored, replaced


# ---------------------------------------------------------------- batches


def product_page(session: Session, actor: User, window: Window) -> Page[Product]:
    _require_exporter(actor)
    return fetch_page(session, select(Product)
                      .where(Product.organisation_id == actor.organisation_id)
                      .order_by(col(Product.name_en), col(Product.id)), window)


def batch_page(session: Session, actor: User, window: Window,
               display: Display | None = None) -> Page[tuple[Batch, ProductFacts]]:
    """The exporter's batches, newest first, a page at a time; only those shown as
    ``display`` when given."""
    _require_exporter(actor)
    statement = (
        select(Batch, Product)
        .join(Product, col(Product.id) == Batch.product_id)
        .where(Batch.organisation_id == actor.organisation_id)
        .order_by(col(Batch.created_at).desc(), col(Batch.id).desc())
    )
    if display is not None:
        statement = statement.where(shown_as(display, today()))
    return as_registered(fetch_page(session, statement, window))


def as_registered(page: Page[Any]) -> Page[Any]:
    """A page of (batch, product, ...) rows with each product as its batch shows it."""
    items = [(row[0], registered_product(row[0], row[1]), *row[2:]) for row in page.items]
    return dataclasses.replace(page, items=items)


def shown_as(display: Display, day: dt.date) -> ColumnElement[bool]:
    """SQL for "the batch is shown as ``display`` on ``day``" (``display_status`` in SQL)."""
    status, valid_until = col(Batch.status), col(Batch.valid_until)
    if display is Display.EXPIRED:
        return and_(status == Status.APPROVED.value, valid_until < day)
    if display is Display.APPROVED:
        return and_(status == Status.APPROVED.value,
                    or_(valid_until.is_(None), valid_until >= day))
    return status == display.value


def display_of(batch: Batch) -> Display:
    """The status a person reads for ``batch`` today: an approved batch past its validity is
    expired."""
    return display_status(Status(batch.status), batch.valid_until, today())


def display_counts(session: Session, actor: User) -> dict[Display, int]:
    """How many of the exporter's batches are shown with each status today."""
    _require_exporter(actor)
    past = case((shown_as(Display.EXPIRED, today()), 1), else_=0)
    rows = session.exec(
        select(Batch.status, past, func.count())
        .where(Batch.organisation_id == actor.organisation_id)
        .group_by(Batch.status, past)
    ).all()
    counts = dict.fromkeys(Display, 0)
    for status, expired, n in rows:
        counts[Display.EXPIRED if expired else Display(status)] += n
    return counts


def get_batch(session: Session, actor: User, batch_id: int) -> Batch:
    """The batch if ``actor`` may see it; otherwise NotFound, so ids reveal nothing."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound("no such batch")
    if actor.role == Role.EXPORTER and batch.organisation_id == actor.organisation_id:
        return batch
    if actor.role == Role.OFFICER and batch.status != Status.DRAFT and (
        batch.origin_province_code == officer_province(session, actor)
    ):
        return batch
    if actor.role == Role.ADMIN:
        return batch
    raise NotFound("no such batch")


def _check_batch(session: Session, actor: User, data: BatchInput, exclude: int | None) -> None:
    problems = batch_problems(data, today())
    product = session.get(Product, data.product_id)
    if product is None or product.organisation_id != actor.organisation_id:
        problems["product_id"] = "unknown"
    if "lot_code" not in problems:
        clash = session.exec(
            select(Batch.id).where(
                Batch.organisation_id == actor.organisation_id,
                Batch.lot_code == data.lot_code,
                Batch.id != (exclude or 0),
            )
        ).first()
        if clash is not None:
            problems["lot_code"] = "taken"
    if problems:
        raise ValidationError("invalid batch", fields=problems)


def _apply_batch(batch: Batch, data: BatchInput) -> None:
    for key, value in asdict(data).items():
        setattr(batch, key, value.strip() if isinstance(value, str) else value)
    batch.origin_province_code = province_of_regency(data.origin_regency_code) or ""


def create_batch(session: Session, actor: User, data: BatchInput) -> Batch:
    _require_exporter(actor)
    _check_batch(session, actor, data, None)
    batch = Batch(organisation_id=actor.organisation_id, status=Status.DRAFT,
                  **{k: v for k, v in asdict(data).items()}, origin_province_code="")
    _apply_batch(batch, data)
    session.add(batch)
    flush_unique(session, {"lot_code": "lot_code"})
    audit.record(session, actor=actor, action=EventTag.Batch.CREATE, object_type="batch",
                 object_id=batch.id, after=batch_snapshot(batch))
    return batch


def editable_batch(session: Session, actor: User, batch_id: int) -> Batch:
    _require_exporter(actor)
    batch = get_batch(session, actor, batch_id)
    if not is_editable(Status(batch.status)):
        raise Conflict("this batch is frozen: it was submitted or certified")
    return batch


class BatchChanged(Conflict):
    """Someone changed the batch since the acting user read it (another officer decided
    first, or an edit raced this one): nothing was written."""


def update_if_unchanged(session: Session, batch: Batch, values: dict[str, Any]) -> None:
    """Write ``values`` only if nobody changed the batch since we read it."""
    result = session.exec(
        update(Batch)
        .where(col(Batch.id) == batch.id, col(Batch.version) == batch.version)
        .values(version=batch.version + 1, **values)
    )
    if result.rowcount != 1:
        raise BatchChanged("the batch was changed by someone else")
    session.refresh(batch)


def update_batch(session: Session, actor: User, batch_id: int, data: BatchInput) -> Batch:
    batch = editable_batch(session, actor, batch_id)
    _check_batch(session, actor, data, batch.id)
    before = batch_snapshot(batch)
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in asdict(data).items()}
    values["origin_province_code"] = province_of_regency(data.origin_regency_code) or ""
    try:
        update_if_unchanged(session, batch, values)
    except IntegrityError as exc:
        # Renamed to a lot code a racing request registered a moment ago.
        if "lot_code" not in unique_columns(exc):
            raise
        session.rollback()
        raise Taken("already registered", fields={"lot_code": "taken"}) from None
    audit.record(session, actor=actor, action=EventTag.Batch.UPDATE, object_type="batch",
                 object_id=batch.id, before=before, after=batch_snapshot(batch))
    return batch


class EvidenceMissing(ValidationError):
    """The batch lacks evidence; ``kinds`` are the missing document kinds (or ANY_DOCUMENT)."""

    def __init__(self, kinds: list[str]) -> None:
        code = "evidence_missing" if kinds == [ANY_DOCUMENT] else "evidence_kinds_missing"
        super().__init__("add evidence before submitting: " + ", ".join(kinds),
                         fields={"documents": code})
        self.kinds = kinds


def _evidence_kinds(session: Session, batch: Batch) -> set[str]:
    return set(session.exec(select(Document.kind).where(Document.batch_id == batch.id)).all())


class PlotsMissing(ValidationError):
    """The batch's HS code is in Annex I of the EU Deforestation Regulation and it has no
    production plots recorded; ``commodity`` is the annex's (coffee, cocoa, ...)."""

    def __init__(self, commodity: str) -> None:
        super().__init__(f"record the production plots of this {commodity} before submitting",
                         fields={"plots": "plots_missing"})
        self.commodity = commodity


class PlotsOutsideRegency(ValidationError):
    """Plots recorded before the batch's origin regency was changed lie outside the new one."""

    def __init__(self) -> None:
        super().__init__("production plots lie outside the batch's origin regency",
                         fields={"plots": "plots_outside_regency"})


def _check_plots(session: Session, batch: Batch, hs_code: str) -> None:
    heading = eudr_heading(hs_code)
    if heading is None:
        return
    plots = session.exec(select(Plot.geometry).where(Plot.batch_id == batch.id)).all()
    if not plots:
        raise PlotsMissing(heading.commodity)
    if not plot_rules.all_near_regency(list(plots), batch.origin_regency_code):
        raise PlotsOutsideRegency


def submit_batch(session: Session, actor: User, batch_id: int, *,
                 required_evidence: Mapping[str, Sequence[str]] | None = None) -> Batch:
    """Submit a draft (or corrected) batch; it needs at least one document, the kinds
    ``required_evidence`` (category → kinds, the REQUIRED_EVIDENCE setting) names, and, when
    its HS code is in the EU Deforestation Regulation's annex, production plots."""
    _require_exporter(actor)
    batch = get_batch(session, actor, batch_id)
    try:
        new = next_status(Status(batch.status), Action.SUBMIT)
    except TransitionError as exc:
        raise Conflict(str(exc)) from None
    product = session.get_one(Product, batch.product_id)
    required = required_evidence or {}
    # Checked before writing, so a refusal leaves the session clean for the page ...
    missing = missing_evidence(product.category, _evidence_kinds(session, batch), required)
    if missing:
        raise EvidenceMissing(missing)
    _check_plots(session, batch, product.hs_code)
    before = batch_snapshot(batch)
    update_if_unchanged(session, batch, {"status": new, "submitted_at": utcnow()})
    # Freeze the product as the office will review it, read after the batch row is taken
    # (FOR UPDATE waits for an edit of the product in flight; see ``update_product``).
    product = session.exec(select(Product).where(Product.id == batch.product_id)
                           .with_for_update().execution_options(populate_existing=True)).one()
    session.exec(update(Batch).where(col(Batch.id) == batch.id)
                 .values(**frozen_columns(product)))
    session.refresh(batch)
    # ... and again holding the batch's lock: a removal that committed in between
    # (``lock_for_evidence`` made us wait for it) is seen now, and refuses the submission.
    missing = missing_evidence(product.category, _evidence_kinds(session, batch), required)
    if missing:
        raise EvidenceMissing(missing)
    _check_plots(session, batch, product.hs_code)
    audit.record(session, actor=actor, action=EventTag.Batch.SUBMIT, object_type="batch",
                 object_id=batch.id, before=before, after=batch_snapshot(batch))
    return batch


# ---------------------------------------------------------------- evidence


def list_documents(session: Session, batch: Batch) -> list[Document]:
    return list(
        session.exec(
            select(Document).where(Document.batch_id == batch.id)
            .order_by(col(Document.uploaded_at))
        ).all()
    )


class EvidenceFrozen(Conflict):
    """The batch was submitted while its evidence was being changed (it was still editable
    when read): the change is refused, the submission stands."""


def lock_for_evidence(session: Session, batch: Batch) -> None:
    """Lock the batch row for a change of its evidence, while it is still editable.

    A conditional UPDATE that changes nothing but takes the row's write lock (PostgreSQL
    re-checks its WHERE after waiting for a racing submission's lock; SQLite runs one writer
    at a time). Against a racing submission exactly one order results: the submission first,
    and this UPDATE finds the batch no longer editable (409); this change first, and the
    submission, waiting for the lock, then reads the evidence as changed. The version is not
    bumped: it counts decisions an officer reviews, and two uploads to a draft may both land.
    """
    result = session.exec(
        update(Batch)
        .where(col(Batch.id) == batch.id,
               col(Batch.status).in_([s.value for s in EDITABLE]))
        .values(version=Batch.version)
    )
    if result.rowcount != 1:
        raise EvidenceFrozen("This batch was submitted: its evidence can no longer be changed.")


def add_document(
    session: Session, actor: User, batch_id: int, *, kind: str, filename: str, data: bytes,
    is_public: bool, store: files.FileStore, max_bytes: int, max_pixels: int,
    certificate: CertificateInput | None = None,
) -> tuple[Document, files.StoredFile]:
    """Attach an evidence file; a certificate's facts (``certificate``: number, issuer,
    dates, origin form, organic scheme) ride with it, checked by ``certificates.rules``."""
    batch = editable_batch(session, actor, batch_id)
    if kind not in set(DocumentKind):
        raise ValidationError("invalid document", fields={"kind": "unknown"})
    facts = certificate or CertificateInput()
    problems = certificate_problems(kind, facts, today())
    if problems:
        raise ValidationError("invalid certificate", fields=problems)
    if text_problem(filename):
        # The name goes into the download's Content-Disposition and onto pages: a CR/LF
        # there made the document undownloadable, a bidi override disguises its type.
        raise ValidationError("file name with control or bidi characters",
                              fields={"file": "bad_filename"})
    try:
        payload, content_type = storage.prepare(
            data, allowed=EVIDENCE_TYPES, max_bytes=max_bytes, max_pixels=max_pixels
        )
    except storage.UploadError as exc:
        raise ValidationError("invalid file", fields={"file": exc.code}) from None
    digest = hashlib.sha256(payload).hexdigest()
    lock_for_evidence(session, batch)
    doc = Document(
        batch_id=batch.id, kind=kind, original_name=(filename or "document")[-255:],
        stored_name=storage.new_name(content_type), content_type=content_type,
        size=len(payload), sha256=digest, is_public=is_public, uploaded_by=actor.id,
        **_certificate_columns(kind, facts),
    )
    session.add(doc)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Batch.DOCUMENT_ADD, object_type="batch",
                 object_id=batch.id, after={"document_id": doc.id, "kind": kind,
                                            "name": doc.original_name,
                                            "sha256": digest, "public": is_public,
                                            **_certificate_snapshot(doc)})
    # Written last: any failure above leaves no object behind.
    stored = files.put_in_transaction(session, store, doc.stored_name, payload,
                                      content_type)
    return doc, stored


def _certificate_columns(kind: str, facts: CertificateInput) -> dict[str, Any]:
    """The document's certificate columns: NULL for what was not given."""
    if facts.empty:
        return {}
    return {"number": normalise_number(kind, facts.number), "issuer": facts.issuer.strip() or None,
            "issued_on": facts.issued_on, "expires_on": facts.expires_on,
            "form_type": facts.form_type or None, "scheme": facts.scheme or None}


def _certificate_snapshot(doc: Document) -> dict[str, Any]:
    """A certificate's facts for the audit trail (none for a plain document)."""
    if doc.number is None:
        return {}
    return {"number": doc.number, "issuer": doc.issuer, "issued_on": doc.issued_on,
            "expires_on": doc.expires_on, "form_type": doc.form_type, "scheme": doc.scheme}


def remove_document(session: Session, actor: User, batch_id: int, document_id: int) -> Document:
    batch = editable_batch(session, actor, batch_id)
    doc = session.get(Document, document_id)
    if doc is None or doc.batch_id != batch.id:
        raise NotFound("no such document")
    lock_for_evidence(session, batch)
    session.delete(doc)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Batch.DOCUMENT_REMOVE, object_type="batch",
                 object_id=batch.id, before={"document_id": doc.id, "kind": doc.kind,
                                             "name": doc.original_name,
                                             "sha256": doc.sha256})
    return doc


def get_document(session: Session, actor: User, batch_id: int, document_id: int) -> Document:
    batch = get_batch(session, actor, batch_id)
    doc = session.get(Document, document_id)
    if doc is None or doc.batch_id != batch.id:
        raise NotFound("no such document")
    return doc


def product_photo(session: Session, actor: User, product_id: int) -> tuple[str, str | None]:
    """The stored name and SHA-256 of a product's current photo, if ``actor`` may see it: its
    own exporter; an officer of a province a batch of it was submitted from (the office
    reviews it there); an administrator. NotFound otherwise, so ids reveal nothing."""
    product = session.get(Product, product_id)
    if product is None or not product.photo_stored_name:
        raise NotFound("no such photo")
    own = actor.role == Role.EXPORTER and product.organisation_id == actor.organisation_id
    reviewed = actor.role == Role.OFFICER and _officer_may_see_product(session, actor, product)
    if not (own or reviewed or actor.role == Role.ADMIN):
        raise NotFound("no such photo")
    return product.photo_stored_name, product.photo_sha256


def _officer_may_see_product(session: Session, actor: User, product: Product) -> bool:
    province = officer_province(session, actor)
    return session.exec(
        select(Batch.id).where(
            Batch.product_id == product.id,
            Batch.origin_province_code == province,
            Batch.status != Status.DRAFT,
        )
    ).first() is not None
