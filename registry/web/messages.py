"""Every problem a form, the JSON API or a page can report about a value, with the words a
person reads for it, in one place (issue 15 §1).

Rules and services name a problem by its code (``problems["quantity"] = "out_of_range"``, a
``ValidationError``'s ``fields``), as plain strings: the rule modules stay free of Flask, and
the codes are what the API answers in ``codes``. The forms, the pages and the API's ``errors``
turn codes into words here. ``tests/test_messages.py`` finds every code the code base hands
out and fails on one without words; ``tests/test_vocabulary.py`` on words without their
Indonesian translation. Limits that come from the configuration (the largest upload, the
largest image) are written from it, in the reader's number format.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.accounts.rules import MAX_PASSWORD, MIN_PASSWORD, PasswordProblem
from registry.plaintext import TextProblem
from registry.printing.rules import MAX_LABELS_PER_JOB, MAX_REPRINT_SHEETS


class Problem(StrEnum):
    """What is wrong with one field's value. The values are what the API answers: never
    change one."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    UNKNOWN = "unknown"
    TAKEN = "taken"
    OUT_OF_RANGE = "out_of_range"
    WRONG_KIND = "wrong_kind"
    TOO_MANY = "too_many"
    BAD_GTIN = "bad_gtin"
    LOCKED = "locked"
    BAD_LOT = "bad_lot"
    FUTURE = "future"
    BEFORE_PRODUCTION = "before_production"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    BAD_TYPE = "bad_type"
    TOO_MANY_PIXELS = "too_many_pixels"
    BROKEN_FILE = "broken_file"
    ACTIVE_PDF = "active_pdf"
    BAD_FILENAME = "bad_filename"
    EVIDENCE_MISSING = "evidence_missing"
    EVIDENCE_KINDS_MISSING = "evidence_kinds_missing"
    # EU Deforestation Regulation (registry.catalog.services.submit_batch)
    PLOTS_MISSING = "plots_missing"
    PLOTS_OUTSIDE_REGENCY = "plots_outside_regency"
    BAD_NET_QUANTITY = "bad_net_quantity"
    INCOMPARABLE_UNIT = "incomparable_unit"
    BAD_SHEETS = "bad_sheets"
    TOO_MANY_SHEETS = "too_many_sheets"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (a problem code, not a secret)
    # Yearly targets (registry.targets.rules.spec_problems and services)
    NOT_A_NUMBER = "not_a_number"
    WHOLE_NUMBER = "whole_number"
    TOO_PRECISE = "too_precise"
    BAD_HS_CHAPTER = "bad_hs_chapter"
    CATEGORY_OR_CHAPTER = "category_or_chapter"
    VOLUME_NEEDS_COMMODITY = "volume_needs_commodity"
    VOLUME_NEEDS_UNIT = "volume_needs_unit"
    ONLY_FOR_VOLUME = "only_for_volume"
    EXPORTERS_NOT_PER_COMMODITY = "exporters_not_per_commodity"
    FROZEN = "frozen"
    TOO_FAR_AHEAD = "too_far_ahead"
    # Certificates (issue 18 §2, ``certificates.rules``).
    BAD_NUMBER = "bad_number"
    BAD_FORMAT = "bad_format"
    NOT_A_CERTIFICATE = "not_a_certificate"
    BEFORE_ISSUE = "before_issue"
    NOT_APPLICABLE = "not_applicable"
    CERTIFICATE_MISSING = "certificate_missing"
    CERTIFICATE_EXPIRED = "certificate_expired"
    # Shipments through the Bali hub (registry.shipments.rules and services)
    BAD_PEB = "bad_peb"
    AFTER_SHIPMENT = "after_shipment"
    BAD_AWB = "bad_awb"
    BAD_BILL_OF_LADING = "bad_bill_of_lading"
    NO_CONTAINERS_BY_AIR = "no_containers_by_air"
    BAD_CONTAINER = "bad_container"
    DUPLICATE_CONTAINER = "duplicate_container"
    BAD_LOCODE = "bad_locode"
    UNKNOWN_LOCODE = "unknown_locode"
    WRONG_COUNTRY = "wrong_country"
    WRONG_MODE = "wrong_mode"
    OVER_SHIPPED = "over_shipped"
    BEFORE_PEB = "before_peb"


# Codes whose words carry the numbers of one refusal (how much is left to label, which stocks
# would hold the text): the exception says them, in the reader's language
# (``printing.messages.bound_message``, ``fit_message``).
SAID_BY_THE_REFUSAL = frozenset({"over_certified_quantity", "text_does_not_fit"})


