"""A batch's production plots: recorded by its exporter while the batch is editable, read by
the exporter, the origin office and the administrators, exported as the EU information
system's GeoJSON. Services flush, never commit; the request commits once."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from registry.accounts.models import User
from registry.audit import services as audit
from registry.audit.tags import EventTag
from registry.catalog import services as catalog
from registry.catalog.models import Batch, Product
from registry.clock import today
from registry.exceptions import NotFound, ValidationError
from registry.plaintext import text_problem
from registry.plots import rules
from registry.plots.models import Plot
from registry.reference import EudrHeading, eudr_heading, regencies
from registry.shipments.models import Shipment


@dataclass(frozen=True)
class PlotInput:
    """What the exporter sends besides the geometry: the same for every plot sent at once."""

    declared_ha: Decimal | None
    production_place: str
    producer_name: str
    production_start: dt.date | None
    production_end: dt.date | None


def batch_hs_code(session: Session, batch: Batch) -> str:
    """The HS code the batch is certified under: frozen at submission, the product's before."""
    if batch.product_hs_code:
        return batch.product_hs_code
    return session.get_one(Product, batch.product_id).hs_code


def eudr_scope(session: Session, batch: Batch) -> EudrHeading | None:
    return eudr_heading(batch_hs_code(session, batch))


def list_plots(session: Session, batch: Batch) -> list[Plot]:
    return list(session.exec(select(Plot).where(Plot.batch_id == batch.id)
                             .order_by(col(Plot.id))).all())


def plot_count(session: Session, batch_id: int) -> int:
    return session.exec(select(func.count()).select_from(Plot)
                        .where(Plot.batch_id == batch_id)).one()


def _snapshot(plot: Plot) -> dict[str, Any]:
    # The audit trail keeps where each plot was: a removed plot stays answerable.
    return {"plot_id": plot.id, "kind": plot.kind, "geometry": plot.geometry,
            "declared_ha": str(plot.declared_ha), "place": plot.production_place,
            "start": plot.production_start, "end": plot.production_end}


def _text_fields(data: PlotInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    for name in ("production_place", "producer_name"):
        value = getattr(data, name).strip()
        if not value:
            problems[name] = "required"
        elif len(value) > 200:
            problems[name] = "too_long"
        elif text_problem(value):
            problems[name] = text_problem(value) or "required"
    if data.declared_ha is not None and not (0 < data.declared_ha <= rules.MAX_AREA_HA):
        problems["declared_ha"] = "out_of_range"
    return problems


def add_plots(session: Session, actor: User, batch_id: int, parsed: list[rules.ParsedPlot],
              data: PlotInput) -> list[Plot]:
    """Record the plots read from one paste or file, all or none. Raises ``ValidationError``
    for the form's own fields and ``rules.PlotsRefused`` for the plots."""
    batch = catalog.editable_batch(session, actor, batch_id)
    problems = _text_fields(data)
    if problems:
        raise ValidationError("invalid plot", fields=problems)
    period = rules.check_period(data.production_start, data.production_end, today())
    checked = []
    try:
        checked = rules.check_all(parsed, declared_ha=data.declared_ha,
                                  regency_code=batch.origin_regency_code)
    except rules.PlotsRefused as exc:
        raise rules.PlotsRefused(period + exc.issues) from None
    if period:
        raise rules.PlotsRefused(period)
    # A name from the file is shown on pages as the form's is: the same characters refused.
    for one in checked:
        if one.name and text_problem(one.name):
            raise ValidationError("invalid plot name",
                                  fields={"production_place": text_problem(one.name) or ""})
    assert data.production_start is not None and data.production_end is not None
    catalog.lock_for_evidence(session, batch)
    plots = []
    for one in checked:
        plot = Plot(batch_id=batch.id, kind=one.kind, geometry=rules.geometry_json(one.geometry),
                    declared_ha=one.declared_ha, measured_ha=one.measured_ha,
                    production_place=(one.name or data.production_place).strip()[:200],
                    producer_name=data.producer_name.strip(),
                    production_start=data.production_start, production_end=data.production_end,
                    added_by=actor.id)
        session.add(plot)
        plots.append(plot)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Batch.PLOT_ADD, object_type="batch",
                 object_id=batch.id, after={"plots": [_snapshot(p) for p in plots]})
    return plots


