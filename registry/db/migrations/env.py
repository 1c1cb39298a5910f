"""Alembic environment: the target metadata is every SQLModel table of the registry."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import registry.db.models  # noqa: F401  (registers every table on the metadata)
from registry.db import make_engine
from registry.db.migrate import migration_lock

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        # A caller handing in its own connection owns its transaction, and so its locking
        # (nothing in the registry does; db upgrade and the tests come through the URL).
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn, migration_lock(conn):
            # Locked before Alembic reads the version table: a second upgrade running at
            # the same time (a rolling deploy) waits, then finds the schema at head.
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for ALTER
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
