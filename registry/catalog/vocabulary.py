"""The words a person reads for each code of the catalog's vocabularies, in one place.

The codes are enums in Flask-free modules (``certification``: statuses and actions;
``catalog.rules``: categories, units, document kinds), so the rules stay pure; their labels
are here. ``tests/test_vocabulary.py`` fails when a member lacks a label or its translation,
and the crawl in ``tests/test_raw_codes.py`` when a page shows a code instead of its label.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.catalog.certification import Action, Display
from registry.catalog.rules import Category, DocumentKind, Unit

# Keyed by members, typed by ``str``: a StrEnum member is equal to (and hashes as) its value,
# so the tables answer the codes the database hands back as well. A code from before a
# vocabulary changed is shown as stored, never hidden.

# What an exporter, an officer and a buyer read for a batch's status: the stored one or the
# derived "expired" (``certification.display_status``), never the stored "approved" of a
# batch past its validity.
STATUS_LABELS: dict[str, LazyString] = {
    Display.DRAFT: _l("Draft"),
    Display.SUBMITTED: _l("Submitted"),
    Display.APPROVED: _l("Certified"),
    Display.EXPIRED: _l("Expired"),
    Display.REJECTED: _l("Rejected"),
    Display.SUSPENDED: _l("Suspended"),
    Display.REVOKED: _l("Revoked"),
}
# The buttons of the lifecycle (an officer's decision, an exporter's submission).
ACTION_LABELS: dict[str, LazyString] = {
    Action.SUBMIT: _l("Submit for certification"),
    Action.APPROVE: _l("Approve"),
    Action.REJECT: _l("Reject"),
    Action.SUSPEND: _l("Suspend"),
    Action.REINSTATE: _l("Reinstate"),
    Action.REVOKE: _l("Revoke"),
}
CATEGORY_LABELS: dict[str, LazyString] = {
    Category.AGRICULTURE: _l("Farm produce"),
    Category.FISHERY: _l("Fishery"),
    Category.LIVESTOCK: _l("Livestock"),
    Category.CRAFT: _l("Craft"),
    Category.PROCESSED_FOOD: _l("Processed food"),
}
UNIT_LABELS: dict[str, LazyString] = {
    Unit.KG: _l("kg"),
    Unit.T: _l("tonnes"),
    Unit.L: _l("litres"),
    Unit.PCS: _l("pieces"),
    Unit.HEAD: _l("head (animals)"),
}
DOCUMENT_LABELS: dict[str, LazyString] = {
    DocumentKind.PHYTOSANITARY: _l("Phytosanitary certificate"),
    DocumentKind.HALAL: _l("Halal certificate"),
    DocumentKind.ORGANIC: _l("Organic certificate"),
    DocumentKind.CERTIFICATE_OF_ORIGIN: _l("Certificate of origin"),
    DocumentKind.LAB_RESULTS: _l("Laboratory results"),
    DocumentKind.OTHER: _l("Other document"),
    DocumentKind.BPOM: _l("BPOM registration"),
    DocumentKind.SNI: _l("SNI certificate"),
    DocumentKind.FISHERY_HEALTH: _l("Fishery health certificate"),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {
    Display: STATUS_LABELS, Action: ACTION_LABELS, Category: CATEGORY_LABELS,
    Unit: UNIT_LABELS, DocumentKind: DOCUMENT_LABELS,
}
# What the public verification page shows of these, so in Chinese and Japanese too.
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset({Display, Category, Unit, DocumentKind})


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def category_label(code: str) -> str:
    return str(CATEGORY_LABELS.get(code, code))


def unit_label(code: str) -> str:
    return str(UNIT_LABELS.get(code, code))


def document_kind_label(code: str) -> str:
    return str(DOCUMENT_LABELS.get(code, code))
