from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from registry.forms import Form


class DecisionForm(Form):
    action = HiddenField(validators=[InputRequired()])
    version = IntegerField(validators=[InputRequired()])
    valid_until = DateField(_l("Certified until"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
