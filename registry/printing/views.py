from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.auth import roles_required
from registry.accounts.forms import ActionForm
from registry.accounts.models import Role
from registry.catalog import services as catalog
from registry.catalog.models import Batch, Product
from registry.exceptions import Conflict, NotFound, RegistryError, ValidationError
from registry.files.base import FileMissing
from registry.files.web import file_store
from registry.gs1.digital_link import uri_length
from registry.ops.metrics import counted_labels
from registry.printing import downloads, jobfiles, presenters, services
from registry.printing.forms import OrderForm, ReprintForm
from registry.printing.messages import bound_message, fit_message
from registry.printing.models import PrintJob
from registry.printing.render.preview import render_png_preview
from registry.printing.render.stream import render_pdf
from registry.printing.rules import default_net, net_problem
from registry.printing.tasks import render_label_file
from registry.printing.zpl import SUPPORTED_DPI, ZPL_DPIS, is_roll, zpl_fits
from registry.queue import enqueue_after_commit
from registry.signing.keys import KeyStoreUnavailable, keystore, signer
from registry.signing.services import KeyRevoked
from registry.signing.signer import Signer
from registry.web.database import get_session
from registry.web.forms import apply_field_errors
from registry.web.messages import PRINT_JOB, Problem, message

bp = Blueprint("printing", __name__)


def _tolerance() -> Any:
    """``LABEL_QUANTITY_TOLERANCE_PERCENT``: how far a batch's labels may claim beyond its
    certified quantity before an officer's allowance is needed."""
    return current_app.config["LABEL_QUANTITY_TOLERANCE_PERCENT"]


def _host() -> tuple[str, str]:
    return current_app.config["PUBLIC_HOST"], current_app.config["PUBLIC_SCHEME"]


def _stock_names() -> dict[str, str]:
    return presenters.stock_names()


def _order_form() -> OrderForm:
    form = OrderForm()
    form.printer_org_id.choices = [(o.id, o.name) for o in services.print_shops(get_session())]
    lang = str(get_locale())
    form.stock.choices = [(s.id, s.name(lang)) for s in services.stocks().values()]
    return form


@bp.route("/batches/<int:batch_id>/labels", methods=["GET", "POST"])
@roles_required(Role.EXPORTER)
def order(batch_id: int) -> Any:
    db = get_session()
    batch = catalog.get_batch(db, current_user, batch_id)
    form = _order_form()
    if form.validate_on_submit():
        try:
            job = services.order_job(
                db, current_user, batch_id, printer_org_id=form.printer_org_id.data,
                stock=form.stock.data or "", quantity=form.quantity.data or 0,
                net_quantity=form.net_quantity.data or "", tolerance_percent=_tolerance(),
                host=_host()[0])
        except services.LabelTextTooLong as exc:
            form.stock.errors = [*form.stock.errors, fit_message(exc)]
        except services.LabelBoundExceeded as exc:
            form.quantity.errors = [*form.quantity.errors, bound_message(exc)]
        except ValidationError as exc:
            apply_field_errors(form, exc, about=PRINT_JOB)
        else:
            flash(_("Print job ordered: serials %(first)s to %(last)s.",
                    first=job.serial_first, last=job.serial_last), "success")
            return redirect(url_for("printing.order", batch_id=batch_id))
    # The preview shows the stock being considered: the one previewed (?stock=), else the
    # one on the order form just sent, else the form's first choice.
    stock_ids = list(services.stocks())
    preview_stock = request.args.get("stock") or form.stock.data or stock_ids[0]
    if preview_stock not in services.stocks():
        preview_stock = stock_ids[0]
    if not form.is_submitted():
        form.stock.data = preview_stock
    preview_net = (request.args.get("net") or form.net_quantity.data
                   or default_net(batch.unit))[:16]
    return render_template("printing/order.html", batch=batch, form=form,
                           preview_stock=preview_stock, preview_net=preview_net,
                           stock_names=_stock_names(),
                           print_jobs=presenters.job_summaries(
                               db, services.jobs_for_batch(db, current_user, batch)),
                           can_order=services.can_print(batch),
                           product=catalog.registered_product(
                               batch, db.get_one(Product, batch.product_id)),
                           bound=services.bound_for(db, batch, _tolerance()),
                           default_net=default_net(batch.unit))


def _preview_args(batch_id: int) -> tuple[str, Batch, services.LabelSource]:
    """Stock, batch and label text of a proof; the net quantity follows the order's rule."""
    stock = request.args.get("stock", "a4-3x7")
    if stock not in services.stocks():
        raise NotFound("no such stock")
    db = get_session()
    batch = catalog.get_batch(db, current_user, batch_id)
    services.require_printable(batch)
    net, problem = net_problem(request.args.get("net") or default_net(batch.unit), batch.unit)
    if net is None:
        code = problem or Problem.BAD_NET_QUANTITY
        raise RegistryError(message(code), public=True, fields={"net": code})
    host, scheme = _host()
    product = db.get_one(Product, batch.product_id)
    return stock, batch, services.label_source(batch, product, net_quantity=net.text,
                                               host=host, scheme=scheme)


