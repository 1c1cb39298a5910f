from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry import files
from registry.accounts.auth import roles_required
from registry.accounts.forms import ActionForm
from registry.accounts.models import Role
from registry.catalog import presenters, services, storage
from registry.catalog.certification import (
    Display,
    Status,
    is_editable,
)
from registry.catalog.forms import BatchForm, DocumentForm, PhotoForm, ProductForm
from registry.catalog.messages import evidence_frozen
from registry.catalog.models import Product
from registry.catalog.overview import batch_overview
from registry.catalog.rules import ANY_DOCUMENT, BatchInput, ProductInput
from registry.catalog.vocabulary import STATUS_LABELS, document_kind_label
from registry.certificates import presenters as certificate_words
from registry.certificates import services as certificates
from registry.clock import today
from registry.db.paging import Window, window_from
from registry.exceptions import Conflict, ValidationError
from registry.files.web import file_store
from registry.reference import typical_hs_codes
from registry.reference.hs_search import search as search_hs
from registry.web.database import get_session
from registry.web.forms import apply_field_errors
from registry.web.messages import Problem, message

bp = Blueprint("catalog", __name__)


def _read_upload(field: Any) -> tuple[str, bytes]:
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    storage_file = field.data
    data = storage_file.read(limit + 1)
    return storage_file.filename or "", data


# ---------------------------------------------------------------- dashboard


@bp.route("/batches")
@roles_required(Role.EXPORTER)
def dashboard() -> Any:
    """The exporter's batches by status: the latest of each status, or one status a page at
    a time (``?status=``)."""
    db = get_session()
    counts = services.display_counts(db, current_user)
    chosen = next((d for d in Display if d.value == request.args.get("status")), None)
    if chosen is None:
        pages = {d: services.batch_page(db, current_user, Window(), d)
                 for d in Display if counts[d]}
    else:
        page = services.batch_page(db, current_user, window_from(request.args.get("page")),
                                   chosen)
        if not page.items and page.total:  # past the end: the last page
            return redirect(url_for("catalog.dashboard", status=chosen.value, page=page.last))
        pages = {chosen: page}
    summary = [(STATUS_LABELS[d], d.value, counts[d]) for d in Display]
    return render_template(
        "catalog/dashboard.html", pages=pages, summary=summary, labels=STATUS_LABELS,
        chosen=chosen, has_products=bool(services.product_page(db, current_user,
                                                                Window(1, 1)).total),
        empty=_("No batches with this status.") if chosen else _("No batches yet."))


# ---------------------------------------------------------------- products


def _product_input(form: ProductForm) -> ProductInput:
    return ProductInput(
        name_id=form.name_id.data or "", name_en=form.name_en.data or "",
        category=form.category.data or "", hs_code=form.hs_code.data or "",
        gtin=(form.gtin.data or "").strip() or None, description=form.description.data or "",
    )


@bp.route("/products")
@roles_required(Role.EXPORTER)
def products() -> Any:
    return render_template("catalog/products.html",
                           products=services.list_products(get_session(), current_user))


@bp.route("/products/new", methods=["GET", "POST"])
@roles_required(Role.EXPORTER)
def product_new() -> Any:
    form = ProductForm()
    if form.validate_on_submit():
        try:
            services.create_product(get_session(), current_user, _product_input(form))
        except ValidationError as exc:
            apply_field_errors(form, exc)
        else:
            flash(_("Product saved."), "success")
            return redirect(url_for("catalog.products"))
    return render_template("catalog/product_form.html", form=form, product=None,
                           **_hs_help(form))


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@roles_required(Role.EXPORTER)
def product_edit(product_id: int) -> Any:
    db = get_session()
    product = services.get_product(db, current_user, product_id)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        try:
            services.update_product(db, current_user, product_id, _product_input(form))
        except ValidationError as exc:
            apply_field_errors(form, exc)
        else:
            flash(_("Product saved."), "success")
            return redirect(url_for("catalog.products"))
    return _product_page(product, form, PhotoForm())


def _product_page(product: Product, form: ProductForm, photo_form: PhotoForm,
                  status: int = 200) -> Any:
    """The edit page; it says when batches already froze the product as submitted."""
    frozen = services.has_submitted_batches(get_session(), product.id or 0)
    return render_template("catalog/product_form.html", form=form, product=product,
                           photo_form=photo_form, frozen=frozen, **_hs_help(form)), status


HS_MATCHES_ON_FORM = 10


def _hs_help(form: ProductForm) -> dict[str, Any]:
    """The typical codes as suggestions; and when what was typed is not a code, the codes its
    words match, so the form finds a code without scripts."""
    typed = (form.hs_code.data or "").strip() if form.hs_code.errors else ""
    return {"hs_typical": typical_hs_codes(), "hs_typed": typed,
            "hs_found": search_hs(typed, HS_MATCHES_ON_FORM) if typed else None}


