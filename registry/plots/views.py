"""The production plots page of a batch (its exporter adds and removes plots while the batch
is editable; the origin office and the administrators read it) and its GeoJSON export."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.auth import roles_required
from registry.accounts.forms import ActionForm
from registry.accounts.models import Role
from registry.catalog.certification import Status, is_editable
from registry.catalog.messages import evidence_frozen
from registry.catalog.services import EvidenceFrozen
from registry.exceptions import Conflict, ValidationError
from registry.plots import presenters, rules, services
from registry.plots.forms import PlotForm
from registry.reference import regencies
from registry.web.database import get_session
from registry.web.forms import apply_field_errors

bp = Blueprint("plots", __name__)


def _page(batch_id: int, form: PlotForm | None = None, issues: list[str] | None = None,
          status: int = 200) -> Any:
    db = get_session()
    batch, plots = services.plots_for(db, current_user, batch_id)
    editable = current_user.role == Role.EXPORTER and is_editable(Status(batch.status))
    if form is None and editable:
        form = PlotForm(formdata=None, producer_name=batch.producer)
    regency = regencies().get(batch.origin_regency_code)
    return render_template(
        "plots/batch_plots.html", batch=batch, rows=presenters.rows(plots), form=form,
        issues=issues or [], editable=editable, action_form=ActionForm(),
        scope=services.eudr_scope(db, batch), regency=regency,
        plot_map=presenters.plot_map(batch.origin_regency_code, plots) if plots else "",
        back=(url_for("catalog.batch_detail", batch_id=batch.id)
              if current_user.role == Role.EXPORTER
              else url_for("review.batch", batch_id=batch.id)
              if current_user.role == Role.OFFICER else None)), status


@bp.route("/batches/<int:batch_id>/plots")
@roles_required(Role.EXPORTER, Role.OFFICER, Role.ADMIN)
def batch_plots(batch_id: int) -> Any:
    return _page(batch_id)


@bp.route("/batches/<int:batch_id>/plots", methods=["POST"])
@roles_required(Role.EXPORTER)
def plot_add(batch_id: int) -> Any:
    db = get_session()
    services.plots_for(db, current_user, batch_id)  # another company's batch: 404 first
    form = PlotForm()
    if not form.validate_on_submit():
        return _page(batch_id, form, status=422)
    upload = form.file.data
    text = (form.coordinates.data or "").strip()
    try:
        if upload and upload.filename:
            limit = current_app.config["MAX_UPLOAD_BYTES"]
            data = upload.read(limit + 1)
            if len(data) > limit:
                raise ValidationError("file too large", fields={"file": "too_large"})
            parsed = rules.parse_file(upload.filename, data)
        else:
            parsed = rules.parse_text(text)
        services.add_plots(db, current_user, batch_id, parsed, services.PlotInput(
            declared_ha=form.declared_ha.data,
            production_place=form.production_place.data or "",
            producer_name=form.producer_name.data or "",
            production_start=form.production_start.data,
            production_end=form.production_end.data))
    except rules.PlotsRefused as exc:
        db.rollback()
        return _page(batch_id, form, [presenters.issue_message(i) for i in exc.issues], 422)
    except EvidenceFrozen:
        raise Conflict(evidence_frozen(), public=True) from None
    except ValidationError as exc:
        db.rollback()
        apply_field_errors(form, exc)
        return _page(batch_id, form, status=422)
    flash(_("Production plots recorded."), "success")
    return redirect(url_for("plots.batch_plots", batch_id=batch_id))


@bp.route("/batches/<int:batch_id>/plots/<int:plot_id>/delete", methods=["POST"])
@roles_required(Role.EXPORTER)
def plot_remove(batch_id: int, plot_id: int) -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.remove_plot(get_session(), current_user, batch_id, plot_id)
        except EvidenceFrozen:
            raise Conflict(evidence_frozen(), public=True) from None
        flash(_("Production plot removed."), "success")
    return redirect(url_for("plots.batch_plots", batch_id=batch_id))


@bp.route("/batches/<int:batch_id>/plots.geojson")
@roles_required(Role.EXPORTER, Role.OFFICER, Role.ADMIN)
def plots_geojson(batch_id: int) -> Any:
    """The plots as the EU information system takes them (a due-diligence statement's
    geolocation), as a file to upload there."""
    db = get_session()
    batch, plots = services.plots_for(db, current_user, batch_id)
    body = services.dumps(services.feature_collection(db, batch, plots))
    return Response(body, mimetype="application/geo+json", headers={
        "Content-Disposition": f'attachment; filename="plots-{batch.id}.geojson"'})


@bp.route("/batches/<int:batch_id>/shipments/<int:shipment_id>/plots.geojson")
@roles_required(Role.EXPORTER, Role.OFFICER, Role.ADMIN)
def shipment_plots_geojson(batch_id: int, shipment_id: int) -> Any:
    """The same geolocation for one shipment of the batch (its PEB on every plot): the file
    an EU importer files with the due-diligence statement of that consignment."""
    db = get_session()
    batch, shipment, plots = services.shipment_plots_for(db, current_user, batch_id,
                                                         shipment_id)
    body = services.dumps(services.feature_collection(db, batch, plots, shipment))
    return Response(body, mimetype="application/geo+json", headers={
        "Content-Disposition":
            f'attachment; filename="plots-{batch.id}-shipment-{shipment.id}.geojson"'})
