"""Replacing the key-encryption key on a registry of several servers without an outage.

Before, ``keys rekey`` switched every sealed secret at once, and a server still configured
with the old KEK could not open any of them until it was restarted with the new one (label
downloads, second-factor sign-ins and audit checkpoints refused in between), while a server
restarted with the new KEK before the rekey was refused outright. Now a server may also hold
the other key of the replacement (``KEY_ENCRYPTION_KEY_FALLBACK``), opening what it sealed
but never sealing under it, and the replacement goes server by server:

1. every server gets the new key as its fallback (restarted one at a time);
2. every server gets the new key as its key and the old one as its fallback;
3. ``keys rekey`` (no file) moves what is still under the old key to the new one;
4. every server drops the fallback.

Here two servers go through those steps; after each restart both must sign labels, take an
officer's second factor and sign the audit checkpoint, and open the secrets the other one
sealed in between.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from keys_support import approved, cli, download, order, printer, server, verdict
from sqlmodel import Session, select

from conftest import TEST_KEK, Client, World, recovery_codes, totp_secret, world_kek
from registry.accounts import second_factor
from registry.audit.models import AuditEvent
from registry.clock import utcnow
from registry.signing import kek as kek_module
from registry.signing import sealed
from registry.signing.keys import store_for

OLD = TEST_KEK
NEW = base64.b64encode(b"the-next-key-encryption-key-32by").decode()
THIRD = base64.b64encode(b"a-third-key-encryption-key-32-by").decode()


@pytest.fixture
def secrets(app: Flask, world: World) -> None:
    """Every kind of sealed secret under the old KEK: two label keys, the officers' and the
    admin's authenticators (the world enrols them), the audit key."""
    assert cli(app, "keys", "ensure")[0] == 0
    assert cli(app, "keys", "rotate")[0] == 0
    code, output = cli(app, "audit", "checkpoint")
    assert code == 0, output


