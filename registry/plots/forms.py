from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from registry.catalog.forms import finite_number
from registry.plots.rules import MAX_AREA_HA
from registry.web.forms import Form


class PlotForm(Form):
    """Plots pasted as "latitude, longitude" lines or uploaded as a GeoJSON or KML file, with
    what the EU due-diligence statement needs besides the geometry."""

    coordinates = TextAreaField(
        _l("Coordinates (optional if you upload a file)"),
        validators=[Optional(), Length(max=200_000)],
        description=_l('One "latitude, longitude" per line with at least six decimals, e.g. '
                       '-8.512345, 117.412345. One line is a point (plots up to 4 ha); three '
                       'or more lines are the corners of a polygon. A blank line starts the '
                       'next plot.'))
    file = FileField(_l("Or a GeoJSON or KML file (optional)"),
                     description=_l("Points and polygons; a GeoJSON feature's \"Area\" "
                                    "(hectares) and \"ProductionPlace\" are read too."))
    declared_ha = DecimalField(
        _l("Area in hectares (for a single plot)"), places=4,
        validators=[Optional(), finite_number,
                    NumberRange(min=Decimal("0.0001"), max=MAX_AREA_HA)],
        description=_l("A polygon's own area must agree within 10 percent or 0.1 ha, whichever "
                       "is larger. Plots over 4 ha need a polygon."))
    production_place = StringField(_l("Production place (village, farm)"),
                                   validators=[InputRequired(), Length(max=200)])
    producer_name = StringField(_l("Producer (farmer or cooperative)"),
                                validators=[InputRequired(), Length(max=200)])
    production_start = DateField(_l("Production period: from"), validators=[InputRequired()])
    production_end = DateField(_l("Production period: to"), validators=[InputRequired()])
