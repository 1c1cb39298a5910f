"""The database without the web: engine, paging in SQL, unique-key races, transaction hooks.

Services receive a session and only flush; whoever opened it commits once (the request in
``registry.web.database``, a command, the worker), so a state change and its audit event share
one transaction. Nothing here imports Flask: services import this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import event, func
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, create_engine, select

from registry.db.paging import Page, Window
from registry.exceptions import Taken

# Primary keys are INTEGER columns: 32-bit on PostgreSQL, 64-bit on SQLite. The one bound of an
# id (and of other integers the API takes) in URLs, forms and the API's schemas.
MAX_ID = 2**31 - 1


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
            # Figures join a year of decisions to their batches by primary key, and every scan
            # looks a label up by index: with SQLite's default 2 MB page cache each page is a
            # read() call, and after every write (the scan buffer's, every 2 s) a connection's
            # cache starts empty again. Memory-mapped pages cost neither: the whole file is
            # mapped (SQLite caps the size at its build's limit, 2 GB for Debian's), and the
            # pages are the kernel's page cache, shared by every process. Measured: a label's
            # page ~5 % less CPU in one process than with 256 MB (bench/verify.py, README).
            cur.execute("PRAGMA mmap_size=68719476736")
            cur.execute("PRAGMA cache_size=-32768")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def fetch_page(session: Session, statement: Any, window: Window,
               count_ahead: int | None = None, *, counted_with_page: bool = False) -> Page[Any]:
    """One page of ``statement``'s rows and the count of all of them, both in SQL.
    ``statement`` must order its rows totally (end with a unique column), or rows may repeat
    or go missing between pages.

    ``count_ahead``: count only up to that many rows past the page's start, in the list's own
    order (the database stops there), for lists whose every row costs a test to count; the
    page then says ``more`` when rows follow beyond.

    ``counted_with_page``: the count rides on the page's own rows (``count(*) OVER ()``), for
    lists whose every row costs the same work to count as to show (a grouping of all its rows
    before the first is known): one statement instead of two. Column rows only; an empty
    page (past the end) is counted on its own."""
    if counted_with_page:
        rows = session.exec(statement.add_columns(func.count().over())
                            .offset(window.offset).limit(window.size)).all()
        total = int(rows[0][-1]) if rows else _count(session, statement)
        return Page(items=[tuple(row)[:-1] for row in rows], total=total, window=window)
    if count_ahead is None:
        total = _count(session, statement)
        more = False
    else:
        cap = window.offset + count_ahead
        counted = session.exec(
            select(func.count()).select_from(statement.limit(cap + 1).subquery())).one()
        more, total = counted > cap, min(counted, cap)
    rows = session.exec(statement.offset(window.offset).limit(window.size)).all()
    # Rows of several entities as plain tuples, so every list pages the same way.
    items = [tuple(row) if isinstance(row, Row) else row for row in rows]
    return Page(items=items, total=int(total), window=window, more=more)


def _count(session: Session, statement: Any) -> int:
    return int(session.exec(
        select(func.count()).select_from(statement.order_by(None).subquery())).one())


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


def on_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` if ``session``'s transaction rolls back instead of committing (e.g.
    delete a file stored for a row that is not kept)."""
    _in_transaction(session).info.setdefault(_AFTER_ROLLBACK, []).append(callback)


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``session``'s transaction has committed (e.g. delete a file the
    committed change no longer refers to: never before, a failed request must still find it)."""
    _in_transaction(session).info.setdefault(_AFTER_COMMIT, []).append(callback)


def _in_transaction(session: Session) -> Session:
    # A hook set before the session's first statement still belongs to a transaction, so
    # that transaction's end runs it.
    if not session.in_transaction():
        session.begin()
    return session


# The hooks live on the session, not on Flask's ``g``: services, commands and the worker tie a
# file to a transaction the same way, and the request merely commits or rolls back. They follow
# the session's outermost transaction: commit runs the commit hooks; any other end (rollback,
# a COMMIT the database refused, close without commit) runs the rollback hooks. A savepoint's
# end is not the transaction's.
_AFTER_COMMIT, _AFTER_ROLLBACK = "registry.after_commit", "registry.after_rollback"


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_ROLLBACK, None)
    for callback in session.info.pop(_AFTER_COMMIT, []):
        callback()


@event.listens_for(Session, "after_transaction_end")
def _run_after_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(_AFTER_COMMIT, None)
    for callback in session.info.pop(_AFTER_ROLLBACK, []):
        callback()


# The verification facts' flush hook (on every session, as the hooks above): a batch's display
# facts are kept on its row in the transaction that changes them (registry/verify/facts.py).
from registry.verify import facts as _verify_facts  # noqa: E402,F401
