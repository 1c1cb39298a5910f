from __future__ import annotations

from decimal import Decimal

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation

from registry.catalog.rules import MAX_QUANTITY, Category, DocumentKind, Unit
from registry.catalog.vocabulary import category_label, document_kind_label, unit_label
from registry.reference import HUBS, PROVINCE_SHORT, hs_codes, regencies
from registry.web.forms import Form
from registry.web.messages import limits
from registry.web.templating import country_choices


def finite_number(_form: Form, field: DecimalField) -> None:
    # Decimal() also parses "NaN", "sNaN" and "Infinity"; NumberRange cannot compare a
    # signalling NaN (ValueError, a 500), so stop at any value that is not a finite number.
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Please enter a number."))


def category_choices() -> list[tuple[str, str]]:
    return [(c.value, category_label(c)) for c in Category]


def hs_choices() -> list[tuple[str, str]]:
    return [(c.code, f"{c.code[:4]}.{c.code[4:]} — {c.description}") for c in hs_codes().values()]


def regency_choices() -> list[tuple[str, str]]:
    return [
        (r.code, f"{r.name} ({PROVINCE_SHORT[r.province_code]})")
        for r in sorted(regencies().values(), key=lambda r: (r.province_code, r.name))
    ]


def destination_choices() -> list[tuple[str, str]]:
    return [("", "—"), *[(c, n) for c, n in country_choices(str(get_locale())) if c != "ID"]]


class ProductForm(Form):
    name_id = StringField(_l("Name (Indonesian)"), validators=[InputRequired(), Length(max=300)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(), Length(max=300)])
    category = SelectField(_l("Category"), choices=category_choices)
    hs_code = SelectField(_l("HS code"), choices=hs_choices)
    gtin = StringField(_l("GTIN (optional)"), validators=[Optional(), Length(max=14)],
                       description=_l("8, 12, 13 or 14 digits with a valid check digit."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])


class PhotoForm(Form):
    photo = FileField(_l("Photo (JPEG or PNG)"), validators=[FileRequired()])


class BatchForm(Form):
    product_id = SelectField(_l("Product"), coerce=int, choices=[])
    lot_code = StringField(_l("Lot code"), validators=[InputRequired(), Length(max=20)],
                           description=_l("Up to 20 letters, digits, '-', '.' or '_'."))
    # Decimal bounds: the float 0.001 is a hair above Decimal("0.001"), which refused the
    # smallest quantity the message itself names.
    quantity = DecimalField(_l("Quantity"), places=3, validators=[
        InputRequired(), finite_number, NumberRange(min=Decimal("0.001"), max=MAX_QUANTITY)])
    unit = SelectField(_l("Unit"), choices=lambda: [(u.value, unit_label(u)) for u in Unit])
    production_date = DateField(_l("Production or harvest date"), validators=[InputRequired()])
    best_before = DateField(_l("Best before (optional)"), validators=[Optional()])
    origin_regency_code = SelectField(_l("Origin regency"), choices=regency_choices)
    producer = StringField(_l("Producer or cooperative"), validators=[InputRequired(),
                                                                      Length(max=200)])
    hub = SelectField(_l("Export hub"), choices=lambda: list(HUBS.items()))
    destination_country = SelectField(_l("Destination country"), choices=destination_choices,
                                      validators=[InputRequired()])
    declared_value_idr = IntegerField(_l("Declared export value (IDR)"), validators=[
        InputRequired(), NumberRange(min=0, max=10**15)])


def _file_label() -> str:
    return _("File (PDF, JPEG or PNG, at most %(max_size)s)", **limits())


class DocumentForm(Form):
    kind = SelectField(_l("Document type"), choices=lambda: [
        (k.value, document_kind_label(k)) for k in DocumentKind])
    file = FileField(LazyString(_file_label), validators=[FileRequired()])
    is_public = BooleanField(_l("Show on the public verification page"))
