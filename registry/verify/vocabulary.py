"""The words a person reads for a verdict (``rules.Verdict``): the headline a buyer reads on the
verification page, and what the desk says a buyer was told, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.verify.rules import Verdict

# Keyed by members, typed by ``str``: a member equals its stored value (see catalog.vocabulary).
VERDICT_LABELS: dict[str, LazyString] = {
    Verdict.GENUINE: _l("Genuine and certified"),
    Verdict.SUSPENDED: _l("Certification suspended"),
    Verdict.REVOKED: _l("Certification revoked"),
    Verdict.EXPIRED: _l("Certification expired"),
    Verdict.NOT_GENUINE: _l("Not a genuine label"),
    Verdict.POSSIBLE_COPY: _l("Possible copy"),
    Verdict.SPECIMEN: _l("Specimen — not a label"),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {Verdict: VERDICT_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset({Verdict})


def verdict_label(code: str) -> str:
    return str(VERDICT_LABELS.get(code, code))

