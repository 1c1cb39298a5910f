"""Shipment pages: the exporter declares a certified batch's shipments (and cancels one still
waiting); the Bali trade office's hub queue confirms or refuses each passage. Words and
numbers come from ``presenters``; rules and checks from ``services``."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from registry.accounts.auth import roles_required, second_factor_required
from registry.accounts.forms import ActionForm
from registry.accounts.models import Role
from registry.catalog import services as catalog
from registry.db.paging import window_from
from registry.exceptions import Conflict, ValidationError
from registry.reference import country_codes
from registry.reference.locode_search import search as search_locodes
from registry.shipments import presenters, services
from registry.shipments.forms import HubFilterForm, PassageForm, RefuseForm, ShipmentForm
from registry.shipments.rules import ShipmentInput
from registry.web.database import get_session
from registry.web.forms import apply_field_errors

bp = Blueprint("shipments", __name__)


# ---------------------------------------------------------------- the exporter


LOCODE_MATCHES_ON_FORM = 10


def _declare_page(batch_id: int, form: ShipmentForm, status: int = 200) -> Any:
    db = get_session()
    batch = catalog.get_batch(db, current_user, batch_id)
    if not form.is_submitted():
        form.hub.data = form.hub.data or batch.hub
    # What was typed, when it is not a code of the list: the places of the batch's destination
    # country it names, so the form finds a code without scripts.
    typed = (form.destination_locode.data or "").strip() \
        if form.destination_locode.errors else ""
    found = search_locodes(typed, batch.destination_country, LOCODE_MATCHES_ON_FORM) \
        if typed else None
    return render_template("shipments/declare.html", batch=batch, form=form,
                           locode_typed=typed, locode_found=found,
                           can_ship=services.can_ship(batch),
                           left=services.left_to_ship(db, batch),
                           shipments=presenters.rows(services.for_batch(db, batch)),
                           action_form=ActionForm()), status


@bp.route("/batches/<int:batch_id>/shipments", methods=["GET", "POST"])
@roles_required(Role.EXPORTER)
def declare(batch_id: int) -> Any:
    db = get_session()
    catalog.get_batch(db, current_user, batch_id)  # another company's batch: 404
    form = ShipmentForm()
    if not form.is_submitted():
        return _declare_page(batch_id, form)
    if not form.validate():
        return _declare_page(batch_id, form, 422)
    data = ShipmentInput(
        hub=form.hub.data or "", planned_date=form.planned_date.data,
        peb_number=form.peb_number.data or "", peb_date=form.peb_date.data,
        transport_document=form.transport_document.data or "",
        containers=tuple(c for c in re.split(r"[\s,;]+", form.containers.data or "") if c),
        destination_locode=form.destination_locode.data or "", quantity=form.quantity.data)
    try:
        services.declare(db, current_user, batch_id, data)
    except services.OverCertifiedQuantity as exc:
        form.quantity.errors = [presenters.over_shipped(exc)]
        return _declare_page(batch_id, form, 422)
    except ValidationError as exc:
        apply_field_errors(form, exc)
        return _declare_page(batch_id, form, 422)
    except Conflict:
        flash(_("Only a certified batch within its validity can be shipped."), "error")
        return _declare_page(batch_id, form, 409)
    flash(_("Shipment declared. The Bali trade office will confirm its passage through the "
            "hub."), "success")
    return redirect(url_for("shipments.declare", batch_id=batch_id))


@bp.route("/batches/<int:batch_id>/shipments/<int:shipment_id>/cancel", methods=["POST"])
@roles_required(Role.EXPORTER)
def cancel(batch_id: int, shipment_id: int) -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.cancel(get_session(), current_user, batch_id, shipment_id)
        except Conflict:
            flash(_("The hub has already decided on this shipment."), "error")
            return _declare_page(batch_id, ShipmentForm(formdata=None), 409)
        flash(_("Shipment cancelled."), "success")
    return redirect(url_for("shipments.declare", batch_id=batch_id))


@bp.route("/locodes")
@login_required
def locodes() -> Any:
    """The UN/LOCODE seaports and airports searched by code, place or country (``?q=``),
    within one country (``?country=NL``) when asked."""
    query = request.args.get("q", "").strip()[:200]
    country = request.args.get("country", "").strip().upper()
    if country not in country_codes():
        country = ""
    found = search_locodes(query, country) if query or country else None
    return render_template("shipments/locodes.html", query=query, country=country,
                           found=found, rows=presenters.places(found.items if found else ()))


# ---------------------------------------------------------------- the Bali trade office


@bp.route("/hub/")
@roles_required(Role.OFFICER, Role.ADMIN)
def hub_queue() -> Any:
    """The declared shipments, a page at a time; ``?hub=`` and ``?origin=`` (a province
    code) narrow them and are kept in the pages' links."""
    form = HubFilterForm(formdata=request.args)
    args = form.query_args() if form.validate() else {}
    page = services.hub_page(get_session(), current_user,  # other offices: 403
                             window_from(request.args.get("page")),
                             hub=args.get("hub"), origin=args.get("origin"))
    if not page.items and page.total:  # past the end (the queue got shorter): the last page
        values: dict[str, Any] = {**args, "page": page.last}
        return redirect(url_for("shipments.hub_queue", **values))
    return render_template("shipments/hub_queue.html", form=form, page=page, args=args,
                           rows=presenters.hub_rows(page.items))


