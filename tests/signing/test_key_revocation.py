"""A key revoked because it leaked takes an effective time (issue 12 §1): labels the registry
signed with it before then keep verifying, online and offline; labels claiming it that the
registry did not sign before then do not. Before, a revocation voided every label in the
market, with no way to tell good from forged."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

from flask import Flask
from keys_support import approved, cli, download, order, printer, verdict
from sqlmodel import Session, col, select

from conftest import World
from registry.audit.models import AuditEvent
from registry.catalog.services import label_gtin
from registry.clock import utcnow
from registry.gs1.digital_link import parse_uri
from registry.signing.keys import store_for
from registry.signing.models import LabelSignature
from registry.signing.offline import verify_label
from registry.signing.services import record_signature
from registry.signing.verifier import VerifyStatus


def test_labels_signed_before_the_effective_time_stay_genuine(
        app: Flask, world: World, db: Session, tmp_path: Path) -> None:
    kid = cli(app, "keys", "ensure")[1].split()[-1]
    approved(world)
    shop = printer(app)
    before = download(shop, order(world, db, 2))  # serials 1-2, printed before the leak
    with app.app_context():
        leaked = store_for(app).active_signer()  # what the thief holds
    time.sleep(0.01)
    leak = utcnow()
    time.sleep(0.01)
    after = download(shop, order(world, db, 2))  # serials 3-4, signed after the leak
    assert {parse_uri(u).key_id for u in before + after} == {kid}

    code, output = cli(app, "keys", "revoke", kid, "--from", leak.isoformat(),
                       "--reason", "key file copied", "--with-successor")
    assert code == 0, output
    store_for(app).invalidate()
    for uri in before:
        assert verdict(app, uri)["verdict"] == "genuine"
    for uri in after:  # the registry signed them, but after the leak: cannot be told apart
        seen = verdict(app, uri)
        assert (seen["verdict"], seen["signals"]) == ("not_genuine", ["revoked_key"])
    # A forgery with the leaked key, for a serial the registry printed under another key,
    # and for one it never printed: not genuine.
    successor = download(shop, order(world, db, 1))[0]  # serial 5, the successor's
    gtin, lot = label_gtin(world.product_a), world.batch_a.lot_code
    forged = [leaked.label_uri("127.0.0.1:5000", gtin, lot, serial, "http")
              for serial in ("5", "99")]
    for uri in forged:
        assert verdict(app, uri)["signals"] == ["revoked_key"]
    assert verdict(app, successor)["verdict"] == "genuine"

    # Offline: the published key list says which labels the revoked key still vouches for.
    published = app.test_client().get("/.well-known/registry-keys.json").get_json()
    entry = next(k for k in published["keys"] if k["kid"] == kid)
    assert entry["status"] == "revoked" and entry["revoked_from"]
    assert dt.datetime.fromisoformat(entry["revoked_from"].replace("Z", "+00:00")) == leak
    assert entry["signed_before_revocation"] == [
        {"gtin": gtin, "lot": lot, "serial_first": 1, "serial_last": 2}]
    for uri in before:
        result = verify_label(uri, published)
        assert result.status is VerifyStatus.VALID and "before the key's revocation" in \
            result.describe()
    for uri in after + forged:
        assert verify_label(uri, published).status is VerifyStatus.REVOKED_KEY
    keys_file = tmp_path / "registry-keys.json"
    keys_file.write_text(json.dumps(published), "utf-8")
    code, output = cli(app, "verify-label", before[0], "--keys", str(keys_file))
    assert code == 0 and output.startswith("valid") and "revocation" in output
    code, output = cli(app, "verify-label", after[0], "--keys", str(keys_file))
    assert code == 3 and output.startswith("revoked key")
    # An old verifier that ignores the new fields still reads the key as revoked.
    old = {"keys": [{k: v for k, v in e.items()
                     if k not in ("revoked_from", "signed_before_revocation")}
                    for e in published["keys"]]}
    assert verify_label(before[0], old).status is VerifyStatus.REVOKED_KEY

    events = db.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("key."))
                     .order_by(col(AuditEvent.seq))).all()
    assert [(e.action, e.object_id) for e in events] == [
        ("key.create", kid), ("key.revoke", kid), ("key.rotate", parse_uri(successor).key_id)]
    revoked = json.loads(events[1].after or "{}")
    assert revoked["status"] == "revoked" and revoked["reason"] == "key file copied"


def test_the_default_effective_time_is_now_and_can_only_move_earlier(
        app: Flask, world: World, db: Session) -> None:
    old = cli(app, "keys", "ensure")[1].split()[-1]
    approved(world)
    label = download(printer(app), order(world, db, 1))[0]
    cli(app, "keys", "rotate")
    code, output = cli(app, "keys", "revoke", old)
    assert code == 0, output
    store_for(app).invalidate()
    assert verdict(app, label)["verdict"] == "genuine"  # printed before "now"
    listing = cli(app, "keys", "list")[1]
    assert f"{old}  revoked" in listing and "revoked from" in listing
    # More is learnt: the key leaked earlier than thought.
    code, output = cli(app, "keys", "revoke", old, "--from", "2020-01-01T00:00:00+08:00")
    assert code == 0, output
    store_for(app).invalidate()
    assert verdict(app, label)["signals"] == ["revoked_key"]
    moves = db.exec(select(AuditEvent).where(AuditEvent.action == "key.revoke")).all()
    assert len(moves) == 2
    # Later again changes nothing.
    cli(app, "keys", "revoke", old, "--from", utcnow().isoformat())
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "key.revoke")).all()) == 2


def test_bad_effective_times_are_refused_with_a_message(app: Flask) -> None:
    kid = cli(app, "keys", "ensure")[1].split()[-1]
    cli(app, "keys", "rotate")
    for value, expected in (("yesterday", "not an ISO 8601 time"),
                            ("2026-01-01T08:00:00", "with its offset"),
                            ((utcnow() + dt.timedelta(days=1)).isoformat(), "in the future")):
        code, output = cli(app, "keys", "revoke", kid, "--from", value)
        assert code != 0 and expected in output, output
        assert "Traceback" not in output
    assert f"{kid}  retired" in cli(app, "keys", "list")[1]


def test_downloads_at_the_same_moment_note_the_first_signature_once(
        app: Flask, world: World, db: Session) -> None:
    kid = cli(app, "keys", "ensure")[1].split()[-1]
    approved(world)
    job = order(world, db, 1)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def download_at_once() -> None:
        with Session(app.extensions["engine"]) as session:
            barrier.wait()
            try:
                record_signature(session, job.id, kid)
                session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=download_at_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert [(s.job_id, s.kid) for s in db.exec(select(LabelSignature)).all()] == [(job.id, kid)]