def remove_plot(session: Session, actor: User, batch_id: int, plot_id: int) -> Plot:
    batch = catalog.editable_batch(session, actor, batch_id)
    plot = session.get(Plot, plot_id)
    if plot is None or plot.batch_id != batch.id:
        raise NotFound("no such plot")
    catalog.lock_for_evidence(session, batch)
    before = _snapshot(plot)
    session.delete(plot)
    session.flush()
    audit.record(session, actor=actor, action=EventTag.Batch.PLOT_REMOVE, object_type="batch",
                 object_id=batch.id, before=before)
    return plot


def plots_for(session: Session, actor: User, batch_id: int) -> tuple[Batch, list[Plot]]:
    """The batch and its plots if ``actor`` may see the batch (NotFound otherwise)."""
    batch = catalog.get_batch(session, actor, batch_id)
    return batch, list_plots(session, batch)


def shipment_plots_for(session: Session, actor: User, batch_id: int, shipment_id: int
                       ) -> tuple[Batch, Shipment, list[Plot]]:
    """A shipment of the batch and the batch's plots, if ``actor`` may see the batch
    (NotFound otherwise, and for a shipment of another batch): a shipment carries one batch,
    so its due-diligence geolocation is the batch's plots."""
    batch, plots = plots_for(session, actor, batch_id)
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or shipment.batch_id != batch.id:
        raise NotFound("no such shipment of this batch")
    return batch, shipment, plots


# ---------------------------------------------------------------- the EU information system

PRODUCER_COUNTRY = "ID"


def feature_collection(session: Session, batch: Batch, plots: list[Plot],
                       shipment: Shipment | None = None) -> dict[str, Any]:
    """The plots as the EU information system takes them for a due-diligence statement's
    geolocation ("GeoJSON file description" of the EUDR information system): one Feature a
    plot, RFC 7946 geometry, the properties ProducerName, ProducerCountry, ProductionPlace and
    Area (hectares; for points, which the EU reads as plots of up to 4 ha)."""
    regency = regencies().get(batch.origin_regency_code)
    features = []
    for plot in plots:
        properties: dict[str, Any] = {
            "ProducerName": plot.producer_name,
            "ProducerCountry": PRODUCER_COUNTRY,
            "ProductionPlace": plot.production_place,
            "Area": float(plot.declared_ha),
            # Beyond the EU's four: the registry's own, which the EU system ignores.
            "ProductionStart": plot.production_start.isoformat(),
            "ProductionEnd": plot.production_end.isoformat(),
            "Regency": regency.name if regency else batch.origin_regency_code,
        }
        if shipment is not None:
            # The shipment the statement is for: its customs export declaration (PEB).
            properties["Shipment"] = f"PEB {shipment.peb_number} {shipment.peb_date:%Y-%m-%d}"
        features.append({"type": "Feature", "properties": properties,
                         "geometry": json.loads(plot.geometry)})
    return {"type": "FeatureCollection", "features": features}


def dumps(collection: dict[str, Any]) -> str:
    """JSON text with every coordinate written with seven decimals: a float's shortest form
    drops trailing zeros (115.123450 → 115.12345), and the EU counts the decimals written."""
    return _dump(collection, in_coordinates=False)


def _dump(value: Any, *, in_coordinates: bool) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(
            json.dumps(k) + ":" + _dump(v, in_coordinates=in_coordinates or k == "coordinates")
            for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v, in_coordinates=in_coordinates) for v in value) + "]"
    if in_coordinates and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):.7f}"
    return json.dumps(value, ensure_ascii=False)