@bp.route("/hs-codes")
@login_required
def hs_codes() -> Any:
    """The HS 2022 list searched by code or words (``?q=``), the region's typical codes first;
    with no query, the typical codes."""
    query = request.args.get("q", "").strip()
    found = search_hs(query) if query else None
    return render_template("catalog/hs_codes.html", query=query, found=found,
                           typical=typical_hs_codes())


@bp.route("/products/<int:product_id>/photo", methods=["POST"])
@roles_required(Role.EXPORTER)
def product_photo(product_id: int) -> Any:
    db = get_session()
    services.get_product(db, current_user, product_id)
    form = PhotoForm()
    if not form.validate_on_submit():
        flash(_("Please choose a JPEG or PNG photo."), "error")
        return redirect(url_for("catalog.product_edit", product_id=product_id)), 303
    _filename, data = _read_upload(form.photo)
    try:
        _product, _stored, replaced = services.set_product_photo(
            db, current_user, product_id, data, store=file_store(),
            max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
            max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
        )
    except ValidationError as exc:
        apply_field_errors(form, exc)
        product = services.get_product(db, current_user, product_id)
        return _product_page(product, ProductForm(obj=product), form, 422)
    if replaced:
        files.delete_after_commit(db, file_store(), replaced)
    flash(_("Photo saved."), "success")
    return redirect(url_for("catalog.product_edit", product_id=product_id))


@bp.route("/products/<int:product_id>/photo")
@roles_required(Role.EXPORTER, Role.OFFICER, Role.ADMIN)
def product_photo_file(product_id: int) -> Any:
    stored_name, sha256 = services.product_photo(get_session(), current_user, product_id)
    return _send_stored(stored_name, sha256, None)


def _send_stored(stored_name: str, sha256: str | None, download_name: str | None,
                 content_type: str | None = None) -> Any:
    """Serve a stored file, checked against its recorded SHA-256, as the type sniffed at
    upload (``content_type``, else from the generated name's extension), never as the
    uploader's file name suggests."""
    data = file_store().get(stored_name, sha256)
    if download_name is not None:
        download_name = storage.download_name(download_name)
    response = send_file(io.BytesIO(data), as_attachment=download_name is not None,
                         download_name=download_name, max_age=0, etag=sha256 or False,
                         mimetype=content_type or storage.content_type_of(stored_name))
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- batches


def _batch_form(form: BatchForm) -> None:
    form.product_id.choices = [
        (p.id, p.name_en) for p in services.list_products(get_session(), current_user)
    ]


def _batch_input(form: BatchForm) -> BatchInput:
    # Called once the form validated: the fields InputRequired guards hold a value.
    assert form.quantity.data is not None and form.production_date.data is not None
    assert form.declared_value_idr.data is not None
    return BatchInput(
        product_id=form.product_id.data, lot_code=(form.lot_code.data or "").strip(),
        quantity=form.quantity.data, unit=form.unit.data or "",
        production_date=form.production_date.data, best_before=form.best_before.data,
        origin_regency_code=form.origin_regency_code.data or "",
        producer=form.producer.data or "", hub=form.hub.data or "",
        destination_country=form.destination_country.data or "",
        declared_value_idr=form.declared_value_idr.data,
    )


@bp.route("/batches/new", methods=["GET", "POST"])
@roles_required(Role.EXPORTER)
def batch_new() -> Any:
    form = BatchForm()
    _batch_form(form)
    if not form.product_id.choices:
        flash(_("Register a product first; every batch belongs to a product."), "info")
        return redirect(url_for("catalog.product_new"))
    if form.validate_on_submit():
        try:
            batch = services.create_batch(get_session(), current_user, _batch_input(form))
        except ValidationError as exc:
            apply_field_errors(form, exc)
        else:
            flash(_("Draft batch saved. Add evidence documents, then submit it."), "success")
            return redirect(url_for("catalog.batch_detail", batch_id=batch.id))
    return render_template("catalog/batch_form.html", form=form, batch=None)


@bp.route("/batches/<int:batch_id>/edit", methods=["GET", "POST"])
@roles_required(Role.EXPORTER)
def batch_edit(batch_id: int) -> Any:
    db = get_session()
    batch = services.get_batch(db, current_user, batch_id)
    if not is_editable(Status(batch.status)):
        raise Conflict(_("This batch was submitted and can no longer be edited."), public=True)
    form = BatchForm(obj=batch)
    _batch_form(form)
    if form.validate_on_submit():
        try:
            services.update_batch(db, current_user, batch_id, _batch_input(form))
        except ValidationError as exc:
            apply_field_errors(form, exc)
        else:
            flash(_("Batch saved."), "success")
            return redirect(url_for("catalog.batch_detail", batch_id=batch_id))
    return render_template("catalog/batch_form.html", form=form, batch=batch)


