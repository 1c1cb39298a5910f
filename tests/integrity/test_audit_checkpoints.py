"""Part 7 of issue 11: an insider who rewrites an early event (an approval, to name another
officer) and recomputes every later hash and ``audit_head`` made ``audit verify`` answer
"intact". Signed checkpoints kept outside the registry catch it: ``audit verify --checkpoint``
exits non-zero and names the first event that does not extend them. On PostgreSQL the audit
tables refuse UPDATE and DELETE outright."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from conftest import World
from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.audit.services import event_hash
from registry.catalog.certification import Action
from registry.checkpoints.keydir import AuditKeyFolder
from registry.checkpoints.keys import AuditKeyStore
from registry.checkpoints.note import NoteSigner, VerifierKey, open_checkpoint
from registry.checkpoints.services import make_checkpoint


def cli(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["audit", *args])


def insider(db: Session) -> None:
    """Whoever holds the database: on PostgreSQL a superuser switches the append-only
    trigger off for the transaction; no application role can."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL session_replication_role = replica"))


def rewrite_history(db: Session, seq: int, actor_label: str) -> None:
    """Edit event ``seq`` and recompute every later link and hash, and the head."""
    db.expunge_all()
    events = db.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    db.expunge_all()
    insider(db)
    prev = events[seq - 2].hash if seq > 1 else "0" * 64
    for event in events[seq - 1:]:
        if event.seq == seq:
            event.actor_label = actor_label
        event.hash = event_hash(event, prev_hash=prev)
        db.execute(text("UPDATE audit_event SET actor_label = :a, prev_hash = :p, hash = :h "
                        "WHERE id = :i"),
                   {"a": event.actor_label, "p": prev, "h": event.hash, "i": event.id})
        prev = event.hash
    db.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": prev})
    db.commit()


def keep_checkpoint(app: Flask, office: Path, name: str) -> str:
    """What an office does each day: fetch the published checkpoint and keep the file."""
    result = cli(app, "checkpoint")
    assert result.exit_code == 0, result.output + result.stderr
    note = app.test_client().get("/.well-known/audit-checkpoint").get_data(as_text=True)
    assert note == result.stdout
    office.mkdir(exist_ok=True)
    (office / name).write_text(note, "utf-8")
    return note


def events(db: Session) -> int:
    db.expire_all()
    return len(db.exec(select(AuditEvent)).all())


def approval_seq(db: Session, officer: str) -> int:
    db.expire_all()
    return db.exec(select(AuditEvent.seq).where(AuditEvent.action == "batch.approve",
                                                AuditEvent.actor_label == officer)).one()


@pytest.fixture
def office(tmp_path: Path) -> Path:
    return tmp_path / "office-ntb-checkpoints"


def test_a_recomputed_rewrite_fails_against_kept_checkpoints(app: Flask, world: World,
                                                             db: Session, office: Path) -> None:
    world.submit(world.batch_a, world.exporter_a)
    keep_checkpoint(app, office, "day-1")
    before_approval = events(db)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    world.submit(world.batch_b, world.exporter_b)
    world.decide(world.batch_b, world.officer_ntt, Action.APPROVE)
    keep_checkpoint(app, office, "day-2")
    vkey = app.test_client().get("/.well-known/audit-key").get_data(as_text=True).strip()
    assert cli(app, "verify", "--checkpoint", str(office), "--key", vkey).exit_code == 0

    seq = approval_seq(db, "officer.ntb@test.id")
    assert seq == before_approval + 1
    rewrite_history(db, seq, "officer.ntt@test.id")

    # The chain alone still recomputes: this is what the issue found ...
    plain = cli(app, "verify")
    assert plain.exit_code == 0 and "intact" in plain.output
    # ... and what the kept checkpoints catch, naming where the rewrite begins.
    result = cli(app, "verify", "--checkpoint", str(office), "--key", vkey)
    assert result.exit_code == 1, result.output
    size = events(db)
    assert f"does NOT extend the checkpoint of size {size}" in result.stderr
    assert f"first event that does not extend the kept checkpoints: #{seq} " in result.stderr
    assert f"events #{seq}..#{size}" in result.stderr
    assert "intact" not in result.stdout
    # The registry refuses to sign the rewritten history as its next checkpoint.
    refused = cli(app, "checkpoint")
    assert refused.exit_code != 0 and "does not extend" in refused.stderr


