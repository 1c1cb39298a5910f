"""Engine and the request-scoped session.

Services receive the session and only flush; the request commits once in ``after_request``
(or rolls back on any error), so a state change and its audit event share one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


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
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def init_app(app: Flask) -> None:
    app.extensions["engine"] = make_engine(app.config["DATABASE_URL"])

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


def on_rollback(callback: Callable[[], None]) -> None:
    """Run ``callback`` if the request's transaction does not commit (e.g. delete a stored file)."""
    g.setdefault("after_rollback", []).append(callback)


def on_commit(callback: Callable[[], None]) -> None:
    g.setdefault("after_commit", []).append(callback)