# Keyed by members, typed by ``str``: a member equals its code (see catalog.vocabulary).
# ``%(max_size)s`` and the like are filled from the configuration (``limits``).
MESSAGES: dict[str, LazyString] = {
    Problem.REQUIRED: _l("This field is required."),
    Problem.TOO_LONG: _l("This text is too long."),
    Problem.UNKNOWN: _l("Please choose a value from the list."),
    Problem.TAKEN: _l("This value is already registered."),
    Problem.WRONG_PASSWORD: _l("This is not your current password."),
    Problem.OUT_OF_RANGE: _l("This number is out of range."),
    Problem.WRONG_KIND: _l("This role does not belong to this kind of organisation."),
    Problem.TOO_MANY: _l("You have too many active tokens; revoke one first."),
    Problem.BAD_GTIN: _l("This is not a valid GTIN: check the digits and the check digit."),
    Problem.LOCKED: _l("The GTIN can no longer change: batches of this product were "
                       "submitted and their labels carry it."),
    Problem.BAD_LOT: _l("Use up to 20 letters, digits, '-', '.' or '_'."),
    Problem.FUTURE: _l("This date cannot be in the future."),
    Problem.BEFORE_PRODUCTION: _l("Best before cannot be earlier than the production date."),
    Problem.EMPTY: _l("The file is empty."),
    Problem.TOO_LARGE: _l("The file is too large (at most %(max_size)s)."),
    Problem.BAD_TYPE: _l("Only PDF, JPEG and PNG files are accepted; this file is not one "
                         "of them."),
    Problem.TOO_MANY_PIXELS: _l("The image has too many pixels (at most %(max_megapixels)s "
                                "megapixels)."),
    Problem.BROKEN_FILE: _l("The file is damaged or could not be read."),
    Problem.ACTIVE_PDF: _l("PDF files with scripts or launch actions are not accepted. "
                           "Please upload a plain PDF, for example printed to PDF again or "
                           "scanned."),
    Problem.BAD_FILENAME: _l("The file name contains invisible control or text-direction "
                             "characters. Please rename the file and try again."),
    Problem.EVIDENCE_MISSING: _l("Add at least one evidence document (a certificate, lab "
                                 "results or similar) before submitting."),
    Problem.EVIDENCE_KINDS_MISSING: _l("This product's category needs more evidence "
                                       "documents before submitting; the batch page lists "
                                       "them."),
    Problem.PLOTS_MISSING: _l("This product's HS code falls under the EU Deforestation "
                              "Regulation: record the geolocation of its production plots "
                              "(Production plots, on the batch page) before submitting."),
    Problem.PLOTS_OUTSIDE_REGENCY: _l("Some production plots lie outside the batch's origin "
                                      "regency (it was changed after they were recorded): "
                                      "remove them or correct the origin before submitting."),
    Problem.BAD_NET_QUANTITY: _l("Write the net quantity like 250 g, 1 kg, 500 ml or 1 pcs."),
    Problem.INCOMPARABLE_UNIT: _l("The net quantity must be in a unit comparable with the "
                                  "batch's quantity: g, kg or t for weight, ml or l for "
                                  "volume, pcs for pieces, head for livestock."),
    Problem.BAD_SHEETS: _l("Choose sheets within the job."),
    Problem.TOO_MANY_SHEETS: _l("A reprint replaces damaged sheets: at most %(max_sheets)s "
                                "sheets at a time. For more, download the job's file again."),
    Problem.NOT_A_NUMBER: _l("Enter a number, e.g. 1500000 or 2.5."),
    Problem.WHOLE_NUMBER: _l("Enter a whole number."),
    Problem.TOO_PRECISE: _l("At most three decimals."),
    Problem.BAD_HS_CHAPTER: _l("Enter an HS chapter as two digits, 01 to 97."),
    Problem.CATEGORY_OR_CHAPTER: _l("Choose a commodity or an HS chapter, not both."),
    Problem.VOLUME_NEEDS_COMMODITY: _l("A volume target is for one commodity or one HS "
                                       "chapter."),
    Problem.VOLUME_NEEDS_UNIT: _l("Choose the unit of the volume."),
    Problem.ONLY_FOR_VOLUME: _l("A unit is only for volume targets."),
    Problem.EXPORTERS_NOT_PER_COMMODITY: _l("Active exporters are counted over all "
                                            "commodities: leave the commodity and the HS "
                                            "chapter empty."),
    Problem.FROZEN: _l("This year has ended: its targets are frozen."),
    Problem.TOO_FAR_AHEAD: _l("Targets can be set for this year and the next."),
    Problem.BAD_NUMBER: _l("Write the certificate number as printed: letters, digits and "
                           "signs such as '/' or '-', at most 64."),
    Problem.BAD_FORMAT: _l("This number does not have the issuer's format."),
    Problem.NOT_A_CERTIFICATE: _l("Only certificates have a number, issuer and dates; "
                                  "leave these fields empty for this document type."),
    Problem.BEFORE_ISSUE: _l("The expiry date cannot be earlier than the issue date."),
    Problem.NOT_APPLICABLE: _l("This field does not apply to this document type."),
    Problem.CERTIFICATE_MISSING: _l("A certificate the batch needs is missing; it cannot be "
                                    "approved yet."),
    Problem.CERTIFICATE_EXPIRED: _l("A certificate the batch needs has expired; it cannot be "
                                    "approved until a valid one is added."),
    Problem.BAD_PEB: _l("The PEB registration number has six digits, e.g. 012345."),
    Problem.AFTER_SHIPMENT: _l("The PEB date cannot be later than the planned shipment "
                               "date."),
    Problem.BAD_AWB: _l("Write the air waybill number as 3 digits, a dash and 8 digits, "
                        "e.g. 126-12345675; its last digit must be the check digit."),
    Problem.BAD_BILL_OF_LADING: _l("A bill of lading number has 4 to 35 letters and digits."),
    Problem.NO_CONTAINERS_BY_AIR: _l("Goods leaving through the airport have no sea "
                                     "containers: leave this field empty."),
    Problem.BAD_CONTAINER: _l("A container number has 4 letters (the last U, J or Z), 6 "
                              "digits and a check digit, e.g. CSQU3054383; one of these does "
                              "not add up."),
    Problem.DUPLICATE_CONTAINER: _l("A container is listed twice."),
    Problem.BAD_LOCODE: _l("A UN/LOCODE has five characters: the country and three letters, "
                           "e.g. NLRTM."),
    Problem.UNKNOWN_LOCODE: _l("No seaport or airport of the UN/LOCODE list has this code: "
                               "look the place up by its name."),
    Problem.WRONG_COUNTRY: _l("The destination must be in the batch's certified destination "
                              "country."),
    Problem.WRONG_MODE: _l("Choose a seaport for a sea hub and an airport for the airport."),
    Problem.OVER_SHIPPED: _l("The batch's shipments may not exceed its certified quantity."),
    Problem.BEFORE_PEB: _l("The passage cannot be earlier than the PEB date."),
}
# Words for a problem where its general words would say less: (what is asked for, code).
PRINT_JOB = "print_job"
IN_CONTEXT: dict[tuple[str, str], LazyString] = {
    (PRINT_JOB, Problem.OUT_OF_RANGE): _l("Between 1 and %(max_labels)s labels per job."),
    # A certificate number's format, by document kind (``certificates.rules.NUMBER_FORMATS``).
    ("halal", Problem.BAD_FORMAT): _l("A BPJPH halal certificate number is ID followed by 17 "
                                      "digits, e.g. ID35110000123450722."),
    ("bpom", Problem.BAD_FORMAT): _l("A BPOM registration number is MD or ML followed by 12 "
                                     "digits, e.g. MD 224510001234."),
}

