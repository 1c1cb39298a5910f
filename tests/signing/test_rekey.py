"""``keys rekey --new-kek-file PATH`` re-seals every sealed secret (label keys' private halves,
users' TOTP seeds, the audit key) under a new key-encryption key in one transaction with its
audit event. Before it, a KEK could not be replaced at all: every server with another KEK is
refused, so a leaked or retiring KEK stayed in use for good."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from keys_support import approved, cli, download, order, printer, server, verdict
from sqlalchemy import text
from sqlmodel import Session, SQLModel, select

import registry.db.models  # noqa: F401  (every table in the metadata)
from conftest import PASSWORD, TEST_KEK, Client, World, fresh_code, world_kek
from registry.audit.models import AuditEvent
from registry.checkpoints.note import VerifierKey, open_checkpoint
from registry.signing import kek as kek_module
from registry.signing import sealed
from registry.signing.keys import store_for
from registry.signing.models import SigningKey

NEW_KEK = base64.b64encode(b"the-new-key-encryption-key-32-by").decode()


@pytest.fixture
def new_kek_file(tmp_path: Path) -> Path:
    path = tmp_path / "new-kek"
    path.write_text(NEW_KEK + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def secrets(app: Flask, world: World, db: Session) -> Iterator[str]:
    """A registry with every kind of sealed secret: two label keys (one retired, still
    sealed), the officers' and admin's authenticators (the world enrols them), the audit key.
    Yields the audit verifier key."""
    assert cli(app, "keys", "ensure")[0] == 0
    assert cli(app, "keys", "rotate")[0] == 0
    code, output = cli(app, "audit", "checkpoint")
    assert code == 0, output
    code, output = cli(app, "audit", "key")
    yield output.strip()


def rekey_events(db: Session) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == "key.rekey")).all())


def stored(db: Session) -> dict[str, list[tuple[object, ...]]]:
    db.expire_all()
    return {table: sorted(tuple(r) for r in db.execute(text(
        f"SELECT kek_id, {column} FROM {table}")))
        for table, column in (("signing_key", "private_key"), ("second_factor", "secret"),
                              ("audit_key", "private_key"))}


def test_every_sealed_secret_moves_to_the_new_kek(
        app: Flask, world: World, db: Session, database_url: str, tmp_path: Path,
        new_kek_file: Path, secrets: str) -> None:
    old, new = world_kek(), kek_module.parse(NEW_KEK, "NEW_KEK")
    before = stored(db)
    code, output = cli(app, "keys", "rekey", "--new-kek-file", str(new_kek_file))
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == (f"re-sealed 2 signing keys, 4 authenticator seeds and 1 audit key "
                        f"under the key-encryption key {new.id} (was {old.id})")
    assert "install the new key-encryption key on every server" in output
    assert "restart" in output and NEW_KEK not in output
    after = stored(db)
    for table, rows in after.items():
        assert rows and {kek_id for kek_id, _ in rows} == {new.id}, table
        assert {bytes(s) for _, s in rows}.isdisjoint({bytes(s) for _, s in before[table]})
    with Session(app.extensions["engine"]) as session:
        assert sealed.kek_ids(session) == {new.id}
    [event] = rekey_events(db)
    assert json.loads(event.before or "{}") == {"kek_id": old.id}
    assert json.loads(event.after or "{}") == {"kek_id": new.id, "signing_keys": 2,
                                               "second_factors": 4, "audit_keys": 1}
    assert NEW_KEK not in (event.after or "") and TEST_KEK not in (event.before or "")

    renewed = server(database_url, tmp_path, "renewed", KEY_ENCRYPTION_KEY=NEW_KEK)
    stale = server(database_url, tmp_path, "stale")  # still the old KEK
    try:
        # Labels signed under the new KEK verify, on every server.
        assert renewed.extensions["readiness"]["keys"]() is None
        approved(world)
        labels = download(printer(renewed), order(world, db, 2))
        for uri in labels:
            assert verdict(renewed, uri)["verdict"] == "genuine"
            assert verdict(stale, uri)["verdict"] == "genuine"  # verifying needs no KEK
        # An officer's authenticator still works (Client.login asserts the code is taken).
        officer = Client(renewed.test_client())
        response = officer.login("officer.ntb@test.id")
        assert not response.headers["Location"].endswith(("/login", "/login/second-factor"))
        assert officer.get("/review/").status_code == 200
        # The audit key still signs, and the offices' verifier key checks it.
        world.submit(world.batch_b, world.exporter_b)
        code, output = cli(renewed, "audit", "checkpoint")
        assert code == 0, output
        note = renewed.test_client().get("/.well-known/audit-checkpoint").get_data(as_text=True)
        assert note == output
        assert open_checkpoint(note, VerifierKey.parse(secrets)).size > 1
        # A server left with the old KEK is refused by name, and seals nothing.
        problem = stale.extensions["readiness"]["keys"]()
        assert problem is not None and "KEY_ENCRYPTION_KEY" in problem
        code, output = cli(stale, "keys", "rotate")
        assert code != 0 and "not the one the registry's keys are sealed with" in output
        code, output = cli(stale, "audit", "checkpoint")
        assert code != 0 and "KEY_ENCRYPTION_KEY" in output
        # Its second-factor step answers 503 (try again), not a 500 nor "wrong code".
        user = Client(stale.test_client())
        response = user.post("/login", {"email": "officer.ntb@test.id", "password": PASSWORD},
                             token_from="/login")
        assert response.headers["Location"].endswith("/login/second-factor")
        response = user.post("/login/second-factor",
                             {"code": fresh_code(stale.extensions["engine"],
                                                 "officer.ntb@test.id")},
                             token_from="/login/second-factor")
        assert response.status_code == 503
        assert "second factor is temporarily unavailable" in response.get_data(as_text=True)
        assert len(db.exec(select(SigningKey)).all()) == 2
        # Nor does it seal a new authenticator seed that only it could open.
        exporter = Client(stale.test_client())
        exporter.login("a@test.id")
        assert exporter.get("/account/two-factor").status_code == 503
        assert stored(db)["second_factor"] == after["second_factor"]
    finally:
        renewed.extensions["engine"].dispose()
        stale.extensions["engine"].dispose()


def test_a_damaged_secret_leaves_everything_under_the_old_kek(
        app: Flask, world: World, db: Session, new_kek_file: Path, secrets: str) -> None:
    # The last of the three tables is damaged: the first two were re-sealed in the session
    # when it fails.
    db.execute(text("UPDATE audit_key SET private_key = :junk"), {"junk": b"\x00" * 60})
    db.commit()
    before = stored(db)
    code, output = cli(app, "keys", "rekey", "--new-kek-file", str(new_kek_file))
    assert code == 1 and "nothing was changed" in output, output
    assert "does not open" in output
    assert stored(db) == before
    assert rekey_events(db) == []
    # The registry goes on under the old KEK.
    store_for(app).invalidate()
    assert store_for(app).check() is None
    approved(world)
    label = download(printer(app), order(world, db, 1))[0]
    assert verdict(app, label)["verdict"] == "genuine"
    Client(app.test_client()).login("officer.ntb@test.id")


def test_bad_new_keys_are_refused_with_a_message(
        app: Flask, db: Session, tmp_path: Path, secrets: str) -> None:
    before = stored(db)
    same = tmp_path / "same"
    same.write_text(TEST_KEK)
    short = tmp_path / "short"
    short.write_text("dG9vIHNob3J0")
    cases = [(same, "is the configured one"), (short, "must be the base64 of 32"),
             (tmp_path / "missing", "cannot be read")]
    for path, expected in cases:
        code, output = cli(app, "keys", "rekey", "--new-kek-file", str(path))
        assert code == 1 and expected in output, output
        assert "Traceback" not in output
    # The key itself is never taken on the command line.
    code, output = cli(app, "keys", "rekey", "--new-kek", NEW_KEK)
    assert code == 2 and "No such option" in output
    assert stored(db) == before and rekey_events(db) == []


def test_every_table_with_a_sealed_secret_is_rekeyed() -> None:
    """A table that names the KEK of its rows holds a sealed secret: ``sealed`` must list it,
    or a rekey would leave it under the old KEK."""
    with_kek = {table.name for table in SQLModel.metadata.tables.values()
                if "kek_id" in table.columns}
    assert with_kek == set(sealed.SEALED_TABLES)
