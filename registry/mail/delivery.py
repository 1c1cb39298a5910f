"""Sending: render a queued mail in its recipient's language and hand it to the mail server.

Runs on the task queue (``deliver``, sent after the commit that wrote the mail) and in the
worker's minute sweep (``sweep``: what was never sent to the queue, or failed and is due
again). A send that fails is retried with back-off (``kinds.retry_delay_seconds``) and, after
``kinds.MAX_ATTEMPTS``, logged as an error and given up.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_mailman import EmailMultiAlternatives
from sqlmodel import Session

from registry.mail import services
from registry.mail.kinds import MailKind, MailState
from registry.mail.models import Mail
from registry.mail.vocabulary import subject_of
from registry.queue import every_minute, task

log = logging.getLogger(__name__)

# Long enough for a slow SMTP server (MAIL_TIMEOUT is 10 s a connection attempt), short enough
# that a sender killed mid-send is replaced within a few minutes.
LEASE_SECONDS = 120.0


@task()
def deliver(mail_id: int) -> None:
    """Send one mail, unless another sender has it or it is done already."""
    engine = current_app.extensions["engine"]
    with Session(engine, expire_on_commit=False) as session:
        mail = services.claim(session, mail_id, lease_seconds=LEASE_SECONDS)
        session.commit()
    if mail is None:
        return
    try:
        message = render(mail)
        message.send()
    except Exception as exc:
        with Session(engine) as session:
            state = services.mark_failed(session, mail_id, f"{type(exc).__name__}: {exc}")
            session.commit()
        level = logging.ERROR if state == MailState.FAILED else logging.WARNING
        log.log(level, "mail %s (%s) to %s: attempt %s failed (%s); %s", mail.id, mail.kind,
                mail.to_address, mail.attempts, exc,
                "given up" if state == MailState.FAILED else "will be retried")
        return
    with Session(engine) as session:
        services.mark_sent(session, mail_id)
        session.commit()


@every_minute
def sweep() -> None:
    """Send what is due: mails never handed to the queue (a script wrote them, or the queue
    did not answer), retries whose time has come, sends a dead worker left."""
    with Session(current_app.extensions["engine"]) as session:
        ids = services.due(session)
    for mail_id in ids:
        deliver(mail_id)


def render(mail: Mail) -> EmailMultiAlternatives:
    """The mail as its recipient reads it: subject, plain text and HTML, in ``mail.locale``,
    every link absolute on ``PUBLIC_SCHEME://PUBLIC_HOST``."""
    app = current_app
    kind = MailKind(mail.kind)
    with force_locale(mail.locale):
        subject = subject_of(kind, mail.params)
        context: dict[str, Any] = {**mail.params, "link": external_url,
                                   "to_address": mail.to_address, "locale": mail.locale,
                                   "home": external_url("main.home"), "subject": subject}
        text = app.jinja_env.get_template(f"mail/{kind.value}.txt").render(context)
        html = app.jinja_env.get_template(f"mail/{kind.value}.html").render(context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[mail.to_address],
                                     headers={"Auto-Submitted": "auto-generated"})
    message.attach_alternative(html, "text/html")
    return message


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` on the registry's public host, whatever the request
    (if any) named: mail is read away from the server that wrote it."""
    cfg = current_app.config
    adapter = current_app.url_map.bind(cfg["PUBLIC_HOST"], url_scheme=cfg["PUBLIC_SCHEME"])
    return adapter.build(endpoint, values, force_external=True)
