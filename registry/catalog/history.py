"""A batch's history as its exporter and trade office read it: each audit event with what it
changed (which fields, which document), in the reader's language, never a raw tag or key."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from registry.audit import vocabulary as events
from registry.audit.models import AuditEvent
from registry.audit.tags import EventTag
from registry.catalog.vocabulary import document_kind_label

# The batch facts an edit can change, by their key in the audit snapshot (catalog.services.
# batch_snapshot), with the words of the batch form.
FIELD_LABELS = {
    "product_id": _l("Product"),
    "lot_code": _l("Lot code"),
    "quantity": _l("Quantity"),
    "unit": _l("Unit"),
    "production_date": _l("Production or harvest date"),
    "best_before": _l("Best before (optional)"),
    "origin_regency_code": _l("Origin regency"),
    "producer": _l("Producer or cooperative"),
    "hub": _l("Export hub"),
    "destination_country": _l("Destination country"),
    "declared_value_idr": _l("Declared export value (IDR)"),
}


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    what: str
    who: str
    details: list[str]


def _load(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The keys of the edited facts whose value differs, in the form's order."""
    return [key for key in FIELD_LABELS if before.get(key) != after.get(key)]


def details(event: AuditEvent) -> list[str]:
    before, after = _load(event.before), _load(event.after)
    if event.action == EventTag.Batch.UPDATE:
        return [str(FIELD_LABELS[key]) for key in changed_fields(before, after)]
    if event.action in (EventTag.Batch.DOCUMENT_ADD, EventTag.Batch.DOCUMENT_REMOVE):
        facts = after or before
        kind = document_kind_label(facts.get("kind", ""))
        return [f"{kind}: {facts['name']}" if facts.get("name") else kind]
    if event.action == EventTag.Batch.PLOT_ADD:
        return [str(plot.get("place", "")) for plot in after.get("plots", [])]
    if event.action == EventTag.Batch.PLOT_REMOVE:
        return [str(before.get("place", ""))]
    if event.action.startswith("batch.") and after.get("reason"):
        return [str(after["reason"])]
    return []


def batch_history(log: list[AuditEvent]) -> list[HistoryEntry]:
    return [HistoryEntry(e.created_at, events.label(e.action), events.actor_label(e.actor_label),
                         details(e))
            for e in log]