def test_checkpoints_kept_after_every_event_name_the_changed_event(
        app: Flask, world: World, db: Session, office: Path) -> None:
    # A file holding many checkpoints, as an office that keeps each one appends them.
    notes = []
    world.submit(world.batch_a, world.exporter_a)
    notes.append(keep_checkpoint(app, office, "latest"))
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    notes.append(keep_checkpoint(app, office, "latest"))
    world.submit(world.batch_b, world.exporter_b)
    notes.append(keep_checkpoint(app, office, "latest"))
    (office / "latest").unlink()
    history = office / "all-checkpoints.txt"
    history.write_text("\n".join(notes), "utf-8")
    seq = approval_seq(db, "officer.ntb@test.id")
    rewrite_history(db, seq, "someone.else@test.id")
    vkey = cli(app, "key").stdout.strip()
    result = cli(app, "verify", "--checkpoint", str(history), "--key", vkey)
    assert result.exit_code == 1
    assert (f"first event that does not extend the kept checkpoints: #{seq} (checkpoints of "
            f"sizes {seq - 1} and {seq} were kept: this event was changed") in result.stderr


def test_removed_latest_events_fail_against_a_checkpoint(app: Flask, world: World, db: Session,
                                                         office: Path) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    keep_checkpoint(app, office, "day-1")
    size = events(db)
    # The insider deletes the approval (the last event) and winds the head back.
    db.expire_all()
    last = db.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    before = db.exec(select(AuditEvent).where(AuditEvent.seq == last.seq - 1)).one()
    insider(db)
    db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": last.id})
    db.execute(text("UPDATE audit_head SET seq = :s, last_hash = :h WHERE id = 1"),
               {"s": before.seq, "h": before.hash})
    db.commit()
    assert cli(app, "verify").exit_code == 0  # the shortened chain is consistent in itself
    result = cli(app, "verify", "--checkpoint", str(office / "day-1"),
                 "--key", cli(app, "key").stdout.strip())
    assert result.exit_code == 1
    assert f"the log has only {size - 1} events" in result.stderr
    assert f"#{size}" in result.stderr


def test_a_checkpoint_not_signed_by_the_kept_key_is_refused(app: Flask, world: World,
                                                           office: Path, tmp_path: Path) -> None:
    world.submit(world.batch_a, world.exporter_a)
    note = keep_checkpoint(app, office, "day-1")
    vkey = cli(app, "key").stdout.strip()
    # A forger makes a key of the same name and signs a checkpoint of another history.
    forger = AuditKeyFolder(tmp_path / "forger").create(VerifierKey.parse(vkey).name)
    forged = forger.sign(note.split("\n\n")[0].rsplit("\n", 1)[0] + "\nAAAAAAAAAAAAAAAAAAAAAAAA"
                         "AAAAAAAAAAAAAAAAAAA=\n")
    (office / "day-1").write_text(forged, "utf-8")
    result = cli(app, "verify", "--checkpoint", str(office / "day-1"), "--key", vkey)
    assert result.exit_code == 2
    assert "checkpoint refused" in result.stderr and "not signed by" in result.stderr
    # A note edited after signing fails its signature.
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # one more event than was signed
    edited = "\n".join(lines)
    (office / "day-1").write_text(edited, "utf-8")
    result = cli(app, "verify", "--checkpoint", str(office / "day-1"), "--key", vkey)
    assert result.exit_code == 2 and "does not verify" in result.stderr


