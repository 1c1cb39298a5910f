"""The audit log's filter: a GET form (it changes nothing), so its URLs can be bookmarked and
sent to a colleague; no CSRF token."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from registry.audit.listing import LogFilter
from registry.audit.tags import GROUPS
from registry.audit.vocabulary import EVENT_LABELS, GROUP_LABELS, OBJECT_TYPE_LABELS
from registry.clock import start_of_day
from registry.web.forms import Form

# The trail starts with the registry; a year past these is a typo, and date.max + 1 day
# would overflow.
FIRST_DAY = dt.date(2020, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def _sane_day(_form: Form, field: DateField) -> None:
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(_l("Choose a day between 2020 and 2999."))


class LogFilterForm(Form):
    class Meta:
        csrf = False

    object_type = SelectField(_l("Object"), validators=[Optional()])
    object_id = StringField(_l("Object number"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("Who (e-mail)"), validators=[Optional(), Length(max=254)])
    action = SelectField(_l("What happened"), validators=[Optional()])
    since = DateField(_l("From day (WITA)"), validators=[Optional(), _sane_day])
    until = DateField(_l("To day (WITA)"), validators=[Optional(), _sane_day])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.object_type.choices = [("", _l("Any object")), *OBJECT_TYPE_LABELS.items()]
        # Grouped as the tags are (optgroups), each with its words.
        self.action.choices = {
            "": [("", str(_l("Any event")))],
            **{str(GROUP_LABELS[group]): [(tag.value, str(EVENT_LABELS[tag])) for tag in group]
               for group in GROUPS},
        }

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if (valid and self.since.data is not None and self.until.data is not None
                and self.until.data < self.since.data):
            self.until.errors = [*self.until.errors, _l("The last day is before the first.")]
            valid = False
        return valid

    def filters(self) -> LogFilter:
        """What the valid form asks for; the days are whole days in WITA."""
        since, until = self.since.data, self.until.data
        return LogFilter(
            object_type=self.object_type.data or None,
            object_id=(self.object_id.data or "").strip() or None,
            actor=(self.actor.data or "").strip() or None,
            action=self.action.data or None,
            since=start_of_day(since) if since else None,
            until=start_of_day(until + dt.timedelta(days=1)) if until else None,
        )

    def query_args(self) -> dict[str, str]:
        """The filter as the pager's links repeat it (only what was given)."""
        return {field.name: field.raw_data[0] for field in self
                if field.raw_data and field.raw_data[0] and not field.errors}
