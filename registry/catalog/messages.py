"""What the exporter reads when the catalog's services refuse with a typed refusal rather
than a field's code: shared by the web pages and the JSON API, so neither imports the other's
views. The words for the fields' codes are registry/web/messages.py's."""

from __future__ import annotations

from flask_babel import gettext as _


def evidence_frozen() -> str:
    """``services.EvidenceFrozen``: a submission won the race with this change of evidence."""
    return _("This batch was submitted: its evidence can no longer be changed.")
