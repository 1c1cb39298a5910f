"""Issue 11 §5 (griefing): one network address can never make a genuine label read
"possible copy", whatever User-Agents it sends; distinct readers still do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from scan_support import certified_labels, flush, phone, verdict
from sqlmodel import Session, select

from conftest import TEST_KEK, World, decode_qr_codes
from registry.catalog.certification import Action
from registry.printing.models import PrintJob


def test_six_user_agents_from_one_address_do_not_flip_the_verdict(
        app: Flask, world: World, db: Session) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    for n in range(6):
        assert verdict(phone(app, "203.0.113.7", f"Agent {n}"), label) == "genuine"
    flush(app)
    for n in range(6, 9):  # the same address later in the day, after the buffer was written
        assert verdict(phone(app, "203.0.113.7", f"Agent {n}"), label) == "genuine"
    # An honest buyer elsewhere still reads "genuine".
    assert verdict(phone(app, "198.51.100.20"), label) == "genuine"


def test_addresses_of_one_ipv4_24_or_ipv6_64_count_as_one_reader(
        app: Flask, world: World, db: Session) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    for n in range(8):
        assert verdict(phone(app, f"203.0.113.{n + 1}"), label) == "genuine"
        assert verdict(phone(app, f"2001:db8:1:2::{n + 1:x}"), label) == "genuine"


def test_six_distinct_networks_still_flip_it(app: Flask, world: World, db: Session) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    seen = [verdict(phone(app, f"198.51.{n}.10"), label) for n in range(6)]
    assert seen == ["genuine"] * 5 + ["possible_copy"]


def test_the_prefix_is_configurable(app: Flask, world: World, db: Session) -> None:
    """``CLIENT_PREFIX_V4=32`` counts every IPv4 address on its own."""
    app.config.update(CLIENT_PREFIX_V4=32)
    label = certified_labels(app, world, db, quantity=1)[0]
    seen = [verdict(phone(app, f"203.0.113.{n + 1}"), label) for n in range(6)]
    assert seen[-1] == "possible_copy"


def test_behind_the_configured_proxy_the_forwarded_address_counts(
        tmp_path: Path, database_url: str, world: World, db: Session) -> None:
    from registry import create_app

    proxied = create_app({
        "DATABASE_URL": database_url, "TESTING": True, "PROXY_HOPS": 1,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "INSTANCE_PATH": str(tmp_path / "i2"), "UPLOAD_DIR": str(tmp_path / "u2"),
        "KEY_ENCRYPTION_KEY": TEST_KEK, "RATELIMIT_STORAGE_URI": "memory://"})
    try:
        label = certified_labels(proxied, world, db, quantity=1)[0]
        # One buyer with six browsers behind the proxy: one reader.
        seen = [verdict(phone(proxied, "10.0.0.1", f"Agent {n}"), label,
                        **{"X-Forwarded-For": "203.0.113.7"}) for n in range(6)]
        assert seen == ["genuine"] * 6
        # Six buyers on six networks, all arriving from the proxy's own address: six readers.
        seen = [verdict(phone(proxied, "10.0.0.1"), label,
                        **{"X-Forwarded-For": f"198.51.{n}.10"}) for n in range(6)]
        assert seen[-1] == "possible_copy"
    finally:
        proxied.extensions["engine"].dispose()


def test_labels_decoded_from_the_print_shops_pdf_resist_six_user_agents(
        app: Flask, world: World, db: Session, make_client: Any) -> None:
    """Acceptance 2 (this part): a buyer's-eye run from the printed PDF's pixels."""
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    exporter, printer = make_client(), make_client()
    exporter.login("a@test.id")
    printer.login("printer@test.id")
    ordered = exporter.post(f"/batches/{world.batch_a.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "a4-3x7", "quantity": "2",
        "net_quantity": "500 g"})
    assert ordered.status_code == 302
    job = db.exec(select(PrintJob).where(PrintJob.batch_id == world.batch_a.id)).one()
    uris = decode_qr_codes(printer.download(f"/print-shop/jobs/{job.id}.pdf").get_data())
    assert len(uris) == 2
    for uri in uris:
        seen = [verdict(phone(app, "203.0.113.7", f"Agent {n}"), uri) for n in range(7)]
        assert seen == ["genuine"] * 7