@bp.route("/batches/<int:batch_id>/labels/preview.png")
@roles_required(Role.EXPORTER)
def preview_png(batch_id: int) -> Any:
    stock, batch, source = _preview_args(batch_id)
    label = source.specimen(signer(), services.next_free_serial(get_session(), batch.id))
    png = render_png_preview(services.stocks()[stock], label, dpi=200, specimen=True)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


@bp.route("/batches/<int:batch_id>/labels/proof.pdf")
@roles_required(Role.EXPORTER)
def proof_pdf(batch_id: int) -> Any:
    stock_id, batch, source = _preview_args(batch_id)
    stock = services.stocks()[stock_id]
    # Specimens only: a proof must never carry a code that could verify, now or once the
    # serials it would show are printed by a job.
    label = source.specimen(signer(), services.next_free_serial(get_session(), batch.id))
    pdf = render_pdf(stock, [label] * stock.labels_per_sheet, workers=1, specimen=True)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="proof-{batch.lot_code}-{stock_id}.pdf"',
        "Cache-Control": "private, no-store"})


# ---------------------------------------------------------------- print shop


@bp.route("/print-shop")
@roles_required(Role.PRINTER)
def jobs() -> Any:
    db = get_session()
    rows = services.jobs_for_printer(db, current_user)
    zpl = {r.job.id: _zpl_dpis(r.job, r.batch, r.product.gtin) for r in rows if r.downloadable}
    files = presenters.files_by_job(db, [(r.job, zpl[r.job.id]) for r in rows
                                         if r.downloadable])
    coarse = {job_id: [dpi for dpi, fits in dpis.items() if not fits]
              for job_id, dpis in zpl.items()}
    return render_template("printing/jobs.html", rows=rows, reprint_form=ReprintForm(),
                           stock_names=_stock_names(),
                           sheets={r.job.id: services.sheets_of(r.job) for r in rows},
                           files=files, coarse=coarse, action_form=ActionForm())


def _zpl_dpis(job: PrintJob, batch: Batch, gtin: str) -> dict[int, bool]:
    """For a roll job: each offered printer resolution and whether its QR code can be drawn
    there (a 203 dpi head has 0.125 mm dots: 0.4 mm modules take 4 dots, which the small
    rolls' QR boxes may not hold)."""
    stock = services.stocks()[job.stock]
    if not is_roll(stock):
        return {}
    host, scheme = _host()
    # The job's longest URI is its last serial's.
    length = uri_length(host, gtin, batch.lot_code, str(job.serial_last), scheme)
    return {dpi: zpl_fits(stock, length, dpi) for dpi in ZPL_DPIS}


def _printable_job(job_id: int) -> tuple[PrintJob, Batch, Product]:
    """The print shop's job, or 404; 409 with a clear message once the batch lost its
    certification."""
    try:
        job, batch, product = services.printer_job(get_session(), current_user, job_id)
    except Conflict:
        raise Conflict(_("This batch's certification is suspended, revoked or expired: its "
                         "labels can no longer be printed."), public=True) from None
    # A job ordered before the fit rule (or before PUBLIC_HOST changed) could cut its text.
    host, scheme = _host()
    try:
        services.check_text_fits(job.stock, services.label_source(
            batch, product, net_quantity=job.net_quantity, host=host, scheme=scheme))
    except services.LabelTextTooLong as exc:
        raise Conflict(fit_message(exc) + " " + _("Ask the exporter to order these labels "
                                                  "again on a larger stock."),
                       public=True) from None
    return job, batch, product


def _signing(record: Callable[[str], object]) -> Signer:
    """The active signer, once ``record(kid)`` noted it in the request's transaction. A key
    revoked on another server a moment ago is noticed there: read the keys again, once."""
    for _attempt in range(2):
        active = signer()
        try:
            record(active.kid)
        except KeyRevoked:
            keystore().invalidate()
            continue
        return active
    raise KeyStoreUnavailable("the active signing key keeps changing")


def _labels(job: PrintJob, batch: Batch, product: Product, first: int, last: int,
            active: Signer) -> Any:
    host, scheme = _host()
    source = services.label_source(batch, product, net_quantity=job.net_quantity, host=host,
                                   scheme=scheme)
    return source.labels(active, first, last)


