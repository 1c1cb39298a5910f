"""What the exporter reads for each code the catalog's services refuse a value with (a
``ValidationError``'s ``fields``): shared by the web forms and the JSON API's ``errors``, so
neither imports the other's views. Lazy (a function per code), so each reader gets their
language."""

from __future__ import annotations

from flask_babel import gettext as _

FIELD_MESSAGES = {
    "required": lambda: _("This field is required."),
    "too_long": lambda: _("This text is too long."),
    "unknown": lambda: _("Please choose a value from the list."),
    "bad_gtin": lambda: _("This is not a valid GTIN: check the digits and the check digit."),
    "taken": lambda: _("This value is already used by another record."),
    "locked": lambda: _("The GTIN can no longer change: batches of this product were "
                        "submitted and their labels carry it."),
    "bad_lot": lambda: _("Use up to 20 letters, digits, '-', '.' or '_'."),
    "out_of_range": lambda: _("This number is out of range."),
    "future": lambda: _("This date cannot be in the future."),
    "before_production": lambda: _("Best before cannot be earlier than the production date."),
    "empty": lambda: _("The file is empty."),
    "too_large": lambda: _("The file is too large (at most 10 MB)."),
    "bad_type": lambda: _("Only PDF, JPEG and PNG files are accepted; this file is not one "
                          "of them."),
    "too_many_pixels": lambda: _("The image has too many pixels (at most 40 megapixels)."),
    "broken_file": lambda: _("The file is damaged or could not be read."),
    "active_pdf": lambda: _("PDF files with scripts or launch actions are not accepted. "
                            "Please upload a plain PDF, for example printed to PDF again or "
                            "scanned."),
    "bad_filename": lambda: _("The file name contains invisible control or text-direction "
                              "characters. Please rename the file and try again."),
    "evidence_missing": lambda: _("Add at least one evidence document (a certificate, lab "
                                  "results or similar) before submitting."),
    "evidence_kinds_missing": lambda: _("This product's category needs more evidence "
                                        "documents before submitting; the batch page lists "
                                        "them."),
}


def evidence_frozen() -> str:
    """``services.EvidenceFrozen``: a submission won the race with this change of evidence."""
    return _("This batch was submitted: its evidence can no longer be changed.")
