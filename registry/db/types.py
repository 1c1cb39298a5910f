"""Column types shared by every model.

``UTCDateTime`` (after indico's): every moment the registry stores is an aware UTC datetime, in
and out, on both databases. PostgreSQL keeps ``timestamptz``; SQLite keeps text without a zone,
which SQLAlchemy would hand back naive. Here the zone is checked on the way in (a naive value
is a bug: refused, never guessed) and restored on the way out, so no reader has to patch
"SQLite hands back naive UTC" again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"UTCDateTime takes a datetime, not {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the registry stores aware UTC only")
        value = value.astimezone(dt.UTC)
        # SQLite's DATETIME writes the wall-clock fields and drops the zone: write UTC's.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return as_utc(value)

    @property
    def python_type(self) -> type[dt.datetime]:
        return dt.datetime


def as_utc(value: dt.datetime | str | None) -> dt.datetime | None:
    """An aware UTC datetime from what a database returned for a moment (a naive value is UTC,
    as this registry writes them; SQLite may hand an aggregate back as its stored text)."""
    return None if value is None else utc(value)


def utc(value: dt.datetime | str) -> dt.datetime:
    """``as_utc`` of a value that is there: an aggregate's, whose column type SQLite may lose
    (``min()`` over a subquery or a ``CASE``) and hand back as the stored text."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
