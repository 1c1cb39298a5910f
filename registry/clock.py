"""One clock for the whole registry so tests and services agree on 'now' and 'today'."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# The three provinces share WITA (UTC+8); a validity date ends at local midnight there.
REGION_TZ = ZoneInfo("Asia/Makassar")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return dt.datetime.now(REGION_TZ).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """The aware UTC moment ``day`` begins in WITA (16:00 UTC the day before): a range of
    days a person picks runs from the start of the first to the start of the day after the
    last."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=REGION_TZ).astimezone(dt.UTC)
