"""A label's verification facts, kept on its batch row (``batch.verify_facts``).

The verification page shows, besides the batch's own columns, the office and day of its
latest approval (and the reason of a revocation or suspension), its public documents, the
shipments the Bali office confirmed, and whether production plots are on record. Read on
every scan, those were four correlated subqueries over four tables; kept here as one JSON
array text, a scan reads them with the batch row (issue 14: the page and its database cost
per scan). They are display facts only: the verdict comes from the batch's own status and
dates, read live.

They are written by a flush hook, in the flush (so the transaction) that changed them: any
decision, document, shipment or plot written, changed or deleted through a session, and any
office renamed, refreshes its batches from the source tables with the statement below, the
one definition of what the facts are. ``refresh_all`` fills every batch (the migration that
added the column, and loaders that write the tables directly, such as ``bench/verify.py``).
Nothing here imports a model or Flask: the hook knows the tables by name, so the engine
module can install it without an import cycle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session

# [decisions, public documents, confirmed shipments, plots on record] as JSON text.
# ``action || ''`` keeps SQLite on the batch's own decisions: with a bare ``action =`` it may
# walk the figures' (action, created_at) index over every approval in the registry. SQLite's
# ``json()`` keeps a subquery's array an array inside ``json_array`` (a subquery's result
# loses its JSON subtype and would be quoted as a string).
_FACTS = """CAST({arr}(
  {json}((SELECT {agg}({arr}(d.id, d.action, {day}, f.name, d.reason))
            FROM decision d LEFT JOIN organisation f ON f.id = d.office_id
           WHERE d.batch_id = batch.id AND d.action || '' IN ('approve', 'revoke', 'suspend'))),
  {json}((SELECT {agg}({arr}(x.id, x.kind, x.sha256, x.uploaded_at, x.number, x.issuer,
                             x.issued_on, x.expires_on, x.form_type, x.scheme))
            FROM document x WHERE x.batch_id = batch.id AND x.is_public)),
  {json}((SELECT {agg}({arr}(sh.id, sh.hub, sh.passage_date, sh.destination_locode))
            FROM shipment sh WHERE sh.batch_id = batch.id AND sh.status = 'confirmed')),
  EXISTS (SELECT 1 FROM plot p WHERE p.batch_id = batch.id)) AS TEXT)"""
# A decision's day is its date in WITA (UTC+8 all year, no daylight saving), where the offices
# decide: an approval at 05:42 WITA on 2 December was certified on 2 December.
_DIALECT = {
    "sqlite": {"agg": "json_group_array", "arr": "json_array", "json": "json",
               "day": "date(substr(d.created_at, 1, 19), '+8 hours')"},
    "postgresql": {"agg": "json_agg", "arr": "json_build_array", "json": "",
                   "day": "to_char(d.created_at AT TIME ZONE 'Asia/Makassar', 'YYYY-MM-DD')"},
}
# The tables whose rows are facts of their ``batch_id``'s label.
_FACT_TABLES = frozenset({"decision", "document", "shipment", "plot"})
# The execution option by which a bulk statement on a fact table says that its caller
# refreshes the facts it changes (``refresh``): see ``_refuse_bulk_writes``.
FACTS_REFRESHED = "verify_facts_refreshed_by_caller"


class BulkFactsWrite(RuntimeError):
    """A bulk INSERT, UPDATE or DELETE on a fact table through a session, which no flush
    sees: the labels' facts would go stale without a word."""


def _expression(dialect: str) -> str:
    return _FACTS.format(**_DIALECT[dialect])


def _update(dialect: str, where: str) -> str:
    # Our own statement text and a fixed WHERE: no value of anyone's in it.
    return f"UPDATE batch SET verify_facts = {_expression(dialect)} {where}"  # noqa: S608


def refresh(connection: Connection, batch_ids: Iterable[int]) -> None:
    """Recompute the facts of ``batch_ids`` from the source tables.

    On PostgreSQL the rows are locked first, by a statement of their own: an UPDATE that
    waits for another transaction's lock on the row computes its new value from the snapshot
    it started with (READ COMMITTED), so two transactions adding facts to one batch at once
    would each write what the other did not see, and the last commit would lose the first's
    fact. Once the lock is held, the UPDATE, a new statement, sees every commit before it.
    SQLite runs one writer at a time."""
    ids = sorted(set(batch_ids))
    if not ids:
        return
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT id FROM batch WHERE id IN :ids ORDER BY id FOR UPDATE"
                                ).bindparams(bindparam("ids", expanding=True)), {"ids": ids})
    statement = text(_update(dialect, "WHERE id IN :ids")).bindparams(
        bindparam("ids", expanding=True))
    connection.execute(statement, {"ids": ids})


def refresh_all(connection: Connection) -> None:
    """Recompute the facts of every batch (a draft's too: the hook keeps those as well, so
    every batch's facts are current, whatever its status)."""
    connection.execute(text(_update(connection.dialect.name, "")))


def stale(connection: Connection) -> list[int]:
    """The batches whose kept facts differ from their source tables: none, unless something
    wrote those tables around a session (a test of the hook, an operator's check)."""
    rows = connection.execute(text(
        f"SELECT id, verify_facts, {_expression(connection.dialect.name)} "  # noqa: S608
        "FROM batch ORDER BY id"))
    # NULL is a batch the hook never had cause to fill (a draft with no documents or plots
    # yet): no facts, as the lookup reads it.
    out = []
    for batch_id, kept, fresh in rows:
        now = json.loads(fresh)
        if (any(now) if kept is None else json.loads(kept) != now):
            out.append(batch_id)
    return out


def _decided_by(connection: Connection, office_ids: set[int]) -> set[int]:
    statement = text("SELECT DISTINCT batch_id FROM decision WHERE office_id IN :ids"
                     ).bindparams(bindparam("ids", expanding=True))
    return {row[0] for row in connection.execute(statement, {"ids": sorted(office_ids)})}


@event.listens_for(Session, "after_flush")
def _refresh_changed(session: Session, _context: Any) -> None:
    # ``new``, ``dirty`` and ``deleted`` still hold what this flush wrote.
    batch_ids: set[int] = set()
    offices: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in _FACT_TABLES:
            batch_ids.add(obj.batch_id)
            # A row moved to another batch leaves facts behind on the one it left.
            history = inspect(obj).attrs.batch_id.history
            batch_ids.update(history.deleted or ())
        elif table == "organisation" and inspect(obj).attrs.name.history.deleted:
            offices.add(obj.id)  # an office's name is on the decisions it made
    batch_ids.discard(None)
    if not batch_ids and not offices:
        return
    connection = session.connection()
    if offices:
        batch_ids |= _decided_by(connection, offices)
    refresh(connection, batch_ids)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_writes(state: ORMExecuteState) -> None:
    # ``session.execute(update(Decision)...)`` writes around the flush, so the hook above never
    # sees it and every label of those batches would show yesterday's facts. Which batches
    # such a statement touches is not known before it runs (its WHERE may name any column),
    # so it must say how the facts follow: refresh them itself (``refresh``) and pass
    # ``FACTS_REFRESHED``. Text SQL is not inspected (``flask facts refresh [--check]``).
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    touches_facts = table in _FACT_TABLES or (table == "organisation" and state.is_update)
    if touches_facts and not state.execution_options.get(FACTS_REFRESHED):
        raise BulkFactsWrite(
            f"a bulk statement on {table} leaves the labels' verification facts stale: "
            f"write through the session's objects, or refresh the batches' facts "
            f"(registry.verify.facts.refresh) and pass "
            f"execution_options({FACTS_REFRESHED}=True)")
