"""The words of targets: metrics, verdicts, and why a target was refused."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.targets.rules import Metric, Verdict

METRIC_LABELS: dict[str, LazyString] = {
    Metric.VALUE: _l("Declared export value (IDR)"),
    Metric.VOLUME: _l("Export volume"),
    Metric.BATCHES: _l("Certified batches"),
    Metric.ACTIVE_EXPORTERS: _l("Active exporters"),
}
VERDICT_LABELS: dict[str, LazyString] = {
    Verdict.AHEAD: _l("Ahead"),
    Verdict.ON_TRACK: _l("On track"),
    Verdict.BEHIND: _l("Behind"),
}
LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {
    Metric: METRIC_LABELS, Verdict: VERDICT_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def metric_label(code: str) -> str:
    return str(METRIC_LABELS.get(code, code))


def verdict_label(code: str) -> str:
    return str(VERDICT_LABELS.get(code, code))
