"""The words a user reads for an XLSX export's state (``exportfiles.State``), in one place."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.figures.exportfiles import State

# Keyed by members, typed by ``str``: a member equals its stored value (see catalog.vocabulary).
EXPORT_STATE_LABELS: dict[str, LazyString] = {
    State.QUEUED: _l("waiting for the worker"),
    State.WRITING: _l("being written"),
    State.READY: _l("ready"),
    State.FAILED: _l("failed"),
    State.EXPIRED: _l("expired (deleted; ask for it again)"),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {State: EXPORT_STATE_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def export_state_label(code: str) -> str:
    return str(EXPORT_STATE_LABELS.get(code, code))
