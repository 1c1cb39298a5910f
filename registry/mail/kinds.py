"""What the registry writes to people about (no Flask, no database).

Each kind has a subject and a body in ``templates/mail/<kind>.txt`` and ``.html``, and its words
in ``registry.mail.vocabulary``. Security mails go out whatever the recipient switched off.
"""

from __future__ import annotations

from enum import StrEnum


class MailKind(StrEnum):
    # Security: always sent.
    ACCOUNT_ACTIVATED = "account_activated"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of mail, not a secret)
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    ACCOUNT_LOCKED = "account_locked"
    SIGNUP_EXISTING = "signup_existing"
    SIGNUP_DECLINED = "signup_declined"
    SECOND_FACTOR_RESET = "second_factor_reset"
    # Notifications: each user may switch each off.
    BATCH_DECISION = "batch_decision"
    FAKE_REPORT = "fake_report"
    COPY_SIGNAL = "copy_signal"
    LABEL_FILE_READY = "label_file_ready"
    SIGNUP_WAITING = "signup_waiting"
    DAILY_DIGEST = "daily_digest"
    PRINT_JOB_ASSIGNED = "print_job_assigned"
    CERTIFICATE_EXPIRY = "certificate_expiry"


SECURITY: frozenset[MailKind] = frozenset({
    MailKind.ACCOUNT_ACTIVATED, MailKind.PASSWORD_RESET, MailKind.PASSWORD_CHANGED,
    MailKind.ACCOUNT_LOCKED, MailKind.SIGNUP_EXISTING, MailKind.SIGNUP_DECLINED,
    MailKind.SECOND_FACTOR_RESET,
})


class MailState(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENDING = "sending"  # a worker holds it until lease_until
    SENT = "sent"  # the mail server took it
    FAILED = "failed"  # gave up after MAX_ATTEMPTS (logged)


MAX_ATTEMPTS = 8


def retry_delay_seconds(attempts: int) -> int:
    """Wait before attempt ``attempts + 1``: 1, 2, 4, … minutes, at most an hour (a mail
    server down for a day is an operations matter: /readyz and the log say so)."""
    return int(min(60 * 2 ** max(attempts - 1, 0), 3600))
