"""Mail in the app: the mail server (Flask-Mailman) from the configuration, and mails sent to
the task queue once the transaction that wrote them commits."""

from __future__ import annotations

import logging

from flask import Flask
from flask_mailman import Mail as Mailman

from registry.mail import services

log = logging.getLogger(__name__)

mailman = Mailman()

# MAIL_BACKEND as the README names it, and Flask-Mailman's backend for it.
BACKENDS = {"outbox": "registry.mail.outbox.EmailBackend", "smtp": "smtp"}


def init_app(app: Flask) -> None:
    from registry.mail import delivery

    # Flask-Mailman's backend for the README's name, without rewriting the app's setting (a
    # second app made from this one's configuration must read the same MAIL_BACKEND).
    settings = {**app.config, "MAIL_BACKEND": BACKENDS[app.config["MAIL_BACKEND"]]}
    app.extensions["mailman"] = mailman.init_mail(settings, app.testing)

    def dispatch(mail_id: int) -> None:
        # After the commit: the request's answer is decided, so a queue that does not answer
        # costs nothing but a minute (the worker's sweep sends the mail).
        try:
            from registry.queue import enqueue

            enqueue(delivery.deliver, mail_id)
        except Exception:
            log.exception("could not send mail %s to the task queue; the sweep will", mail_id)

    app.extensions.setdefault("session_info", {})[services.DISPATCH] = dispatch