# Invisible characters in a text field (``registry.forms`` refuses them everywhere).
TEXT_MESSAGES: dict[str, LazyString] = {
    TextProblem.CONTROL: _l("This text contains invisible control characters, which are not "
                            "allowed."),
    TextProblem.BIDI: _l("This text contains invisible text-direction override characters "
                         "(U+202A–U+202E, U+2066–U+2069), which are not allowed."),
    TextProblem.LINE_BREAK: _l("Line breaks are not allowed in this field."),
}
PASSWORD_MESSAGES: dict[str, LazyString] = {
    PasswordProblem.TOO_SHORT: _l("The password must be at least %(min_password)s characters "
                                  "long."),
    PasswordProblem.TOO_LONG: _l("The password must be at most %(max_password)s characters "
                                 "long."),
    PasswordProblem.COMMON: _l("This password is too common. Please choose another one."),
    PasswordProblem.IS_EMAIL: _l("The password must not be your e-mail address."),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {
    Problem: MESSAGES, TextProblem: TEXT_MESSAGES, PasswordProblem: PASSWORD_MESSAGES,
}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def megabytes(size: int) -> str:
    """A size limit as people write it: 10485760 bytes is "10 MB"."""
    return _("%(n)s MB", n=format_decimal(round(size / 2**20, 1)))


def limits() -> dict[str, str]:
    """The configured limits a message names, in the reader's number format."""
    config = current_app.config
    return {"max_size": megabytes(config["MAX_UPLOAD_BYTES"]),
            "max_megapixels": format_decimal(round(config["MAX_IMAGE_PIXELS"] / 10**6, 1)),
            "max_labels": format_decimal(MAX_LABELS_PER_JOB),
            "max_sheets": format_decimal(MAX_REPRINT_SHEETS),
            "min_password": format_decimal(MIN_PASSWORD),
            "max_password": format_decimal(MAX_PASSWORD)}


def with_limits(words: LazyString | str) -> str:
    text = str(words)
    return text % limits() if "%(" in text else text


def message(code: str, *, about: str | None = None) -> str:
    """The words for a problem code, in the reader's language; ``about`` names what was asked
    for where that changes the words (``PRINT_JOB``). A code without words (none, while
    tests/test_messages.py passes) is never shown raw."""
    words = IN_CONTEXT.get((about, code)) if about else None
    words = words or MESSAGES.get(code)
    return with_limits(words) if words is not None else _("Please check this value.")


def has_message(code: str) -> bool:
    return code in MESSAGES
