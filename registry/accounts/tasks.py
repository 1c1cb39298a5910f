"""Account work on the task queue: the mail of "forgot password", after the answer."""

from __future__ import annotations

from flask import current_app

from registry.accounts import services
from registry.queue import every_minute, task
from registry.web.database import open_session


@task()
def send_reset_link(request_id: int) -> bool:
    """Turn the reset request into a mail (or nothing, for an unknown address). Here rather
    than in the request so that the request does the same work for every address (issue 16:
    no timing gap)."""
    with open_session(current_app) as session:
        taken = services.send_reset_link(session, request_id=request_id, secret=str(
            current_app.config["SECRET_KEY"]))
        session.commit()
    return taken


@every_minute
def reset_request_sweep() -> None:
    """The requests whose task never ran (the queue did not answer at the request's commit,
    or a worker died mid-task): their mails go out now, and unknown addresses' rows go."""
    with open_session(current_app) as session:
        waiting = services.waiting_reset_requests(session)
    for request_id in waiting:
        send_reset_link(request_id)
