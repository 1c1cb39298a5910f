"""Mail services: queue a mail in the caller's transaction; claim, finish and retry it for the
sender. No Flask: the sender (``registry.mail.delivery``) renders and sends."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session, col, select, update

from registry.accounts.models import User
from registry.clock import utcnow
from registry.db import on_commit
from registry.mail.kinds import (
    MAX_ATTEMPTS,
    SECURITY,
    MailKind,
    MailState,
    retry_delay_seconds,
)
from registry.mail.models import Mail, MailOptOut

# Whoever opens a session may put here a callable taking a mail's id: it is called once the
# session's transaction commits (the web app sends the mail to the task queue). Without one (a
# script), the worker's sweep finds the mail within a minute.
DISPATCH = "registry.mail.dispatch"

# The language of a mail to someone who never chose one: the registry's users are Indonesian.
DEFAULT_LOCALE = "id"
LOCALES = ("id", "en")


def recipient_locale(user: User | None, fallback: str | None = None) -> str:
    """The recipient's language: the one they chose, else ``fallback`` (the language of the
    page that caused the mail), else Indonesian."""
    for choice in (user.locale if user is not None else None, fallback):
        if choice in LOCALES:
            return str(choice)
    return DEFAULT_LOCALE


def switched_off(session: Session, user: User, kind: MailKind) -> bool:
    """Whether ``user`` switched ``kind`` off (their notification settings); a security mail
    never is."""
    if kind in SECURITY:
        return False
    return session.get(MailOptOut, (user.id, kind.value)) is not None


def queue_mail(session: Session, kind: MailKind, *, to: User | str,
               params: Mapping[str, Any] | None = None, locale: str | None = None,
               switched_off: Callable[[Session, User, MailKind], bool] = switched_off,
               ) -> Mail | None:
    """Write a mail for ``to`` (a user, or an address that has no account) into ``session``'s
    transaction; it is sent once that commits. ``params`` fill the kind's template: JSON values
    only (ids, names, amounts as text), as the sender renders them later, in the recipient's
    language. Returns None when the user switched this kind off (by default their settings
    say; a security mail is sent whatever ``switched_off`` answers)."""
    user = to if isinstance(to, User) else None
    if user is not None and kind not in SECURITY and switched_off(session, user, kind):
        return None
    mail = Mail(kind=kind, to_address=user.email if user is not None else str(to).strip(),
                user_id=user.id if user is not None else None,
                locale=recipient_locale(user, locale), params=dict(params or {}))
    session.add(mail)
    session.flush()
    dispatch = session.info.get(DISPATCH)
    if dispatch is not None:
        on_commit(session, functools.partial(dispatch, mail.id))
    return mail


def claim(session: Session, mail_id: int, *, lease_seconds: float,
          now: dt.datetime | None = None) -> Mail | None:
    """Take the mail for sending, unless another sender holds it or it is done: one
    conditional UPDATE, so two workers (two servers) never both send it."""
    now = now or utcnow()
    claimable = (col(Mail.state) == MailState.QUEUED) | (
        (col(Mail.state) == MailState.SENDING) & (col(Mail.lease_until) < now))
    result = session.exec(update(Mail).where(col(Mail.id) == mail_id, claimable).values(
        state=MailState.SENDING, lease_until=now + dt.timedelta(seconds=lease_seconds),
        attempts=col(Mail.attempts) + 1))
    if result.rowcount != 1:
        return None
    session.expire_all()
    return session.get(Mail, mail_id)


def mark_sent(session: Session, mail_id: int) -> None:
    session.exec(update(Mail).where(col(Mail.id) == mail_id).values(
        state=MailState.SENT, sent_at=utcnow(), lease_until=None, error=None, params={}))


def mark_failed(session: Session, mail_id: int, error: str) -> MailState:
    """Note a failed attempt: queued again after a back-off, or given up after
    ``MAX_ATTEMPTS``. Returns the new state."""
    mail = session.get(Mail, mail_id)
    if mail is None:
        return MailState.FAILED
    given_up = mail.attempts >= MAX_ATTEMPTS
    mail.state = MailState.FAILED if given_up else MailState.QUEUED
    mail.error = error[:500]
    mail.lease_until = None
    mail.next_attempt_at = utcnow() + dt.timedelta(seconds=retry_delay_seconds(mail.attempts))
    session.add(mail)
    session.flush()
    return MailState(mail.state)


def due(session: Session, *, limit: int = 100, now: dt.datetime | None = None) -> list[int]:
    """Mails to send now: queued and due, or held by a sender whose lease ran out."""
    now = now or utcnow()
    query = select(Mail.id).where(
        ((col(Mail.state) == MailState.QUEUED) & (col(Mail.next_attempt_at) <= now))
        | ((col(Mail.state) == MailState.SENDING) & (col(Mail.lease_until) < now))
    ).order_by(col(Mail.id)).limit(limit)
    return list(session.exec(query).all())

