"""How far back the desk's scan lists look. Pure rules: no Flask, no database.

The two scan lists group every suspicious scan of their scope before they know their first
row, so an unbounded list costs what the registry's whole history of copies and fakes costs
(0.33–0.75 s at 200,000 "possible copy" answers, README "Suspicious-activity desk"). A desk
is for acting on what happens now: it looks back a quarter unless asked for more, and the
work then follows the period's scans, not the years behind them.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class Period(StrEnum):
    """How far back (the value is what the URL's ``period=`` carries; not bare numbers, which
    would read as any other number on a page)."""

    WEEK = "7d"
    MONTH = "30d"
    QUARTER = "90d"
    YEAR = "12m"
    ALL = "all"


DAYS = {Period.WEEK: 7, Period.MONTH: 30, Period.QUARTER: 90, Period.YEAR: 365}
DEFAULT_PERIOD = Period.QUARTER


def period_from(value: str | None) -> Period:
    """The period a URL asks for; the default for anything else (an old link, a typo)."""
    try:
        return Period(value or DEFAULT_PERIOD)
    except ValueError:
        return DEFAULT_PERIOD


def since(period: Period, now: dt.datetime) -> dt.datetime | None:
    """The earliest scan the lists show at ``now`` (None: every scan)."""
    if period is Period.ALL:
        return None
    return now - dt.timedelta(days=DAYS[period])
