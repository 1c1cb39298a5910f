"""The words a print shop reads for a label file's state (``jobfiles.State``), in one place."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.printing.jobfiles import State

# Keyed by members, typed by ``str``: a member equals its stored value (see catalog.vocabulary).
FILE_STATE_LABELS: dict[str, LazyString] = {
    State.QUEUED: _l("waiting for the worker"),
    State.RENDERING: _l("rendering"),
    State.READY: _l("ready"),
    State.FAILED: _l("failed"),
    State.EXPIRED: _l("expired (rendered again on request)"),
}
# A file nobody asked for yet has no row, so no state.
NOT_RENDERED = _l("not rendered yet")

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {State: FILE_STATE_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def file_state_label(code: str | None) -> str:
    return str(NOT_RENDERED if code is None else FILE_STATE_LABELS.get(code, code))
