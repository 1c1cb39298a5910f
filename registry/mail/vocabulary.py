"""The words of each kind of mail: what the recipient's settings call it and its subject."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from registry.mail.kinds import MailKind

# What a user reads in their notification settings (and an admin in the mail log).
KIND_LABELS: dict[str, LazyString] = {
    MailKind.ACCOUNT_ACTIVATED: _l("Your account was activated"),
    MailKind.PASSWORD_RESET: _l("Password reset link"),
    MailKind.PASSWORD_CHANGED: _l("Your password was changed"),
    MailKind.ACCOUNT_LOCKED: _l("Sign-in paused after failed attempts"),
    MailKind.SIGNUP_EXISTING: _l("Someone tried to sign up with your address"),
    MailKind.SIGNUP_DECLINED: _l("Your sign-up was declined"),
    MailKind.SECOND_FACTOR_RESET: _l("Your second factor was reset"),
    MailKind.BATCH_DECISION: _l("Decisions on my batches"),
    MailKind.FAKE_REPORT: _l("Reports of suspected fakes of my products"),
    MailKind.COPY_SIGNAL: _l("Possible copies of my labels"),
    MailKind.LABEL_FILE_READY: _l("Label files ready"),
    MailKind.SIGNUP_WAITING: _l("New exporters waiting for activation"),
    MailKind.DAILY_DIGEST: _l("Daily summary of my province"),
    MailKind.PRINT_JOB_ASSIGNED: _l("Print jobs for my print shop"),
    MailKind.CERTIFICATE_EXPIRY: _l("Certificates of certified batches about to expire"),
}

# Subjects: %(name)s placeholders are filled from the mail's params.
SUBJECTS: dict[str, LazyString] = {
    MailKind.ACCOUNT_ACTIVATED: _l("Your account on the Made in Bali–NTB–NTT registry is active"),
    # Notifications (registry.notifications).
    MailKind.FAKE_REPORT: _l("A buyer reported a suspected fake of %(lot)s"),
    MailKind.COPY_SIGNAL: _l("Possible copies of the labels of batch %(lot)s"),
    MailKind.LABEL_FILE_READY: _l("Labels of job %(job_id)s are ready to download"),
    MailKind.SIGNUP_WAITING: _l("%(company)s waits for activation"),
    MailKind.DAILY_DIGEST: _l("%(province)s: today at the registry"),
    MailKind.CERTIFICATE_EXPIRY: _l("A certificate of batch %(lot)s is about to expire"),
    MailKind.PRINT_JOB_ASSIGNED: _l(
        "New print job %(job_id)s: %(quantity)s labels of batch %(lot)s"),
    MailKind.SIGNUP_DECLINED: _l("Your sign-up for %(company)s on the Made in Bali–NTB–NTT "
                                 "registry was declined"),
    MailKind.PASSWORD_RESET: _l("Set a new password for the Made in Bali–NTB–NTT registry"),
    MailKind.PASSWORD_CHANGED: _l("Your password on the Made in Bali–NTB–NTT registry was "
                                  "changed"),
    MailKind.ACCOUNT_LOCKED: _l("Signing in to your registry account is paused"),
    MailKind.SIGNUP_EXISTING: _l("A sign-up on the Made in Bali–NTB–NTT registry named your "
                                 "account"),
    MailKind.SECOND_FACTOR_RESET: _l("Your second factor on the Made in Bali–NTB–NTT registry "
                                     "was reset"),
}

# A decision's subject says which decision (params["action"], a catalog Action).
DECISION_SUBJECTS: dict[str, LazyString] = {
    "approve": _l("Batch %(lot)s is certified"),
    "reject": _l("Batch %(lot)s was rejected"),
    "suspend": _l("The certification of batch %(lot)s is suspended"),
    "reinstate": _l("The certification of batch %(lot)s is reinstated"),
    "revoke": _l("The certification of batch %(lot)s is revoked"),
    # A shipment's passage through the Bali hub (registry.shipments).
    "confirm_passage": _l("A shipment of batch %(lot)s passed the Bali hub"),
    "refuse_passage": _l("The passage of a shipment of batch %(lot)s through the Bali hub "
                         "was refused"),
}

# A day's summary of several reports (one report keeps the subject above).
FAKE_REPORTS_SUBJECT = _l("Buyers reported %(reports)s suspected fakes of %(lot)s")

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {MailKind: KIND_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def kind_label(code: str) -> str:
    return str(KIND_LABELS.get(code, code))


def subject_of(kind: MailKind, params: Mapping[str, Any]) -> str:
    """The subject in the current locale, its placeholders filled (a missing one is left as
    written rather than failing the send)."""
    variant = DECISION_SUBJECTS.get(str(params.get("action"))) if (
        kind is MailKind.BATCH_DECISION) else None
    if kind is MailKind.FAKE_REPORT and int(params.get("reports") or 1) > 1:
        variant = FAKE_REPORTS_SUBJECT
    template = str(variant or SUBJECTS.get(kind) or KIND_LABELS[kind])
    try:
        return template % params if "%(" in template else template
    except (KeyError, TypeError, ValueError):
        return template
