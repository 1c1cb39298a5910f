"""An audit event as a person reads it in the web log: its words, who, and what changed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any

from flask_babel.speaklater import LazyString

from registry.accounts import vocabulary as account_words
from registry.api import vocabulary as api_words
from registry.api.tokens import SCOPE_SETS
from registry.audit import vocabulary as words
from registry.audit.models import AuditEvent
from registry.audit.tags import SYSTEM_ACTOR
from registry.catalog import vocabulary as catalog_words
from registry.certificates import vocabulary as certificate_words
from registry.desk import vocabulary as desk_words
from registry.printing import vocabulary as printing_words
from registry.shipments import vocabulary as shipment_words
from registry.targets import vocabulary as target_words
from registry.verify import vocabulary as verify_words

# Whose words a recorded value is read in, first match first: a status, role, kind, unit or
# category recorded in a snapshot is shown as the pages show it, never as its code.
# Issues 17 and 18's words (a shipment's status, a certificate of origin's form, an organic
# scheme, a target's metric) come after the older ones, which keep their first match.
VOCABULARIES: tuple[ModuleType, ...] = (catalog_words, account_words, api_words,
                                        printing_words, verify_words, desk_words,
                                        shipment_words, certificate_words, target_words, words)
# A token's scopes as stored ("read write"), by the access they give.
SCOPES = {scopes: access for access, scopes in SCOPE_SETS.items()}

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


def _code_words(code: str) -> str | None:
    for module in VOCABULARIES:
        labels: Mapping[type[StrEnum], Mapping[str, LazyString]] = module.LABELS
        for group in labels.values():
            found = group.get(code)
            if found is not None:
                return str(found)
    return None


def _value(field: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        if field == "scopes" and value in SCOPES:
            return api_words.access_label(SCOPES[value])
        text = _code_words(value) or value
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
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
    return [Change(key, _value(key, before.get(key)) if key in before else "",
                   _value(key, after.get(key)) if key in after else "") for key in keys]


def event_row(event: AuditEvent) -> EventRow:
    return EventRow(
        seq=event.seq, at=event.created_at, action=words.label(event.action),
        object_type=event.object_type, object_label=words.object_type_label(event.object_type),
        object_id=event.object_id, actor=words.actor_label(event.actor_label),
        actor_email=None if event.actor_label == SYSTEM_ACTOR else event.actor_label,
        changes=changes(event))
