"""The request's database session: opened on first use, committed once after the view.

The request commits in ``after_request`` when the answer is not an error and rolls back
otherwise (or on any exception), so a state change and its audit event share one transaction;
``registry.db``'s transaction hooks (file cleanup) fire on that commit or rollback.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy.engine import Engine
from sqlmodel import Session
from werkzeug.routing import Map
from werkzeug.routing.converters import IntegerConverter

from registry.db import MAX_ID, make_engine
from registry.exceptions import ValidationError


class IdConverter(IntegerConverter):
    """``<int:...>`` in a URL, bounded to what an id column holds.

    Werkzeug's converter accepts any number of digits; looking up 10**30 then fails in the
    driver (SQLite and psycopg overflow) and became a 500. Out of range is simply no match: 404.
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


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


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = open_session(current_app)
    return g.db_session


def open_session(app: Flask) -> Session:
    """A session of ``app``: on its engine, carrying what the app's parts put in
    ``app.extensions["session_info"]`` (e.g. where a mail goes once the session commits).
    The request's, and a worker's or a command's that commits by itself."""
    return Session(app.extensions["engine"], expire_on_commit=False,
                   info=dict(app.extensions.get("session_info", {})))


def engine() -> Engine:
    return current_app.extensions["engine"]
