"""The words a person reads for the certificates' vocabularies (``certificates.rules``)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.certificates.rules import OrganicScheme, OriginForm

ORIGIN_FORM_LABELS: dict[str, LazyString] = {
    OriginForm.FORM_D: _l("Form D (ASEAN, ATIGA)"),
    OriginForm.FORM_E: _l("Form E (ASEAN–China)"),
    OriginForm.FORM_AK: _l("Form AK (ASEAN–Korea)"),
    OriginForm.FORM_AJCEP: _l("Form AJCEP (ASEAN–Japan)"),
    OriginForm.FORM_IJEPA: _l("Form IJEPA (Indonesia–Japan)"),
    OriginForm.FORM_AANZ: _l("Form AANZ (ASEAN–Australia–New Zealand)"),
    OriginForm.FORM_AI: _l("Form AI (ASEAN–India)"),
    OriginForm.GENERAL: _l("General (non-preferential)"),
}
ORGANIC_SCHEME_LABELS: dict[str, LazyString] = {
    OrganicScheme.INDONESIA: _l("Organic Indonesia (SNI 6729)"),
    OrganicScheme.EU: _l("EU organic"),
    OrganicScheme.USDA_NOP: _l("USDA Organic (NOP)"),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {
    OriginForm: ORIGIN_FORM_LABELS, OrganicScheme: ORGANIC_SCHEME_LABELS,
}
# The public verification page names a certificate of origin's form and an organic scheme.
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset({OriginForm, OrganicScheme})


def origin_form_label(code: str | None) -> str:
    return str(ORIGIN_FORM_LABELS.get(code or "", code or ""))


def organic_scheme_label(code: str | None) -> str:
    return str(ORGANIC_SCHEME_LABELS.get(code or "", code or ""))
