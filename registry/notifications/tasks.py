"""The worker's notification sweeps: possible copies, reports of fakes, the daily digest.

Each runs every minute and decide in the database whether there is anything to send, so a
mail goes out once however many workers (on however many servers) run the sweep, and a
worker that was down sends the day's mails when it comes back.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app

from registry.clock import utcnow
from registry.notifications import services
from registry.queue import every_minute
from registry.web.database import open_session


def send_copy_signals(now: dt.datetime | None = None) -> int:
    with open_session(current_app) as session:
        told = services.copy_signals(session, now or utcnow())
        session.commit()
    return told


def send_fake_reports(now: dt.datetime | None = None) -> int:
    with open_session(current_app) as session:
        told = services.fake_reports(session, now or utcnow())
        session.commit()
    return told


def send_daily_digests(now: dt.datetime | None = None) -> int:
    with open_session(current_app) as session:
        sent = services.daily_digests(session, now or utcnow())
        session.commit()
    return sent


@every_minute
def copy_signal_sweep() -> None:
    send_copy_signals()


@every_minute
def fake_report_sweep() -> None:
    send_fake_reports()


@every_minute
def daily_digest_sweep() -> None:
    send_daily_digests()
