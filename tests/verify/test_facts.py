"""A label's display facts kept on its batch row (registry/verify/facts.py): written in the
transaction of every service that changes them, filled by the migration that added them, and
what the verification page shows."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from test_journey import ship_and_confirm
from verify_support import path_of, signed_labels

from conftest import World, database_at
from registry.accounts.models import Organisation
from registry.audit.models import AuditEvent
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Document
from registry.clock import today
from registry.db import migrate
from registry.plots import services as plots
from registry.plots.models import Plot
from registry.review.models import Decision
from registry.shipments.models import Shipment
from registry.verify import facts


def kept(db: Session, batch_id: int) -> list[object]:
    value = db.connection().execute(
        text("SELECT verify_facts FROM batch WHERE id = :id"), {"id": batch_id}).scalar_one()
    return json.loads(value)


def test_every_service_that_changes_a_fact_keeps_the_batch_row_up_to_date(
        app: Flask, world: World, db: Session) -> None:
    batch = world.batch_a
    first = world.attach_evidence(batch, world.exporter_a, kind="halal", is_public=True)
    world.submit(batch, world.exporter_a)
    assert not kept(db, batch.id)[1] or [d[1] for d in kept(db, batch.id)[1]] == ["halal"]
    world.decide(batch, world.officer_ntb, Action.REJECT, reason="Certificate unreadable")
    decisions, documents, _shipments, has_plots = kept(db, batch.id)
    assert not decisions  # a rejection is not a fact a label shows
    assert [d[0] for d in documents] == [first.id] and has_plots

    # The exporter mends the rejected batch: documents and plots change while it is not a draft.
    catalog.remove_document(db, world.exporter_a, batch.id, first.id)
    db.commit()
    assert not kept(db, batch.id)[1]
    plots.remove_plot(db, world.exporter_a, batch.id, world.plot_a.id)
    db.commit()
    assert not kept(db, batch.id)[3]
    world.add_plot(batch, world.exporter_a)
    second = world.attach_evidence(batch, world.exporter_a, kind="halal", is_public=True)
    db.commit()
    assert [d[0] for d in kept(db, batch.id)[1]] == [second.id] and kept(db, batch.id)[3]

    uri = signed_labels(app, world, db, quantity=1)[0]  # submitted again and approved
    http = app.test_client()

    def page() -> str:
        answer = http.get(path_of(uri) + "&lang=en")
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    decisions = kept(db, batch.id)[0]
    assert [(d[1], d[3]) for d in decisions] == [("approve", "Office 52")]
    assert "Certified by" in page() and "Plot geolocation is on record" in page()
    assert f'href="/verify/documents/{second.id}"' in page()

    ship_and_confirm(world, db, passage=today() - dt.timedelta(days=1))
    assert [s[3] for s in kept(db, batch.id)[2]] == ["NLRTM"]  # the declared one is not told
    assert "Shipped to Rotterdam (NLRTM)" in page()

    world.decide(batch, world.officer_ntb, Action.SUSPEND, reason="Residue test pending")
    assert [d[1] for d in kept(db, batch.id)[0]] == ["approve", "suspend"]
    assert "Residue test pending" in page()
    assert facts.stale(db.connection()) == []


def test_a_rolled_back_change_leaves_the_facts_as_they_were(world: World,
                                                           db: Session) -> None:
    batch = world.batch_b
    before = kept(db, batch.id)
    world.attach_evidence(batch, world.exporter_b, kind="halal", is_public=True)
    assert kept(db, batch.id) != before  # flushed: the same transaction sees it
    db.rollback()
    assert kept(db, batch.id) == before


def test_a_table_written_around_the_session_shows_as_stale(
        app: Flask, world: World, db: Session) -> None:
    signed_labels(app, world, db, quantity=1)
    db.connection().execute(text("DELETE FROM plot WHERE batch_id = :id"),
                            {"id": world.batch_a.id})
    assert facts.stale(db.connection()) == [world.batch_a.id]
    facts.refresh(db.connection(), [world.batch_a.id])
    assert facts.stale(db.connection()) == []


def _bulk(world: World, table: str) -> Any:
    batch = world.batch_a.id
    return {
        "decision": lambda: update(Decision).where(col(Decision.batch_id) == batch)
        .values(reason="Set by hand"),
        "document": lambda: update(Document).where(col(Document.batch_id) == batch)
        .values(number="PC-2026-0001"),
        "shipment": lambda: update(Shipment).where(col(Shipment.batch_id) == batch)
        .values(destination_locode="JPTYO"),
        "plot": lambda: delete(Plot).where(col(Plot.batch_id) == batch),
        "organisation": lambda: update(Organisation)
        .where(col(Organisation.id) == world.offices["52"].id)
        .values(name="Dinas Perdagangan NTB"),
    }[table]()


@pytest.mark.parametrize("table", ["decision", "document", "shipment", "plot",
                                   "organisation"])
def test_a_bulk_statement_on_a_fact_table_must_say_how_the_facts_follow(
        app: Flask, world: World, db: Session, table: str) -> None:
    # ``session.execute(update(...))`` passes no flush: before the guard, the label's page
    # kept its old facts without a word (test_raw_codes set a certificate's number so).
    uri = signed_labels(app, world, db, quantity=1)[0]
    with pytest.raises(facts.BulkFactsWrite, match=f"bulk statement on {table}"):
        db.execute(_bulk(world, table))
    db.rollback()
    assert facts.stale(db.connection()) == []

    # Said: written, and the caller's refresh puts the label right in the same transaction.
    db.execute(_bulk(world, table).execution_options(**{facts.FACTS_REFRESHED: True}))
    if table in ("decision", "plot", "organisation"):  # facts batch A's label shows
        assert facts.stale(db.connection()) == [world.batch_a.id]
    facts.refresh(db.connection(), [world.batch_a.id])
    db.commit()
    assert facts.stale(db.connection()) == []
    if table == "organisation":
        page = app.test_client().get(path_of(uri) + "&lang=en").get_data(as_text=True)
        assert "Dinas Perdagangan NTB" in page


SCHEMA = "migration_0033"


@pytest.fixture
def old_registry(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with database_at(database_url, tmp_path, "0032", SCHEMA) as registry:
        yield registry


def test_the_migration_fills_the_facts_of_existing_batches(
        old_registry: tuple[str, Engine]) -> None:
    url, engine = old_registry
    with engine.begin() as conn:
        for org, kind, name in ((1, "exporter", "Company A"), (2, "trade_office", "Office 52")):
            conn.execute(text("INSERT INTO organisation (id, kind, name, address, created_at) "
                              "VALUES (:id, :kind, :name, '', CURRENT_TIMESTAMP)"),
                         {"id": org, "kind": kind, "name": name})
        conn.execute(text(
            "INSERT INTO \"user\" (id, email, name, password_hash, role, status, "
            "organisation_id, session_nonce, created_at) VALUES (1, 'o@test.id', 'Officer', "
            "'x', 'officer', 'active', 2, 'n', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO product (id, organisation_id, name_id, name_en, category, hs_code, "
            "description, created_at) VALUES (1, 1, 'Madu', 'Honey', 'agriculture', '040900', "
            "'', CURRENT_TIMESTAMP)"))
        for bid, status in ((1, "approved"), (2, "draft")):
            conn.execute(text(
                "INSERT INTO batch (id, organisation_id, product_id, lot_code, quantity, unit, "
                "production_date, origin_regency_code, origin_province_code, producer, hub, "
                "destination_country, declared_value_idr, status, version, created_at) VALUES "
                "(:id, 1, 1, :lot, 10, 'kg', '2026-01-01', '52.04', '52', 'Koperasi', "
                "'benoa', 'NL', 1000, :status, 1, CURRENT_TIMESTAMP)"),
                {"id": bid, "lot": f"LOT-{bid}", "status": status})
        # Approved at 23:30 UTC on 1 March: 2 March in WITA, the day the office decided.
        conn.execute(text(
            "INSERT INTO decision (id, batch_id, officer_id, office_id, action, from_status, "
            "to_status, reason, created_at) VALUES (1, 1, 1, 2, 'approve', 'submitted', "
            "'approved', '', :at)"),
            {"at": dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)})
    migrate.upgrade(url, "0033")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, verify_facts FROM batch")).all())
    decisions, documents, shipments, has_plots = json.loads(rows[1])
    assert decisions == [[1, "approve", "2026-03-02", "Office 52", ""]]
    assert not documents and not shipments and not has_plots  # SQLite [], PostgreSQL null
    assert not any(json.loads(rows[2]))  # a draft: filled too, with nothing yet


def test_an_office_renamed_is_renamed_on_the_labels_it_certified(
        app: Flask, world: World, db: Session) -> None:
    uri = signed_labels(app, world, db, quantity=1)[0]
    office = world.offices["52"]
    office.name = "Dinas Perdagangan NTB"
    db.add(office)
    db.commit()
    assert kept(db, world.batch_a.id)[0][0][3] == "Dinas Perdagangan NTB"
    page = app.test_client().get(path_of(uri) + "&lang=en").get_data(as_text=True)
    assert "Dinas Perdagangan NTB" in page and "Office 52" not in page


def test_the_refresh_command_puts_right_what_was_written_around_the_services(
        app: Flask, world: World, db: Session) -> None:
    signed_labels(app, world, db, quantity=1)
    db.connection().execute(text("DELETE FROM plot WHERE batch_id = :id"),
                            {"id": world.batch_a.id})
    db.commit()
    runner = app.test_cli_runner()
    check = runner.invoke(args=["facts", "refresh", "--check"])
    assert check.exit_code == 1 and f"1 batches with stale verification facts: " \
        f"{world.batch_a.id}" in check.output
    done = runner.invoke(args=["facts", "refresh"])
    assert done.exit_code == 0 and "(1 were stale)" in done.output, done.output
    assert runner.invoke(args=["facts", "refresh", "--check"]).exit_code == 0
    db.expire_all()
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "facts.refresh")).one()
    assert json.loads(event.after or "") == {"stale": 1}


def test_two_facts_added_to_one_batch_at_once_both_reach_its_row(
        world: World, db: Session, engine: Engine) -> None:
    """Each document in its own transaction and thread; the second flushes while the first
    holds the batch's row, and commits after it."""
    batch_id, user_id = world.batch_b.id, world.exporter_b.id
    first_flushed, errors = threading.Event(), []

    def add(name: str, hold: float) -> None:
        try:
            with Session(engine) as s:
                if name == "second":
                    first_flushed.wait(timeout=10)
                s.add(Document(batch_id=batch_id, kind="halal", original_name=f"{name}.pdf",
                               stored_name=f"{name}-{batch_id}", content_type="application/pdf",
                               size=1, sha256=name * 8, is_public=True, uploaded_by=user_id))
                s.flush()
                if name == "first":
                    first_flushed.set()
                time.sleep(hold)  # the second's flush meanwhile waits for this transaction
                s.commit()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=add, args=("first", 1.0)),
               threading.Thread(target=add, args=("second", 0.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    db.rollback()
    assert sorted(d[2] for d in kept(db, batch_id)[1]) == ["first" * 8, "second" * 8]
