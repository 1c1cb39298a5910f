"""The worker's certificate expiry sweep: every minute, deciding in the database whether an
alert is due (``services.expiry_alerts``), so each goes out once however many workers run."""

from __future__ import annotations

import datetime as dt

from flask import current_app

from registry.certificates import services
from registry.clock import utcnow
from registry.queue import every_minute
from registry.web.database import open_session


def send_expiry_alerts(now: dt.datetime | None = None) -> int:
    with open_session(current_app) as session:
        sent = services.expiry_alerts(session, now or utcnow())
        session.commit()
    return sent


@every_minute
def certificate_expiry_sweep() -> None:
    send_expiry_alerts()
