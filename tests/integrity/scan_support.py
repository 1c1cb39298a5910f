"""Shared by helper C's integrity tests: a certified batch of company A with printed (signed)
labels, phones with their own network address, the scan buffer written on demand, and a
desk as its user reads it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import Session

from conftest import World
from registry.catalog.certification import Action
from registry.catalog.services import label_gtin
from registry.printing import services as printing
from registry.signing import keys
from tests.verify.verify_support import path_of

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"


def certified_labels(app: Flask, world: World, db: Session, quantity: int = 3) -> list[str]:
    """Labels of a print job of batch A, certified by the NTB office, signed as the
    renderer signs them (tests/verify/test_resolver.py proves the two agree)."""
    batch = world.batch_a
    world.submit(batch, world.exporter_a)
    world.decide(batch, world.officer_ntb, Action.APPROVE)
    job = printing.order_job(db, world.exporter_a, batch.id, printer_org_id=world.print_org.id,
                             stock="a4-3x7", quantity=quantity, net_quantity="500 g")
    db.commit()
    return [sign(app, world, str(serial))
            for serial in range(job.serial_first, job.serial_last + 1)]


def sign(app: Flask, world: World, serial: str, lot: str | None = None) -> str:
    """A correctly signed label URI of product A (printed or not)."""
    with app.app_context():
        return keys.signer().label_uri(
            app.config["PUBLIC_HOST"], label_gtin(world.product_a),
            lot or world.batch_a.lot_code, serial, app.config["PUBLIC_SCHEME"])




def phone(app: Flask, ip: str, agent: str = PHONE) -> Any:
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    return client


def verdict(client: Any, uri: str, **headers: str) -> str:
    response = client.get(path_of(uri), headers={"Accept": "application/json", **headers})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return str(response.json["verdict"])


def flush(app: Flask) -> int:
    return int(app.extensions["label_resolver"].buffer().flush())


def desk_page(make_client: Any, email: str, query: str = "") -> str:
    """``/desk`` in English as ``email`` sees it, ``query`` appended ("&show=copies")."""
    user = make_client()
    user.login(email)
    response = user.get(f"/desk?lang=en{query}")
    assert response.status_code == 200, (email, query, response.status_code)
    return str(response.get_data(as_text=True))
