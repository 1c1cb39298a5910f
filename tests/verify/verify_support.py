"""Shared by the verification tests: real labels, from a real print job's PDF.

A batch of company A is certified by the NTB office, the exporter orders a print job over
HTTP, the print shop downloads the PDF, and the QR codes are decoded from its pixels. The
decoded URIs are what a buyer's phone would open.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlmodel import Session

from conftest import Client, World, decode_qr_codes, order_and_download
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.catalog.services import label_gtin
from registry.gs1.digital_link import parse_uri
from registry.printing import services as printing
from registry.signing import keys

SCHEMAS = Path(__file__).resolve().parents[2] / "registry" / "verify" / "schemas"


def approve(world: World, batch: Batch | None = None) -> Batch:
    batch = batch or world.batch_a
    world.submit(batch, world.exporter_a)
    world.decide(batch, world.officer_ntb, Action.APPROVE)
    return batch


def print_labels(exporter: Client, printer: Client, world: World, db: Session, batch: Batch,
                 quantity: int = 3) -> list[str]:
    """Order ``quantity`` labels as the exporter, download the PDF as the print shop, and
    return the decoded label URIs sorted by serial."""
    uris = decode_qr_codes(order_and_download(exporter, printer, world, db, batch, quantity))
    assert len(uris) == quantity
    return sorted(uris, key=lambda u: int(parse_uri(u).serial))


def printed_labels(make_client: Any, world: World, db: Session, quantity: int = 3) -> (
    list[str]
):
    batch = approve(world)
    exporter = make_client()
    exporter.login("a@test.id")
    printer = make_client()
    printer.login("printer@test.id")
    return print_labels(exporter, printer, world, db, batch, quantity)


def signed_labels(app: Flask, world: World, db: Session, quantity: int = 3) -> list[str]:
    """The same labels without the PDF round trip, for tests about HTTP rather than labels:
    the job is ordered through the service and its serials signed with the registry's key,
    exactly as the renderer does (``test_resolver`` proves the two agree)."""
    batch = approve(world)
    job = printing.order_job(db, world.exporter_a, batch.id, printer_org_id=world.print_org.id,
                             stock="a4-3x7", quantity=quantity, net_quantity="500 g")
    db.commit()
    product = world.product_a
    with app.app_context():
        signer = keys.signer()
        return [signer.label_uri(app.config["PUBLIC_HOST"], label_gtin(product),
                                 batch.lot_code, str(serial), app.config["PUBLIC_SCHEME"])
                for serial in range(job.serial_first, job.serial_last + 1)]


def path_of(uri: str) -> str:
    """Where a buyer's phone ends up on the registry's host: the label's verification page,
    the resolver's default link for the label URI (path and query; the redirect itself is
    tests/verify/test_conformance.py's). A page's path is returned as it is."""
    path = label_path(uri)
    return path if path.startswith("/verify/") else "/verify" + path


def label_path(uri: str) -> str:
    """What the phone requests first: path and query of the label URI."""
    parts = urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text("utf-8"))
