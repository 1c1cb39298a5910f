"""The audit log's filters by time window, action and person, as migration 0034 serves them.

A time window is read between the first and last seq of its events (``listing.window_seqs``,
from the (created_at, seq) index), so a page walks seq within them. Times need not rise with
seq (two servers' clocks, a clock stepped back): the window must still hold exactly the events
whose time is in it, once each, newest first by seq. And on SQLite, which plans without
statistics, the filters by action, by person and by window must walk their index instead of
every event or a sort of all of an action's (README "Audit log": 1.6–4.9 s a page at 3 M
events before)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlmodel import Session, select

from conftest import World
from registry.audit import listing
from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.audit.tags import EventTag
from registry.db.paging import Window

T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
# Minutes after T0 at which each event is stamped, in the order they are appended (seq): mostly
# rising, with a server whose clock runs 40 minutes behind writing the 4th, 8th and 12th.
STAMPS = [0, 10, 20, -20, 30, 40, 50, 10, 60, 70, 80, 35, 90, 100]


@pytest.fixture
def skewed_trail(db: Session, world: World, monkeypatch: pytest.MonkeyPatch) -> list[AuditEvent]:
    """Events about batch A (NTB, submitted: its office reads them all) stamped with
    ``STAMPS``, actors alternating between its exporter and NTB's officer, actions alternating
    between an edit and an approval."""
    world.submit(world.batch_a, world.exporter_a)
    times = iter([T0 + dt.timedelta(minutes=m) for m in STAMPS])
    monkeypatch.setattr(audit, "utcnow", lambda: next(times))
    made = []
    for i, (actor, action) in enumerate(zip(
            itertools.cycle([world.exporter_a, world.officer_ntb]),
            itertools.cycle([EventTag.Batch.UPDATE, EventTag.Batch.APPROVE]))):
        if i == len(STAMPS):
            break
        made.append(audit.record(db, actor=actor, action=action, object_type="batch",
                                 object_id=world.batch_a.id))
    db.commit()
    monkeypatch.undo()
    return made


def listed(db: Session, scope: listing.LogScope, **filters: Any) -> list[int]:
    page = listing.event_page(db, scope, listing.LogFilter(**filters), Window(1, 1000))
    assert page.total == len(page.items)
    return [e.seq for e in page.items]


def stamp(db: Session, seq: int) -> dt.datetime:
    return db.exec(select(AuditEvent.created_at).where(AuditEvent.seq == seq)).one()


def minutes(m: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=m)


@pytest.mark.parametrize(("since", "until"), [
    (0, 45),      # the slow clock's -20 falls before it, its 10 and 35 inside
    (-30, 0),     # only the slow clock's first event, appended fourth
    (15, 36),     # 20, 30 and 35 (appended 11th), not the 40 between them
    (55, 101),    # the newest
    (101, 200),   # nothing: no error, no event
    (-60, 200),   # everything
])
def test_a_time_window_holds_exactly_its_events_whatever_their_seq(
        db: Session, world: World, skewed_trail: list[AuditEvent], since: int,
        until: int) -> None:
    ours = {e.seq for e in skewed_trail}
    expected = sorted((e.seq for e in db.exec(select(AuditEvent)).all()
                       if e.seq in ours and minutes(since) <= e.created_at < minutes(until)),
                      reverse=True)
    for scope in (listing.scope_for(db, world.admin), listing.scope_for(db, world.officer_ntb)):
        seen = [seq for seq in listed(db, scope, since=minutes(since), until=minutes(until))
                if seq in ours]
        assert seen == expected, scope
        # The rest of the trail (batch A's submission, the world's sign-ups) is today's: in
        # the window only when the window reaches today.
        everything = listed(db, scope)
        assert listed(db, scope, since=minutes(since), until=minutes(until)) == [
            seq for seq in everything if seq in seen or (
                seq not in ours and minutes(since) <= stamp(db, seq) < minutes(until))]
    # One side of the window alone works the same.
    admin = listing.scope_for(db, world.admin)
    assert [s for s in listed(db, admin, since=minutes(since)) if s in ours] == sorted(
        (e.seq for e in skewed_trail if e.created_at >= minutes(since)), reverse=True)
    assert [s for s in listed(db, admin, until=minutes(until)) if s in ours] == sorted(
        (e.seq for e in skewed_trail if e.created_at < minutes(until)), reverse=True)


def test_action_and_person_filters_with_a_window(db: Session, world: World,
                                                 skewed_trail: list[AuditEvent]) -> None:
    scope = listing.scope_for(db, world.officer_ntb)
    approvals = listed(db, scope, action=EventTag.Batch.APPROVE)
    assert approvals == sorted((e.seq for e in skewed_trail
                                if e.action == EventTag.Batch.APPROVE), reverse=True)
    by_exporter = listed(db, scope, actor="A@Test.id ")  # as typed into the form
    assert set(by_exporter) >= {e.seq for e in skewed_trail if e.actor_label == "a@test.id"}
    assert all(seq not in by_exporter for seq in
               (e.seq for e in skewed_trail if e.actor_label != "a@test.id"))
    both = listed(db, scope, action=EventTag.Batch.APPROVE, since=minutes(0),
                  until=minutes(45))
    assert both == sorted((e.seq for e in skewed_trail if e.action == EventTag.Batch.APPROVE
                           and minutes(0) <= e.created_at < minutes(45)), reverse=True)
    # One object in a window: found through the object's index, without the window's seqs.
    batch = listed(db, scope, object_type="batch", object_id=str(world.batch_a.id),
                   since=minutes(0), until=minutes(45))
    assert [seq for seq in batch if seq in {e.seq for e in skewed_trail}] == sorted(
        (e.seq for e in skewed_trail if minutes(0) <= e.created_at < minutes(45)),
        reverse=True)


def statements_of(app: Flask, db: Session, scope: listing.LogScope,
                  filters: dict[str, Any]) -> list[tuple[str, Any]]:
    """The SQL ``event_page`` sends for page 1 of ``filters`` in ``scope``."""
    engine = app.extensions["engine"]
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        listing.event_page(db, scope, listing.LogFilter(**filters), Window(1, 50))
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return sent


def plan_of(db: Session, statement: str, parameters: Any) -> str:
    return " / ".join(str(row[-1]) for row in db.connection().exec_driver_sql(
        "EXPLAIN QUERY PLAN " + statement, parameters).all())


def test_sqlite_walks_an_index_for_each_filter(app: Flask, db: Session, world: World,
                                               skewed_trail: list[AuditEvent]) -> None:
    if app.extensions["engine"].dialect.name != "sqlite":
        pytest.skip("a SQLite query plan (PostgreSQL plans from statistics)")
    expected = {
        "action": ("ix_audit_event_action_seq", {"action": EventTag.Batch.APPROVE}),
        "person": ("ix_audit_event_actor_label_seq", {"actor": "a@test.id"}),
        "window": ("ix_audit_event_seq", {"since": minutes(0), "until": minutes(45)}),
    }
    for name, (index, filters) in expected.items():
        for scope in (listing.scope_for(db, world.admin),
                      listing.scope_for(db, world.officer_ntb)):
            sent = statements_of(app, db, scope, filters)
            pages = [(s, p) for s, p in sent if "ORDER BY audit_event.seq DESC" in s
                     and "OFFSET" in s and "count(" not in s]
            assert len(pages) == 1, (name, sent)
            plan = plan_of(db, *pages[0])
            assert f"USING INDEX {index} " in plan, (name, plan)
            assert "TEMP B-TREE FOR ORDER BY" not in plan, (name, plan)
            if name == "window":
                bounds = next((s, p) for s, p in sent if "min(" in s)
                assert "COVERING INDEX ix_audit_event_created_seq" in plan_of(db, *bounds)
