"""Part 7 of issue 11: an insider who rewrites an early event and recomputes every later hash
(and ``audit_head``) is caught by ``audit verify --checkpoint`` against checkpoints kept
outside the registry; on PostgreSQL the audit table refuses UPDATE and DELETE outright."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text
from sqlmodel import Session, select

from conftest import World
from registry.audit import AuditEvent, event_hash
from registry.certification import Action


def rewrite_history(db: Session, seq: int, actor_label: str) -> None:
    """What an insider with the database does: edit event ``seq`` and recompute the chain."""
    events = db.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    prev = events[seq - 2].hash if seq > 1 else "0" * 64
    for event in events[seq - 1:]:
        if event.seq == seq:
            event.actor_label = actor_label
        event.prev_hash = prev
        event.hash = event_hash(event)
        prev = event.hash
        db.execute(text("UPDATE audit_event SET actor_label = :a, prev_hash = :p, hash = :h "
                        "WHERE id = :i"),
                   {"a": event.actor_label, "p": event.prev_hash, "h": event.hash, "i": event.id})
    db.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": prev})
    db.commit()


def test_a_recomputed_rewrite_is_not_intact(app: Flask, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.submit(world.batch_b, world.exporter_b)
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)
    approval = db.exec(select(AuditEvent).where(AuditEvent.action == "batch.approve")
                       .order_by(AuditEvent.seq)).first()
    db.expunge_all()
    rewrite_history(db, approval.seq, "officer.ntt@test.id")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0, result.output
