from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from registry.web.forms import Form


class DecisionForm(Form):
    action = HiddenField(validators=[InputRequired()])
    version = IntegerField(validators=[InputRequired()])
    valid_until = DateField(_l("Certified until"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class AllowanceForm(Form):
    """More net content a certified batch's labels may claim, in the batch's unit."""

    amount = DecimalField(_l("Additional quantity"), places=None, validators=[
        InputRequired(), NumberRange(min=0.001, max=99999999999.999)])
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=500)])
