from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from registry.catalog.forms import category_choices, destination_choices
from registry.catalog.rules import DocumentKind
from registry.catalog.vocabulary import document_kind_label
from registry.certificates.rules import CERTIFICATE_KINDS
from registry.web.forms import Form


def _kind_choices() -> list[tuple[str, str]]:
    return [(k.value, document_kind_label(k)) for k in DocumentKind if k in CERTIFICATE_KINDS]


def _destination_choices() -> list[tuple[str, str]]:
    # "—" (no country) is a rule for every destination.
    return [("", str(_l("Any destination"))), *destination_choices()[1:]]


class RuleForm(Form):
    category = SelectField(_l("Category"), choices=category_choices)
    destination = SelectField(_l("Destination country"), choices=_destination_choices)
    kind = SelectField(_l("Required certificate"), choices=_kind_choices)
