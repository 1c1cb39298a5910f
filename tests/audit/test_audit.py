"""The audit chain: every change leaves an event, and tampering is detected by the command."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text
from sqlmodel import Session, select

from conftest import Client, World
from registry.audit.models import AuditEvent
from registry.audit.services import verify_chain
from registry.catalog.certification import Action


def insider(db: Session) -> None:
    """The tests below edit the stored rows as someone holding the database would: on
    PostgreSQL that needs a superuser to switch off the append-only trigger (migration 0013)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL session_replication_role = replica"))


def _verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def test_intact_chain_verifies(app: Flask, world: World) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    code, output = _verify(app)
    assert code == 0, output
    assert "intact" in output


def test_editing_a_row_is_detected(app: Flask, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    target = db.exec(select(AuditEvent).where(AuditEvent.action == "batch.approve")).one()
    # An insider edits the stored row directly in the database, hiding who approved.
    insider(db)
    db.execute(text("UPDATE audit_event SET actor_label = 'someone.else@test.id' WHERE id = :i"),
               {"i": target.id})
    db.commit()
    code, output = _verify(app)
    assert code == 1
    assert f"#{target.seq}" in output and "altered" in output


def test_deleting_a_row_is_detected(app: Flask, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    target = db.exec(select(AuditEvent).where(AuditEvent.action == "batch.submit")).one()
    insider(db)
    db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": target.id})
    db.commit()
    code, output = _verify(app)
    assert code == 1
    assert f"#{target.seq}" in output


def test_deleting_the_latest_row_is_detected(app: Flask, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    last = db.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    insider(db)
    db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": last.id})
    db.commit()
    assert _verify(app)[0] == 1


def test_rehashing_an_edited_row_still_breaks_the_next_link(world: World, db: Session) -> None:
    from registry.audit.services import event_hash

    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    events = db.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    insider(db)
    victim = events[-2]
    victim.actor_label = "forged@test.id"
    victim.hash = event_hash(victim)  # a careful forger recomputes the row's own hash
    db.add(victim)
    db.commit()
    report = verify_chain(db)
    assert not report.ok and report.broken_seq == events[-1].seq


def test_login_and_every_state_change_write_events(client: Client, world: World,
                                                   db: Session) -> None:
    world.attach_evidence(world.batch_a, world.exporter_a)
    db.commit()
    before = len(db.exec(select(AuditEvent)).all())
    client.login("a@test.id")
    client.post(f"/batches/{world.batch_a.id}/submit")
    db.expire_all()
    actions = [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()]
    assert actions[before:] == ["login", "batch.submit"]
    submit = db.exec(select(AuditEvent).where(AuditEvent.action == "batch.submit")).one()
    assert submit.actor_label == "a@test.id"
    assert '"status":"draft"' in (submit.before or "")
    assert '"status":"submitted"' in (submit.after or "")


def test_failed_login_is_recorded(client: Client, world: World, db: Session) -> None:
    client.post("/login", {"email": "a@test.id", "password": "wrong-password-123"})
    db.expire_all()
    failed = db.exec(select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert len(failed) == 1 and "a@test.id" in (failed[0].after or "")


def test_batch_page_shows_its_history(client: Client, world: World) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.REJECT, reason="missing halal cert")
    client.login("a@test.id")
    page = client.get(f"/batches/{world.batch_a.id}").get_data(as_text=True)
    for text_ in ("Batch registered", "Submitted for certification", "Rejected",
                  "missing halal cert", "officer.ntb@test.id"):
        assert text_ in page
