"""The targets' forms: the year and province to show (GET, bookmarkable, no CSRF) and one
target to set (POST, with CSRF)."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from registry.catalog.rules import Category
from registry.catalog.vocabulary import category_label, unit_label
from registry.reference import PROVINCES
from registry.targets.rules import FIRST_YEAR, REGION, VOLUME_UNITS, Metric
from registry.targets.vocabulary import metric_label
from registry.web.forms import Form


class ShowForm(Form):
    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(FIRST_YEAR, 2100)])
    province = SelectField(_l("Province or region"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.province.choices = [*PROVINCES.items(),
                                 (REGION, _l("The region (all three provinces)"))]


class TargetForm(Form):
    metric = SelectField(_l("What is measured"), validators=[InputRequired()])
    category = SelectField(_l("Commodity"), validators=[Optional()])
    hs_chapter = StringField(_l("HS chapter (two digits)"), validators=[Optional(),
                                                                       Length(max=2)],
                             description=_l("Instead of a commodity, e.g. 09 (coffee, tea, "
                                            "spices)."))
    unit = SelectField(_l("Unit (volume only)"), validators=[Optional()])
    destination = SelectField(_l("Destination (optional)"), validators=[Optional()])
    amount = StringField(_l("Target for the year"), validators=[InputRequired(),
                                                                Length(max=40)],
                         description=_l("Rupiah for a value, the unit for a volume, a count "
                                        "for batches and exporters."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from registry.web.templating import country_choices

        super().__init__(*args, **kwargs)
        self.metric.choices = [(m.value, metric_label(m)) for m in Metric]
        self.category.choices = [("", _l("All commodities")),
                                 *((c.value, category_label(c)) for c in Category)]
        self.unit.choices = [("", _l("No unit")), *((u, unit_label(u)) for u in VOLUME_UNITS)]
        self.destination.choices = [("", _l("All countries")),
                                    *country_choices(str(get_locale()))]