@bp.route("/batches/<int:batch_id>")
@roles_required(Role.EXPORTER)
def batch_detail(batch_id: int) -> Any:
    return render_template("catalog/batch_detail.html", **_batch_page(batch_id),
                           doc_form=DocumentForm(), action_form=ActionForm())


def _batch_page(batch_id: int) -> dict[str, Any]:
    db = get_session()
    overview = batch_overview(db, current_user, batch_id, tolerance_percent=current_app.config[
        "LABEL_QUANTITY_TOLERANCE_PERCENT"])
    return presenters.batch_page(db, overview)


@bp.route("/batches/<int:batch_id>/submit", methods=["POST"])
@roles_required(Role.EXPORTER)
def batch_submit(batch_id: int) -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.submit_batch(db, current_user, batch_id,
                                  required_evidence=current_app.config["REQUIRED_EVIDENCE"])
        except services.EvidenceMissing as exc:
            # The page shows the batch as stored, and says what to add.
            db.rollback()
            flash(_evidence_message(exc.kinds), "error")
            return render_template("catalog/batch_detail.html", **_batch_page(batch_id),
                                   doc_form=DocumentForm(), action_form=ActionForm()), 422
        except (services.PlotsMissing, services.PlotsOutsideRegency) as exc:
            db.rollback()
            flash(message(exc.fields["plots"]), "error")
            return render_template("catalog/batch_detail.html", **_batch_page(batch_id),
                                   doc_form=DocumentForm(), action_form=ActionForm()), 422
        flash(_("Submitted. The trade office of the origin province will review it."), "success")
        # Submitted all the same: the approval is where required certificates are enforced.
        notice = certificate_words.before_approval_text(certificates.batch_gaps(
            db, services.get_batch(db, current_user, batch_id), today()))
        if notice:
            flash(notice, "info")
    return redirect(url_for("catalog.batch_detail", batch_id=batch_id))


def _evidence_message(kinds: list[str]) -> str:
    if kinds == [ANY_DOCUMENT]:
        return message(Problem.EVIDENCE_MISSING)
    return _("This product's category needs these documents before submitting: %(kinds)s.",
             kinds=", ".join(str(document_kind_label(k)) for k in kinds))


@bp.route("/batches/<int:batch_id>/documents", methods=["POST"])
@roles_required(Role.EXPORTER)
def document_add(batch_id: int) -> Any:
    db = get_session()
    services.get_batch(db, current_user, batch_id)  # another company's batch: 404 first
    form = DocumentForm()
    if form.validate_on_submit():
        filename, data = _read_upload(form.file)
        try:
            _doc, _stored = services.add_document(
                db, current_user, batch_id, kind=form.kind.data or "", filename=filename,
                data=data, is_public=bool(form.is_public.data), store=file_store(),
                max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
                max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
                certificate=form.certificate(),
            )
        except services.EvidenceFrozen:
            raise Conflict(evidence_frozen(), public=True) from None
        except ValidationError as exc:
            # A number's format is said for its kind (BPJPH's, BPOM's).
            apply_field_errors(form, exc, about=form.kind.data)
        else:
            flash(_("Document added."), "success")
            return redirect(url_for("catalog.batch_detail", batch_id=batch_id))
    return render_template("catalog/batch_detail.html", **_batch_page(batch_id), doc_form=form,
                           action_form=ActionForm()), 422


@bp.route("/batches/<int:batch_id>/documents/<int:document_id>/delete", methods=["POST"])
@roles_required(Role.EXPORTER)
def document_remove(batch_id: int, document_id: int) -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            doc = services.remove_document(db, current_user, batch_id, document_id)
        except services.EvidenceFrozen:
            raise Conflict(evidence_frozen(), public=True) from None
        # The file goes only once the row's deletion is committed.
        files.delete_after_commit(db, file_store(), doc.stored_name)
        flash(_("Document removed."), "success")
    return redirect(url_for("catalog.batch_detail", batch_id=batch_id))


@bp.route("/batches/<int:batch_id>/documents/<int:document_id>")
@roles_required(Role.EXPORTER, Role.OFFICER, Role.ADMIN)
def document_file(batch_id: int, document_id: int) -> Any:
    doc = services.get_document(get_session(), current_user, batch_id, document_id)
    return _send_stored(doc.stored_name, doc.sha256, doc.original_name, doc.content_type)


@bp.app_template_global()
def request_endpoint() -> str:
    return request.endpoint or ""
