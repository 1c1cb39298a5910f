from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from registry.printing.rules import MAX_LABELS_PER_JOB
from registry.web.forms import Form


class OrderForm(Form):
    printer_org_id = SelectField(_l("Print shop"), coerce=int, choices=[])
    stock = SelectField(_l("Label stock"), choices=[])
    quantity = IntegerField(_l("Number of labels"), validators=[
        InputRequired(), NumberRange(min=1, max=MAX_LABELS_PER_JOB)])
    net_quantity = StringField(_l("Net quantity on each package"), validators=[
        InputRequired(), Length(max=16)], description=_l("For example 250 g, 1 kg, 500 ml, 1 pcs."))


class ReprintForm(Form):
    sheet_first = IntegerField(_l("From sheet"), validators=[InputRequired(),
                                                            NumberRange(min=1, max=10**6)])
    sheet_last = IntegerField(_l("To sheet"), validators=[InputRequired(),
                                                         NumberRange(min=1, max=10**6)])
    # Recorded on the reprint and its audit event: the same serials printed twice need a
    # reason an officer can read later (a jam, a smudge, a wrong roll).
    reason = StringField(_l("Reason"), filters=[lambda v: v.strip() if v else v],
                         validators=[InputRequired(), Length(max=500)])
