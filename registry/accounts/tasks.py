"""Account work on the task queue: the mail of "forgot password", after the answer."""

from __future__ import annotations

from flask import current_app

from registry.accounts import services
from registry.queue import task
from registry.web.database import open_session


@task()
def send_reset_link(email: str, locale: str | None) -> None:
    """Look the address up and mail its account a reset link. Here rather than in the request
    so that the request does the same work for every address (issue 16: no timing gap)."""
    with open_session(current_app) as session:
        services.send_reset_link(session, email=email, secret=str(current_app.config[
            "SECRET_KEY"]), locale=locale)
        session.commit()
