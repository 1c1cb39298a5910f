"""Account rules that need neither Flask nor the database."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_PASSWORD = 8
MAX_PASSWORD = 128
# Nomor Induk Berusaha issued by OSS: 13 ASCII digits, matched whole ("\d" would take other
# scripts' digits, "$" a trailing newline).
NIB_RE = re.compile(r"[0-9]{13}")
# A declined sign-up's reason goes into an e-mail and the audit trail: a few sentences.
MAX_DECLINE_REASON = 1000


class PasswordProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    IS_EMAIL = "is_email"


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most frequent passwords from leaked sets.
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str = "") -> PasswordProblem | None:
    """Why a password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return PasswordProblem.TOO_SHORT
    if len(password) > MAX_PASSWORD:
        return PasswordProblem.TOO_LONG
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(password)) < 3:
        return PasswordProblem.COMMON
    if email and lowered == email.lower():
        return PasswordProblem.IS_EMAIL
    return None


def valid_nib(nib: str) -> bool:
    return bool(NIB_RE.fullmatch(nib))


def decline_reason_problem(reason: str) -> str | None:
    """Why a reason for declining a sign-up is refused (a ``web.messages`` code), or None.
    The applicant reads it, so it must say something: blank is refused."""
    text = reason.strip()
    if not text:
        return "required"
    if len(text) > MAX_DECLINE_REASON:
        return "too_long"
    return None