def test_the_checkpoint_and_its_key_are_published(app: Flask, world: World, db: Session) -> None:
    http = app.test_client()
    assert http.get("/.well-known/audit-checkpoint").status_code == 404
    assert http.get("/.well-known/audit-key").status_code == 404
    world.submit(world.batch_a, world.exporter_a)
    first = cli(app, "checkpoint")
    assert first.exit_code == 0 and "verifier key" in first.stderr
    response = http.get("/.well-known/audit-checkpoint")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    key = http.get("/.well-known/audit-key")
    assert key.headers["Access-Control-Allow-Origin"] == "*"
    verifier = VerifierKey.parse(key.get_data(as_text=True))
    checkpoint = open_checkpoint(response.get_data(as_text=True), verifier)
    assert checkpoint.size == events(db)
    assert checkpoint.origin == verifier.name == "127.0.0.1:5000/audit-log"
    # Nothing new: the same checkpoint again, nothing stored twice.
    again = cli(app, "checkpoint")
    assert again.exit_code == 0 and again.stdout == response.get_data(as_text=True)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    assert cli(app, "checkpoint").exit_code == 0
    newer = open_checkpoint(http.get("/.well-known/audit-checkpoint").get_data(as_text=True),
                            verifier)
    assert newer.size == events(db) > checkpoint.size


def test_the_go_note_vector_is_reproduced_byte_for_byte() -> None:
    """golang.org/x/mod/sumdb/note's example: the same key signs the same note, so Go's note
    tooling and witnesses read the registry's checkpoints."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
    signer = NoteSigner("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed))
    note_text = ("If you think cryptography is the answer to your problem,\n"
                 "then you don't know what your problem is.\n")
    assert signer.sign(note_text) == note_text + (
        "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
        "qdngotpRZb6KE6RyyBwJnAM=\n")
    assert str(signer.verifier) == ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4"
                                    "izWy10TW")


def test_postgresql_refuses_update_and_delete_of_audit_rows(app: Flask, world: World,
                                                            db: Session) -> None:
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (migration 0013)")
    world.submit(world.batch_a, world.exporter_a)
    assert cli(app, "checkpoint").exit_code == 0
    for statement in ("UPDATE audit_event SET actor_label = 'someone.else@test.id'",
                      "DELETE FROM audit_event",
                      "UPDATE audit_checkpoint SET size = size + 1",
                      "DELETE FROM audit_checkpoint"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text(statement))
        db.rollback()
    assert cli(app, "verify").exit_code == 0


def test_checkpoints_signed_while_events_are_appended_all_hold(app: Flask, world: World,
                                                               tmp_path: Path) -> None:
    """Writers append events in parallel transactions while checkpoints are signed: every
    checkpoint pairs a size with that size's head, so the final log extends them all."""
    engine = app.extensions["engine"]
    with app.app_context():
        signer, _ = AuditKeyStore.for_app(app).ensure("registry.test/audit-log")
    notes: list[str] = []
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(12):
                with Session(engine) as session:
                    audit.record(session, actor=None, action="test.append",
                                 object_type="test", object_id=f"{worker}-{n}")
                    session.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def checkpointer() -> None:
        try:
            while not notes or any(w.is_alive() for w in writers):
                with Session(engine, expire_on_commit=False) as session:
                    row, _new = make_checkpoint(session, signer)
                    session.commit()
                    notes.append(row.note)
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    threads = [*writers, threading.Thread(target=checkpointer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    sizes = [open_checkpoint(n, signer.verifier).size for n in notes]
    assert sizes == sorted(sizes)
    kept = tmp_path / "kept.txt"
    kept.write_text("".join(notes), "utf-8")
    result = cli(app, "verify", "--checkpoint", str(kept), "--key", str(signer.verifier))
    assert result.exit_code == 0, result.output
    assert "extends every kept checkpoint" in result.stdout
