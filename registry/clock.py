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
