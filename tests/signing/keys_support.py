"""Shared by the key tests: more app servers on the test database, print jobs, downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import Session

from conftest import TEST_KEK, Client, World, decode_qr_codes
from registry import create_app
from registry.catalog.certification import Action
from registry.gs1.digital_link import parse_uri
from registry.printing import services as printing
from registry.printing.models import PrintJob

JSON = {"Accept": "application/json"}


def server(database_url: str, tmp_path: Path, name: str, **overrides: Any) -> Flask:
    """Another app server: its own instance folder (and legacy KEY_DIR), the same database
    and, unless overridden, the same key-encryption key."""
    config = {
        "DATABASE_URL": database_url, "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "INSTANCE_PATH": str(tmp_path / f"{name}-instance"),
        "UPLOAD_DIR": str(tmp_path / f"{name}-uploads"), "KEY_DIR": str(tmp_path / f"{name}-keys"),
        "KEY_ENCRYPTION_KEY": TEST_KEK, "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(overrides)
    return create_app(config)


def approved(world: World) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)


def order(world: World, db: Session, quantity: int = 2) -> PrintJob:
    job = printing.order_job(db, world.exporter_a, world.batch_a.id,
                             printer_org_id=world.print_org.id, stock="a4-3x7",
                             quantity=quantity, net_quantity="500 g")
    db.commit()
    return job


def printer(app: Flask) -> Client:
    client = Client(app.test_client())
    client.login("printer@test.id")
    return client


def download(client: Client, job: PrintJob) -> list[str]:
    """The job's PDF as the print shop downloads it, its QR codes read from the pixels."""
    response = client.download(f"/print-shop/jobs/{job.id}.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    uris = decode_qr_codes(response.get_data())
    return sorted(uris, key=lambda u: int(parse_uri(u).serial))


def path_of(uri: str) -> str:
    """The label's verification page, where a phone ends up (the resolver redirects there)."""
    link = parse_uri(uri)
    return "/verify" + uri[uri.index("/01/"):] if link else uri


def verdict(app: Flask, uri: str) -> dict[str, Any]:
    """What a buyer's phone gets from ``app`` for the label, as JSON."""
    response = app.test_client().get(path_of(uri), headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()  # type: ignore[no-any-return]


def cli(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output
