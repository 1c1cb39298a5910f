from __future__ import annotations

from wtforms import SelectMultipleField, widgets

from registry.web.forms import Form


class NotificationsForm(Form):
    """The kinds of mail the user wants, as checkboxes; the view offers the user's role's
    kinds (``services.kinds_for``) and an unticked box switches that kind off."""

    wanted = SelectMultipleField(choices=[], validate_choice=True,
                                 widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput())
