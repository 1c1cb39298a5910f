"""GET forms for the figures: they change no state, so they carry no CSRF token and their
URLs can be bookmarked and shared at a monitoring meeting."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields import MonthField
from wtforms.validators import InputRequired, Optional

from registry.catalog.rules import Category
from registry.catalog.vocabulary import category_label
from registry.reference import PROVINCES
from registry.web.forms import Form

ALL = "all"


class _GetForm(Form):
    class Meta:
        csrf = False


class FilterForm(_GetForm):
    from_month = MonthField(_l("From month"), validators=[Optional()])
    to_month = MonthField(_l("To month"), validators=[Optional()])
    province = SelectField(_l("Origin province"), validators=[Optional()])
    category = SelectField(_l("Commodity"), validators=[Optional()])
    destination = SelectField(_l("Destination"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from registry.web.templating import country_choices

        super().__init__(*args, **kwargs)
        self.province.choices = [(ALL, _l("All three provinces")), *PROVINCES.items()]
        self.category.choices = [("", _l("All commodities")),
                                 *((c.value, category_label(c)) for c in Category)]
        self.destination.choices = [("", _l("All countries")),
                                    *country_choices(str(get_locale()))]


class ReportForm(_GetForm):
    # Ids of their own: the filter form on the same page has a "province" too, and a label
    # pointing at the other form's select is no label at all. The names stay: they are the
    # report's query string.
    month = MonthField(_l("Month"), validators=[InputRequired()], id="report-month")
    province = SelectField(_l("Province"),
                           choices=[*PROVINCES.items(), (ALL, _l("All three provinces"))],
                           validators=[InputRequired()], id="report-province")
    lang = SelectField(_l("Language"), choices=[("id", "Bahasa Indonesia"), ("en", "English")],
                       validators=[InputRequired()], id="report-lang")