class Servers:
    """Two app servers on the registry's database, restarted with a new configuration."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.database_url, self.tmp_path = database_url, tmp_path
        self.apps: dict[str, Flask] = {}
        self.restarts = 0

    def restart(self, name: str, key: str, fallback: str | None = None) -> Flask:
        if name in self.apps:
            self.apps[name].extensions["engine"].dispose()
        self.restarts += 1
        config: dict[str, Any] = {"KEY_ENCRYPTION_KEY": key}
        if fallback is not None:
            # As a file, as production does (systemd credentials, a mounted secret).
            path = self.tmp_path / f"fallback-{self.restarts}"
            path.write_text(fallback + "\n")
            config["KEY_ENCRYPTION_KEY_FALLBACK_FILE"] = str(path)
        self.apps[name] = server(self.database_url, self.tmp_path,
                                 f"{name}{self.restarts}", **config)
        return self.apps[name]

    def close(self) -> None:
        for app in self.apps.values():
            app.extensions["engine"].dispose()


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[Servers]:
    both = Servers(database_url, tmp_path)
    both.restart("a", OLD)
    both.restart("b", OLD)
    try:
        yield both
    finally:
        both.close()


def serves(app: Flask, world: World, db: Session, who: str) -> None:
    """What a server must do all along: be ready, sign a label (the print shop's download,
    read back from the PDF's pixels), take the officer's and ``who``'s second factor, sign
    the audit checkpoint."""
    assert app.extensions["readiness"]["keys"]() is None
    store_for(app).invalidate()
    [uri] = download(printer(app), order(world, db, 1))
    assert verdict(app, uri)["verdict"] == "genuine"
    for email in ("officer.ntb@test.id", who):
        client = Client(app.test_client())
        response = client.login(email)
        assert not response.headers["Location"].endswith(("/login", "/login/second-factor"))
    code, output = cli(app, "audit", "checkpoint")
    assert code == 0, output


def kek_ids(app: Flask) -> set[str]:
    with Session(app.extensions["engine"]) as session:
        return sealed.kek_ids(session)


def test_two_servers_replace_the_kek_without_an_outage(
        app: Flask, world: World, db: Session, secrets: None, servers: Servers) -> None:
    old, new = world_kek(), kek_module.parse(NEW, "NEW")
    approved(world)
    officer = "officer.ntb@test.id"
    serves(servers.apps["a"], world, db, officer)

    # 1. The new key as every server's fallback, one server at a time.
    serves(servers.restart("a", OLD, fallback=NEW), world, db, officer)
    serves(servers.apps["b"], world, db, officer)
    serves(servers.restart("b", OLD, fallback=NEW), world, db, officer)
    assert kek_ids(servers.apps["a"]) == {old.id}

    # 2. The new key as every server's key, the old one as its fallback. A sealed a new label
    # key and an exporter's authenticator under the new key: B, not restarted yet, opens both.
    a = servers.restart("a", NEW, fallback=OLD)
    assert cli(a, "keys", "rotate")[0] == 0
    with Session(a.extensions["engine"]) as session:
        exporter = world.exporter_a
        second_factor.enrol_with_secret(
            session, None, session.merge(exporter), store_for(a).kek(),
            totp_secret(exporter.email), utcnow(), recovery_codes=recovery_codes(exporter.email))
        session.commit()
    assert kek_ids(a) == {old.id, new.id}
    serves(a, world, db, exporter.email)
    serves(servers.apps["b"], world, db, exporter.email)
    serves(servers.restart("b", NEW, fallback=OLD), world, db, exporter.email)

    # 3. What is still under the old key moves to the new one, on one server.
    code, output = cli(servers.apps["a"], "keys", "rekey")
    assert code == 0, output
    assert output.splitlines()[0] == (
        f"re-sealed 2 signing keys, 4 authenticator seeds and 1 audit key under the "
        f"key-encryption key {new.id} (was {old.id})")
    assert "remove KEY_ENCRYPTION_KEY_FALLBACK from every server" in output
    assert OLD not in output and NEW not in output
    assert kek_ids(servers.apps["a"]) == {new.id}
    db.expire_all()
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "key.rekey")).all()
    assert json.loads(event.before or "{}") == {"kek_id": old.id}
    assert json.loads(event.after or "{}") == {"kek_id": new.id, "signing_keys": 2,
                                               "second_factors": 4, "audit_keys": 1}
    code, output = cli(servers.apps["b"], "keys", "rekey")
    assert code != 0 and "already: nothing to re-seal" in output
    for name in ("a", "b"):
        serves(servers.apps[name], world, db, exporter.email)

    # 4. The fallback goes, one server at a time.
    serves(servers.restart("a", NEW), world, db, exporter.email)
    serves(servers.apps["b"], world, db, exporter.email)
    serves(servers.restart("b", NEW), world, db, exporter.email)


def test_a_server_whose_two_keys_miss_a_sealed_secret_is_refused_by_name(
        app: Flask, world: World, db: Session, secrets: None, servers: Servers) -> None:
    old = world_kek()
    stray = servers.restart("a", NEW, fallback=THIRD)
    problem = stray.extensions["readiness"]["keys"]()
    assert problem is not None and old.id in problem and "KEY_ENCRYPTION_KEY" in problem
    code, output = cli(stray, "keys", "rotate")
    assert code != 0 and "KEY_ENCRYPTION_KEY_FALLBACK" in output
    code, output = cli(stray, "keys", "rekey")
    assert code != 0 and "nothing was changed" in output
    assert kek_ids(stray) == {old.id}


def test_a_fallback_is_refused_when_it_is_the_key_or_not_a_key(
        app: Flask, world: World, secrets: None, servers: Servers) -> None:
    same = servers.restart("a", OLD, fallback=OLD)
    problem = same.extensions["readiness"]["keys"]()
    assert problem is not None and "KEY_ENCRYPTION_KEY_FALLBACK is the KEY_ENCRYPTION_KEY" in (
        problem)
    short = servers.restart("b", OLD, fallback=base64.b64encode(b"short").decode())
    problem = short.extensions["readiness"]["keys"]()
    assert problem is not None and "KEY_ENCRYPTION_KEY_FALLBACK_FILE" in problem
    assert "must be the base64 of 32" in problem and OLD not in problem


def test_rekey_without_a_file_needs_a_fallback(app: Flask, world: World,
                                               secrets: None) -> None:
    code, output = cli(app, "keys", "rekey")
    assert code != 0 and "--new-kek-file" in output and "KEY_ENCRYPTION_KEY_FALLBACK" in output
    assert kek_ids(app) == {world_kek().id}
