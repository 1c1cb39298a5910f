"""One clock for the whole registry so tests and services agree on 'now' and 'today'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from zoneinfo import ZoneInfo

# The three provinces share WITA (UTC+8); a validity date ends at local midnight there.
REGION_TZ = ZoneInfo("Asia/Makassar")

# A moment the clock reads instead of the system's, set only by ``moved_to``: the demo writes
# two years of history through the real services, which stamp rows, decisions and audit
# events with this clock. A context variable, so another thread (a web request served while
# the demo loads) keeps reading the real time.
_MOVED: ContextVar[dt.datetime | None] = ContextVar("registry_clock_moved", default=None)


def utcnow() -> dt.datetime:
    moved = _MOVED.get()
    return moved if moved is not None else dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return utcnow().astimezone(REGION_TZ).date()


@contextmanager
def moved_to(moment: dt.datetime) -> Iterator[None]:
    """Within the block, ``utcnow()`` is ``moment`` (aware) and ``today()`` its WITA date.
    For writing history (the demo), never for serving requests."""
    if moment.tzinfo is None:
        raise ValueError("moved_to needs an aware datetime")
    token = _MOVED.set(moment.astimezone(dt.UTC))
    try:
        yield
    finally:
        _MOVED.reset(token)


def start_of_day(day: dt.date) -> dt.datetime:
    """The aware UTC moment ``day`` begins in WITA (16:00 UTC the day before): a range of
    days a person picks runs from the start of the first to the start of the day after the
    last."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=REGION_TZ).astimezone(dt.UTC)
