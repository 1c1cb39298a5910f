"""Issue 11, acceptance 2: the whole promise, as a buyer's phone sees it.

A trade office certifies a batch of honey (1,200 kg), the print shop prints its labels and the
codes are decoded from the PDF's pixels. Then everything the hostile look tried at once: the
exporter renames the product and tries to move its GTIN, orders far beyond the certified
quantity, prints a proof sheet before and after a real job, and one address scans a printed
label with six browsers. Every printed label must still read "genuine and certified" with the
certified facts, the over-order must be refused with its numbers, and no proof code may ever
verify.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import Session, select
from test_frozen_facts import (
    COMPANY_GTIN,
    FAKE_NAME,
    certified_honey,
    path_of,
    signed_in,
)

from conftest import Client, decode_qr_codes, order_and_download
from registry.gs1.digital_link import parse_uri
from registry.printing.models import PrintJob

PHONE = "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"


def _json(app: Flask, uri: str, address: str = "198.51.100.7", agent: str = PHONE) -> Any:
    """The verification JSON a phone at ``address`` gets for ``uri``."""
    phone = app.test_client()
    phone.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    response = phone.get(path_of(uri), headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def _certified_as_shown(app: Flask, uri: str, address: str = "198.51.100.7",
                        agent: str = PHONE) -> None:
    body = _json(app, uri, address, agent)
    assert body["verdict"] == "genuine", body
    assert body["batch"]["product_name"] == "Sumbawa Forest Honey", body["batch"]
    assert body["batch"]["hs_code"] == "040900"


def _jobs(db: Session, batch_id: int) -> list[tuple[int, str]]:
    db.expire_all()
    return [(j.quantity, j.net_quantity) for j in db.exec(
        select(PrintJob).where(PrintJob.batch_id == batch_id).order_by(PrintJob.id)).all()]


def test_a_label_reads_genuine_only_for_what_was_certified_and_printed(
        app: Flask, world: Any, db: Session, make_client: Any) -> None:
    product, batch = certified_honey(world, db, app)
    exporter = signed_in(make_client, "a@test.id")
    printer = signed_in(make_client, "printer@test.id")

    # A proof sheet before any job: its codes are specimens, never labels.
    proof = exporter.get(f"/batches/{batch.id}/labels/proof.pdf?stock=a4-3x7&net=500%20g")
    assert proof.status_code == 200
    specimens = decode_qr_codes(proof.get_data())
    assert specimens
    assert {_json(app, uri)["verdict"] for uri in specimens} == {"specimen"}

    printed = decode_qr_codes(order_and_download(exporter, printer, world, db, batch))
    assert len(printed) == 3
    for uri in printed:
        _certified_as_shown(app, uri)

    # The exporter rewrites the product after certification and tries to move its GTIN.
    form = {"name_id": FAKE_NAME, "name_en": FAKE_NAME, "category": "agriculture",
            "hs_code": "090111", "gtin": "", "description": "Civet coffee"}
    edit = f"/products/{product.id}/edit"
    assert exporter.post(edit, form, token_from=edit).status_code == 302
    moved = exporter.post(edit, {**form, "gtin": COMPANY_GTIN}, token_from=edit)
    assert moved.status_code == 200 and "GTIN can no longer change" in moved.get_data(
        as_text=True)

    # Far beyond what was certified: 1,200 kg × 1.02 allows 1,224 kg; 1.5 kg already labelled.
    over = exporter.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "a4-3x7", "quantity": "2446",
        "net_quantity": "500 g"})
    assert over.status_code == 200
    page = over.get_data(as_text=True)
    for number in ("1.5", "1,223", "1,224"):  # labelled already, this order, allowed
        assert number in page, number
    assert _jobs(db, batch.id) == [(3, "500 g")]

    # A real job after the proof: the proof's codes (the serials it showed) still never verify.
    more = decode_qr_codes(order_and_download(exporter, printer, world, db, batch, quantity=2))
    assert {_json(app, uri)["verdict"] for uri in specimens} == {"specimen"}
    assert {parse_uri(u).serial for u in more}.isdisjoint({parse_uri(u).serial
                                                           for u in specimens})

    # Every printed label, old and new, still shows the certified honey, and six browsers on
    # one address do not make any of them read "possible copy" for the next buyer.
    for uri in printed + more:
        for n in range(6):
            _certified_as_shown(app, uri, "203.0.113.50", f"{PHONE} Browser/{n}")
        _certified_as_shown(app, uri, "192.0.2.80")


def test_a_proof_never_verifies_through_the_page_either(
        app: Flask, world: Any, db: Session, make_client: Any, client: Client) -> None:
    """The page a phone opens for a proof's code says specimen, in the reader's language."""
    _product, batch = certified_honey(world, db, app)
    client.login("a@test.id")
    proof = client.get(f"/batches/{batch.id}/labels/proof.pdf?stock=a4-3x7&net=500%20g")
    uri = decode_qr_codes(proof.get_data())[0]
    page = make_client().get(path_of(uri) + "&lang=id", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Asli dan bersertifikat" not in html and "Genuine and certified" not in html
    assert "CONTOH" in html.upper()