def _hub_page(shipment_id: int, passage: PassageForm | None = None,
              refusal: RefuseForm | None = None, status: int = 200) -> Any:
    db = get_session()
    row = services.hub_shipment(db, current_user, shipment_id)  # other offices: 403
    decides = services.may_decide_here(db, current_user, row.shipment)
    return render_template("shipments/hub_shipment.html", row=row,
                           view=presenters.hub_rows([row])[0], decides=decides,
                           passage=passage or PassageForm(formdata=None),
                           refusal=refusal or RefuseForm(formdata=None)), status


@bp.route("/hub/shipments/<int:shipment_id>")
@roles_required(Role.OFFICER, Role.ADMIN)
def hub_shipment(shipment_id: int) -> Any:
    return _hub_page(shipment_id)


@bp.route("/hub/shipments/<int:shipment_id>/confirm", methods=["POST"])
@roles_required(Role.OFFICER)
@second_factor_required
def confirm(shipment_id: int) -> Any:
    db = get_session()
    services.hub_shipment(db, current_user, shipment_id)  # not the Bali office: 403 first
    form = PassageForm()
    if not form.validate_on_submit():
        return _hub_page(shipment_id, passage=form, status=422)
    try:
        services.confirm(db, current_user, shipment_id, passage_date=form.passage_date.data,
                         remarks=form.remarks.data or "")
    except ValidationError as exc:
        apply_field_errors(form, exc)
        return _hub_page(shipment_id, passage=form, status=422)
    except Conflict:
        flash(_("This shipment was already decided on or cancelled."), "error")
        return _hub_page(shipment_id, status=409)
    flash(_("Passage through the hub confirmed."), "success")
    return redirect(url_for("shipments.hub_queue"))


@bp.route("/hub/shipments/<int:shipment_id>/refuse", methods=["POST"])
@roles_required(Role.OFFICER)
@second_factor_required
def refuse(shipment_id: int) -> Any:
    db = get_session()
    services.hub_shipment(db, current_user, shipment_id)
    form = RefuseForm()
    if not form.validate_on_submit():
        return _hub_page(shipment_id, refusal=form, status=422)
    try:
        services.refuse(db, current_user, shipment_id, reason=form.reason.data or "")
    except ValidationError as exc:
        apply_field_errors(form, exc)
        return _hub_page(shipment_id, refusal=form, status=422)
    except Conflict:
        flash(_("This shipment was already decided on or cancelled."), "error")
        return _hub_page(shipment_id, status=409)
    flash(_("Passage refused; the exporter and the origin office see your reason."),
          "success")
    return redirect(url_for("shipments.hub_queue"))