def _format(job: PrintJob, dpi: int | None) -> str:
    """The file asked for: the PDF, or ZPL at a resolution this roll's QR code can be drawn
    in (404 for a sheet stock or an unknown resolution, 409 for a head too coarse)."""
    if dpi is None:
        return jobfiles.PDF
    stock = services.stocks()[job.stock]
    if not is_roll(stock) or dpi not in SUPPORTED_DPI:
        raise NotFound("ZPL is offered for thermal roll stocks at 203, 300 or 600 dpi")
    batch = get_session().get_one(Batch, job.batch_id)
    product = get_session().get_one(Product, batch.product_id)
    gtin = catalog.registered_product(batch, product).gtin
    host, scheme = _host()
    if not zpl_fits(stock, uri_length(host, gtin, batch.lot_code, str(job.serial_last),
                                      scheme), dpi):
        raise Conflict(_("ZPL %(dpi)s dpi: this stock's QR code needs a finer printer head.",
                         dpi=dpi), public=True)
    return jobfiles.zpl_format(dpi)


@bp.route("/print-shop/jobs/<int:job_id>")
@roles_required(Role.PRINTER)
def job(job_id: int) -> Any:
    """One job's files: state, labels rendered of all (a bar that needs no script: the page
    reloads itself while a render runs), downloads, and the links that have one rendered."""
    job, batch, product = _printable_job(job_id)
    db = get_session()
    view = presenters.job_files(db, job, _zpl_dpis(
        job, batch, catalog.registered_product(batch, product).gtin))
    return render_template("printing/job.html", job=job, batch=batch,
                           product=catalog.registered_product(batch, product), files=view,
                           refresh=any(f.in_progress for f in view),
                           stock_names=_stock_names(), action_form=ActionForm(),
                           reprint_form=ReprintForm(), sheets=services.sheets_of(job))


def _request(job: PrintJob, fmt: str) -> None:
    db = get_session()
    row, send = jobfiles.request_file(db, current_user, job, fmt,
                                      store=file_store())
    if send:
        enqueue_after_commit(db, render_label_file, row.id)


@bp.route("/print-shop/jobs/<int:job_id>.pdf")
@roles_required(Role.PRINTER)
def download_pdf(job_id: int) -> Any:
    return _download(job_id, None)


@bp.route("/print-shop/jobs/<int:job_id>.zpl")
@roles_required(Role.PRINTER)
def download_zpl(job_id: int) -> Any:
    return _download(job_id, request.args.get("dpi", 300, type=int))


def _download(job_id: int, dpi: int | None) -> Any:
    """The finished file from the store, with HTTP Range for resuming. A file not rendered
    yet (or expired, or of a key revoked since) is asked for, and the print shop waits on
    the job's page, which offers the download when it is ready."""
    job, batch, _product = _printable_job(job_id)
    fmt = _format(job, dpi)
    db = get_session()
    row = jobfiles.file_of(db, job, fmt)
    if row is None or not jobfiles.servable(db, row):
        _request(job, fmt)
        return redirect(url_for("printing.job", job_id=job.id), code=303)
    name = f"job-{job.id}-{batch.lot_code}.{jobfiles.extension(fmt)}"
    try:
        return downloads.send(row, job, filename=name, actor_id=current_user.id)
    except FileMissing:
        # The store lost it (or an operator emptied it): render it again.
        jobfiles.discard_damaged(db, row)
        _request(job, fmt)
        return redirect(url_for("printing.job", job_id=job.id), code=303)


@bp.route("/print-shop/jobs/<int:job_id>/reprint", methods=["POST"])
@roles_required(Role.PRINTER)
def reprint(job_id: int) -> Any:
    db = get_session()
    form = ReprintForm()
    job, batch, product = _printable_job(job_id)  # another shop's job is 404 whatever it sends
    if not form.validate_on_submit():
        flash(_("Say why the sheets are reprinted.") if form.reason.errors
              else _("Choose the sheets to reprint."), "error")
        return redirect(url_for("printing.jobs"))
    sheet_first, sheet_last = form.sheet_first.data, form.sheet_last.data
    assert sheet_first is not None and sheet_last is not None  # InputRequired passed
    try:
        active = _signing(lambda kid: services.record_reprint(
            db, current_user, job, sheet_first=sheet_first, sheet_last=sheet_last,
            reason=form.reason.data or "", kid=kid))
    except ValidationError as exc:
        if "reason" in exc.fields:
            flash(_("Say why the sheets are reprinted."), "error")
        elif exc.fields.get("sheet_last") == Problem.TOO_MANY_SHEETS:
            flash(message(Problem.TOO_MANY_SHEETS), "error")
        else:
            flash(_("Choose sheets within the job (1 to %(n)s).", n=services.sheets_of(job)),
                  "error")
        return redirect(url_for("printing.jobs"))
    first, last = services.reprint_serials(job, sheet_first, sheet_last)
    labels = counted_labels(_labels(job, batch, product, first, last, active), "pdf")
    pdf = render_pdf(services.stocks()[job.stock], labels, workers=1)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="job-{job.id}-reprint-'
                               f'{sheet_first}-{sheet_last}.pdf"',
        "Cache-Control": "private, no-store"})
