"""Issue 12 §1: two app servers with their own instance folders on one database give one
answer. Before the keys moved into the database, each server made its own active key, a label
printed through one read "unknown key" on the other, a revocation on one was not seen by the
other, and their registry-keys.json differed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from keys_support import approved, cli, download, order, printer, server, verdict
from sqlmodel import Session, select

from conftest import Client, World
from registry.gs1.digital_link import parse_uri
from registry.printing.models import PrintJob
from registry.signing.keys import store_for
from registry.signing.models import SigningKey


@pytest.fixture
def b(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    other = server(database_url, tmp_path, "b")
    yield other
    other.extensions["engine"].dispose()


def test_a_key_made_on_one_server_signs_and_verifies_on_both(
        app: Flask, b: Flask, world: World, db: Session) -> None:
    code, output = cli(app, "keys", "ensure")
    assert code == 0 and output.startswith("created key"), output
    kid = output.split()[-1]
    code, output = cli(b, "keys", "ensure")
    assert (code, output.strip()) == (0, f"active key {kid}")

    approved(world)
    # Ordered through B, downloaded through A.
    exporter = Client(b.test_client())
    exporter.login("a@test.id")
    response = exporter.post(f"/batches/{world.batch_a.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "a4-3x7", "quantity": "2",
        "net_quantity": "500 g"})
    assert response.status_code == 302
    job = db.exec(select(PrintJob)).one()
    labels = download(printer(app), job)
    assert [parse_uri(u).key_id for u in labels] == [kid, kid]
    for uri in labels:
        assert verdict(app, uri)["verdict"] == "genuine"
        assert verdict(b, uri)["verdict"] == "genuine"

    # Both servers publish the same keys, in both formats.
    for document in ("/.well-known/registry-keys.json", "/.well-known/jwks.json"):
        first = app.test_client().get(document)
        second = b.test_client().get(document)
        assert first.status_code == second.status_code == 200
        assert first.get_data() == second.get_data()
    assert [k["kid"] for k in app.test_client().get(
        "/.well-known/registry-keys.json").get_json()["keys"]] == [kid]


def test_a_revocation_on_one_server_is_honoured_by_the_other_within_two_seconds(
        app: Flask, b: Flask, world: World, db: Session) -> None:
    kid = cli(app, "keys", "ensure")[1].split()[-1]
    approved(world)
    label = download(printer(app), order(world, db, 1))[0]
    assert verdict(b, label)["verdict"] == "genuine"  # B has read (and keeps) its keys now

    code, output = cli(app, "keys", "revoke", kid, "--from", "2020-01-01T00:00:00Z",
                       "--with-successor", "--reason", "laptop stolen")
    assert code == 0, output
    successor = output.split()[-1]
    started = time.monotonic()
    while (seen := verdict(b, label))["verdict"] == "genuine":
        assert time.monotonic() - started < 2.0, "B still calls the label genuine after 2 s"
        time.sleep(0.05)
    assert seen["verdict"] == "not_genuine" and seen["signals"] == ["revoked_key"]
    # B signs with the successor at once: its download notices the revocation itself.
    fresh = download(printer(b), order(world, db, 1))[0]
    assert parse_uri(fresh).key_id == successor
    assert verdict(app, fresh)["verdict"] == "genuine"


def test_a_rotation_on_one_server_is_used_by_the_other_within_two_seconds(
        app: Flask, b: Flask, world: World, db: Session) -> None:
    cli(app, "keys", "ensure")
    with b.app_context():
        first = store_for(b).active_signer().kid  # B keeps the signer it opened
    new = cli(app, "keys", "rotate")[1].split()[-1]
    started = time.monotonic()
    while store_for(b).active_signer().kid != new:
        assert time.monotonic() - started < 2.0
        time.sleep(0.05)
    assert new != first


@pytest.mark.parametrize("round_", range(2))
def test_servers_ensuring_at_once_make_exactly_one_active_key(
        app: Flask, database_url: str, tmp_path: Path, db: Session, round_: int) -> None:
    servers = [server(database_url, tmp_path, f"s{n}") for n in range(4)]
    barrier = threading.Barrier(len(servers))
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def ensure(other: Flask) -> None:
        store = store_for(other)
        barrier.wait()
        try:
            results.append(store.ensure())
        except BaseException as exc:  # reported below, with the results
            errors.append(exc)

    threads = [threading.Thread(target=ensure, args=(s,)) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for other in servers:
        other.extensions["engine"].dispose()
    assert errors == []
    rows = db.exec(select(SigningKey)).all()
    assert len(rows) == 1
    assert {kid for kid, _made in results} == {rows[0].kid}
    assert sum(made for _kid, made in results) == 1
