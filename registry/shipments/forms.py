"""The shipment forms: the exporter's declaration, the Bali office's confirmation and
refusal of a hub passage."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from registry.reference import HUBS, PROVINCES
from registry.shipments.rules import MAX_REASON
from registry.web.forms import Form


class ShipmentForm(Form):
    hub = SelectField(_l("Export hub"), choices=lambda: list(HUBS.items()),
                      validators=[InputRequired()])
    planned_date = DateField(_l("Planned shipment date"), validators=[InputRequired()])
    peb_number = StringField(_l("PEB registration number"),
                             validators=[InputRequired(), Length(max=20)],
                             description=_l("The customs export declaration (PEB): six "
                                            "digits."))
    peb_date = DateField(_l("PEB date"), validators=[InputRequired()])
    transport_document = StringField(
        _l("Bill of lading or air waybill number"), validators=[InputRequired(),
                                                                Length(max=40)],
        description=_l("By sea the bill of lading; through the airport the air waybill, "
                       "e.g. 126-12345675."))
    containers = TextAreaField(
        _l("Container numbers (by sea)"), validators=[Optional(), Length(max=1000)],
        description=_l("ISO 6346, e.g. CSQU3054383; one per line or separated by spaces."))
    # Typed, not chosen: the list has about 25,000 places. The service says why a code does
    # not fit (not in the list, another country, not a port or not an airport).
    destination_locode = StringField(
        _l("Destination port (UN/LOCODE)"), validators=[InputRequired(), Length(max=20)],
        description=_l("Five characters, e.g. NLRTM for Rotterdam; capitals and spaces do not "
                       "matter (nl rtm)."))
    quantity = DecimalField(_l("Quantity shipped"), places=None, validators=[
        InputRequired(), NumberRange(min=0.001, max=99999999999.999)])


class PassageForm(Form):
    passage_date = DateField(_l("Passed the hub on"), validators=[InputRequired()])
    remarks = TextAreaField(_l("Remarks"), validators=[Optional(), Length(max=MAX_REASON)])


class RefuseForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=MAX_REASON)])


class HubFilterForm(Form):
    """The hub queue's filters, read from the query string (no CSRF: a GET)."""

    class Meta:
        csrf = False

    hub = SelectField(_l("Export hub"), validators=[Optional()],
                      choices=lambda: [("", _l("Every hub")), *HUBS.items()])
    origin = SelectField(_l("Origin province"), validators=[Optional()],
                         choices=lambda: [("", _l("Every province")), *PROVINCES.items()])

    def query_args(self) -> dict[str, str]:
        """The filters chosen, as the pages' links keep them."""
        return {name: value for name, value in (("hub", self.hub.data),
                                                ("origin", self.origin.data)) if value}
