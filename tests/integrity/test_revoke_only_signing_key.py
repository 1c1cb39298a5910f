"""Part 8 of issue 11: revoking the only active label signing key must not leave a production
registry unable to print (it answered 500 afterwards). ``keys revoke`` refuses it unless a
successor is made in the same step, ``--with-successor``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from conftest import Client, World, decode_qr_codes
from registry import create_app
from registry.catalog.certification import Action
from registry.printing import services as printing


@pytest.fixture
def prod(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The same database (so the same keys) and key-encryption key, configured as production:
    no key on demand."""
    prod = create_app({
        "ENV": "production", "DATABASE_URL": database_url, "TESTING": True,
        "SECRET_KEY": "a-production-secret-key-of-sufficient-length-0123456789",
        "INSTANCE_PATH": str(tmp_path / "prod-instance"), "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "KEY_ENCRYPTION_KEY": app.config["KEY_ENCRYPTION_KEY"], "RATELIMIT_STORAGE_URI": "memory://",
        "PUBLIC_HOST": "registry.test",
    })
    yield prod
    prod.extensions["engine"].dispose()


def https_client(app: Flask) -> Client:
    http = app.test_client()
    http.environ_base["wsgi.url_scheme"] = "https"  # production cookies are Secure
    return Client(http)


def keys(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["keys", *args])
    return result.exit_code, result.output


def test_revoking_the_only_key_is_refused_unless_a_successor_is_made(
        prod: Flask, world: World) -> None:
    code, output = keys(prod, "create")
    assert code == 0, output
    kid = output.split()[-1]
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    job = printing.order_job(world.session, world.exporter_a, world.batch_a.id,
                             printer_org_id=world.print_org.id, stock="a4-3x7", quantity=3,
                             net_quantity="1 kg")
    world.session.commit()
    printer = https_client(prod)
    printer.login("printer@test.id")

    code, output = keys(prod, "revoke", kid)
    # The print shop can still print: the refused revocation changed nothing.
    response = printer.download(f"/print-shop/jobs/{job.id}.pdf")
    assert response.status_code == 200
    assert code != 0
    assert "only active signing key" in output and "--with-successor" in output
    assert f"{kid}  active" in keys(prod, "list")[1]

    code, output = keys(prod, "revoke", kid, "--with-successor")
    assert code == 0, output
    listing = keys(prod, "list")[1]
    assert f"{kid}  revoked" in listing
    (successor,) = [line.split()[0] for line in listing.splitlines() if "  active" in line]
    assert successor in output
    response = printer.download(f"/print-shop/jobs/{job.id}.pdf")
    assert response.status_code == 200
    uris = decode_qr_codes(response.get_data())
    assert len(uris) == 3
    # Reprinted labels carry the successor's signature and read genuine to a buyer.
    buyer = prod.test_client()
    for uri in uris:
        path = "/verify" + uri.split("registry.test", 1)[1]  # the label's page
        verdict = buyer.get(path, headers={"Accept": "application/json"},
                            base_url="https://registry.test").get_json()
        assert verdict["verdict"] == "genuine", verdict


def test_a_retired_key_is_revoked_without_a_successor(prod: Flask, world: World) -> None:
    old = keys(prod, "create")[1].split()[-1]
    assert keys(prod, "rotate")[0] == 0
    code, output = keys(prod, "revoke", old)
    assert code == 0, output
    assert f"{old}  revoked" in keys(prod, "list")[1]
    code, output = keys(prod, "revoke", "no-such-key")
    assert code != 0 and "no key" in output
    # A key id may start with "-" (base64url): it is a key id, never an unknown option.
    code, output = keys(prod, "revoke", "-Yq3NoSuchK", "--with-successor")
    assert code != 0 and "no key" in output and "No such option" not in output, output
