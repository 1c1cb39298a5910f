"""Engine and the request-scoped session.

Services receive the session and only flush; the request commits once in ``after_request``
(or rolls back on any error), so a state change and its audit event share one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import event, func
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, create_engine, select
from werkzeug.routing import Map
from werkzeug.routing.converters import IntegerConverter

from registry.db.paging import Page, Window
from registry.exceptions import Taken, ValidationError

# Primary keys are INTEGER columns: 32-bit on PostgreSQL, 64-bit on SQLite. The one bound of an
# id (and of other integers the API takes) in URLs, forms and the API's schemas.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in a URL, bounded to what an id column holds.

    Werkzeug's converter accepts any number of digits; looking up 10**30 then fails in the
    driver (SQLite and psycopg overflow) and became a 500. Out of range is simply no match: 404.
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 15}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets readers run beside the single writer; busy_timeout makes a second
            # writer wait for the first instead of failing at once.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Figures join a year of decisions to their batches by primary key: with SQLite's
            # default 2 MB page cache each lookup is a read() call; memory-mapped pages and a
            # larger cache make those lookups several times cheaper (bench/dashboard.py).
            cur.execute("PRAGMA mmap_size=268435456")
            cur.execute("PRAGMA cache_size=-32768")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _refuse_nul() -> None:
    """PostgreSQL text cannot hold NUL ("\\x00"): a form value with one failed in the INSERT
    as a 500. No browser sends it from a text box, so refuse the request on every backend."""
    values = [request.path, *(v for _k, v in request.args.items(multi=True)),
              *(v for _k, v in request.form.items(multi=True)),
              *(f.filename or "" for _k, f in request.files.items(multi=True))]
    if any("\x00" in value for value in values):
        raise ValidationError(_("The request contains a NUL character, which is not allowed "
                                "in any field."), public=True)


def init_app(app: Flask) -> None:
    app.extensions["engine"] = make_engine(app.config["DATABASE_URL"])
    # Before any blueprint is registered, so every ``<int:...>`` rule uses the bounded one.
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul)

    @app.after_request
    def _commit(response: Any) -> Any:
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return response
        try:
            if response.status_code < 400:
                session.commit()
                g.pop("after_rollback", None)
                for callback in g.pop("after_commit", []):
                    callback()
            else:
                session.rollback()
        finally:
            session.close()
        return response

    @app.teardown_request
    def _rollback(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
        for callback in g.pop("after_rollback", []):
            callback()
        g.pop("after_commit", None)


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = Session(current_app.extensions["engine"], expire_on_commit=False)
    return g.db_session


def engine() -> Engine:
    return current_app.extensions["engine"]


def fetch_page(session: Session, statement: Any, window: Window) -> Page[Any]:
    """One page of ``statement``'s rows and the count of all of them, both in SQL.
    ``statement`` must order its rows totally (end with a unique column), or rows may repeat
    or go missing between pages."""
    total = session.exec(
        select(func.count()).select_from(statement.order_by(None).subquery())).one()
    rows = session.exec(statement.offset(window.offset).limit(window.size)).all()
    # Rows of several entities as plain tuples, so every list pages the same way.
    items = [tuple(row) if isinstance(row, Row) else row for row in rows]
    return Page(items=items, total=int(total), window=window)


_PG_KEY = re.compile(r"Key \(([^)]*)\)=")
_SQLITE_KEY = re.compile(r"UNIQUE constraint failed: (.*)")


def unique_columns(exc: IntegrityError) -> set[str]:
    """The columns of the unique constraint ``exc`` broke (empty when it was another kind)."""
    message = str(exc.orig)
    found = _PG_KEY.search(message) or _SQLITE_KEY.search(message)
    if found is None:
        return set()
    return {part.strip().rsplit(".", 1)[-1] for part in found.group(1).split(",")}


def flush_unique(session: Session, fields: Mapping[str, str]) -> None:
    """Flush; if a racing request took one of the unique values first, roll back and raise
    ``Taken`` naming the form field (``fields`` maps a column to its field).

    The service checked the value was free, but so did the racing request: the database's
    unique index decides. The transaction cannot go on after the failed INSERT, and the
    request writes nothing else, so it is rolled back here: the form page can still read."""
    try:
        session.flush()
    except IntegrityError as exc:
        taken = {fields[c]: "taken" for c in unique_columns(exc) if c in fields}
        if not taken:
            raise
        session.rollback()
        raise Taken("already registered", fields=taken) from None


def on_rollback(callback: Callable[[], None]) -> None:
    """Run ``callback`` if the request's transaction does not commit (e.g. delete a stored file)."""
    g.setdefault("after_rollback", []).append(callback)


def on_commit(callback: Callable[[], None]) -> None:
    g.setdefault("after_commit", []).append(callback)
