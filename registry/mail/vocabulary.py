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
}

# Subjects: %(name)s placeholders are filled from the mail's params.
SUBJECTS: dict[str, LazyString] = {
    MailKind.ACCOUNT_ACTIVATED: _l("Your account on the Made in Bali–NTB–NTT registry is active"),
    MailKind.SECOND_FACTOR_RESET: _l("Your second factor on the Made in Bali–NTB–NTT registry "
                                     "was reset"),
}

LABELS: Mapping[type[StrEnum], Mapping[str, LazyString]] = {MailKind: KIND_LABELS}
ON_VERIFY_PAGE: frozenset[type[StrEnum]] = frozenset()


def kind_label(code: str) -> str:
    return str(KIND_LABELS.get(code, code))


def subject_of(kind: MailKind, params: Mapping[str, Any]) -> str:
    """The subject in the current locale, its placeholders filled (a missing one is left as
    written rather than failing the send)."""
    template = str(SUBJECTS.get(kind) or KIND_LABELS[kind])
    try:
        return template % params if "%(" in template else template
    except (KeyError, TypeError, ValueError):
        return template
