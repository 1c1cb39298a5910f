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
from registry.certificates.rules import CertificateInput, OrganicScheme, OriginForm
from registry.certificates.vocabulary import organic_scheme_label, origin_form_label
from registry.reference import HUBS, PROVINCE_SHORT, regencies
from registry.reference.hs_search import code_of
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


def _hs_code(_form: Form, field: StringField) -> None:
    # Any HS 2022 subheading, however it is written ("0305.59", "030559"): stored as six
    # digits. Words are not a code: the page then lists the codes they match.
    code = code_of(field.data or "")
    if code is None:
        raise StopValidation(_l("This is not an HS 2022 code. Enter its six digits, e.g. "
                                "0305.59, or search the list by words."))
    field.data = code


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
    # A text box, not a list: 5,600 subheadings are too many to send as options. The typical
    # codes come as suggestions (a datalist), the rest through the search page.
    hs_code = StringField(_l("HS code"), validators=[InputRequired(), _hs_code],
                          render_kw={"list": "hs-typical", "inputmode": "search",
                                     "autocomplete": "off"},
                          description=_l("Six digits, e.g. 0305.59. Type words instead (e.g. "
                                         "ikan kering, dried fish) and save: the codes they "
                                         "match are listed."))
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
    # A certificate's facts (issue 18 §2): optional here, checked per kind by the service
    # (``certificates.rules``), which says under each field what the kind needs.
    number = StringField(_l("Certificate number"), validators=[Optional(), Length(max=80)],
                         description=_l("For certificates: as printed, e.g. ID35110000123450722 "
                                        "(BPJPH halal) or MD 224510001234 (BPOM)."))
    issuer = StringField(_l("Issued by"), validators=[Optional(), Length(max=200)],
                         description=_l("Leave empty for BPJPH, BPOM and quarantine "
                                        "certificates: the issuer is known."))
    issued_on = DateField(_l("Issue date"), validators=[Optional()])
    expires_on = DateField(_l("Expiry date"), validators=[Optional()])
    # Not sent (an API-like post, an older page) is none: the service checks the value.
    form_type = SelectField(_l("Certificate of origin form"), validate_choice=False,
                            choices=lambda: [("", "—"), *[(f.value, origin_form_label(f))
                                                          for f in OriginForm]])
    scheme = SelectField(_l("Organic scheme"), validate_choice=False, choices=lambda: [
        ("", "—"), *[(s.value, organic_scheme_label(s)) for s in OrganicScheme]])

    def certificate(self) -> CertificateInput:
        return CertificateInput(
            number=self.number.data or "", issuer=self.issuer.data or "",
            issued_on=self.issued_on.data, expires_on=self.expires_on.data,
            form_type=self.form_type.data or "", scheme=self.scheme.data or "")
