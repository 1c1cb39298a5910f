"""A stored file follows the transaction of the row that refers to it, in a request or not
(``registry.db.on_commit`` / ``on_rollback``, ``registry.files.put_in_transaction`` /
``delete_after_commit``): the worker and the commands tie files to a session as views do."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from registry.files import LocalFileStore, delete_after_commit, put_in_transaction


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(str(tmp_path / "files"))


def names(store: LocalFileStore) -> list[str]:
    return sorted(path.name for path in store.directory.iterdir())


def test_a_put_is_kept_when_the_transaction_commits(engine: Engine,
                                                    store: LocalFileStore) -> None:
    with Session(engine) as session:
        session.connection().execute(text("SELECT 1"))
        put_in_transaction(session, store, "kept.pdf", b"%PDF", "application/pdf")
        session.commit()
    assert names(store) == ["kept.pdf"]


@pytest.mark.parametrize("end", ["rollback", "close", "failed statement"])
def test_a_put_goes_again_when_the_transaction_does_not_commit(
        engine: Engine, store: LocalFileStore, end: str) -> None:
    session = Session(engine)
    put_in_transaction(session, store, "orphan.pdf", b"%PDF", "application/pdf")
    assert names(store) == ["orphan.pdf"]
    if end == "rollback":
        session.rollback()
    elif end == "failed statement":
        with pytest.raises((OperationalError, ProgrammingError)):
            session.connection().execute(text("SELECT nothing FROM no_such_table"))
        session.rollback()
    session.close()
    assert names(store) == []


def test_a_savepoint_rolled_back_does_not_end_the_transaction(
        engine: Engine, store: LocalFileStore) -> None:
    with Session(engine) as session:
        put_in_transaction(session, store, "a.pdf", b"%PDF", "application/pdf")
        nested = session.begin_nested()
        nested.rollback()
        assert names(store) == ["a.pdf"]
        session.commit()
    assert names(store) == ["a.pdf"]


def test_a_delete_waits_for_the_commit(engine: Engine, store: LocalFileStore) -> None:
    store.put("old.pdf", b"%PDF", "application/pdf")
    with Session(engine) as session:
        delete_after_commit(session, store, "old.pdf")
        session.rollback()  # the change that dropped it did not happen: still needed
    assert names(store) == ["old.pdf"]
    with Session(engine) as session:
        delete_after_commit(session, store, "old.pdf")
        assert names(store) == ["old.pdf"]
        session.commit()
    assert names(store) == []


def test_hooks_run_once(engine: Engine, store: LocalFileStore) -> None:
    with Session(engine) as session:
        put_in_transaction(session, store, "a.pdf", b"%PDF", "application/pdf")
        session.commit()
        store.put("b.pdf", b"%PDF", "application/pdf")
        session.rollback()  # a later transaction of the same session: no old hook left
    assert names(store) == ["a.pdf", "b.pdf"]
