"""An audit event as a person reads it in the web log: its words, who, and what changed."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from registry.audit import vocabulary as words
from registry.audit.models import AuditEvent
from registry.audit.tags import SYSTEM_ACTOR

# A value longer than this is cut in the table (the database keeps it whole).
SHOWN_VALUE = 200


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class EventRow:
    seq: int
    at: dt.datetime
    action: str
    object_type: str
    object_label: str
    object_id: str | None
    actor: str
    actor_email: str | None  # to filter by; None when the registry acted by itself
    changes: list[Change]


def _value(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True)
    return text if len(text) <= SHOWN_VALUE else text[:SHOWN_VALUE] + "…"


def _loaded(stored: str | None) -> dict[str, Any]:
    if not stored:
        return {}
    try:
        value = json.loads(stored)
    except ValueError:
        return {"": stored}
    return value if isinstance(value, dict) else {"": value}


def changes(event: AuditEvent) -> list[Change]:
    """The fields the event recorded: each with its value before and after, those that
    changed or were only recorded after first (the interesting ones)."""
    before, after = _loaded(event.before), _loaded(event.after)
    keys = sorted(set(before) | set(after), key=lambda k: (before.get(k) == after.get(k), k))
    return [Change(key, _value(before.get(key)) if key in before else "",
                   _value(after.get(key)) if key in after else "") for key in keys]


def event_row(event: AuditEvent) -> EventRow:
    return EventRow(
        seq=event.seq, at=event.created_at, action=words.label(event.action),
        object_type=event.object_type, object_label=words.object_type_label(event.object_type),
        object_id=event.object_id, actor=words.actor_label(event.actor_label),
        actor_email=None if event.actor_label == SYSTEM_ACTOR else event.actor_label,
        changes=changes(event))
