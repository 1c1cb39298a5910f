"""Print jobs end to end: ordering, serial ranges, downloads decoded from pixels, access."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import threading
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from PIL import Image
from sqlmodel import Session, select

from conftest import CHEAP_HASHING, PASSWORD, Client, World, decode_qr_codes, published_keys
from registry.accounts import services as accounts
from registry.accounts.models import Organisation, OrgKind, Role
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.gs1.digital_link import parse_uri
from registry.printing import services as printing
from registry.printing.models import PrintJob, Reprint
from registry.signing.verifier import VerifyStatus, verify_uri


def _approve(world: World, batch: Batch | None = None) -> Batch:
    batch = batch or world.batch_a
    world.submit(batch, world.exporter_a)
    world.decide(batch, world.officer_ntb, Action.APPROVE)
    return batch


def _order(client: Client, world: World, batch: Batch, quantity: int = 21,
           stock: str = "a4-3x7", net: str = "500 g") -> Any:
    return client.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": stock, "quantity": str(quantity),
        "net_quantity": net})


def test_order_allocates_contiguous_serials(client: Client, world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    assert _order(client, world, batch, 21).status_code == 302
    assert _order(client, world, batch, 5).status_code == 302
    jobs = db.exec(select(PrintJob).order_by(PrintJob.id)).all()
    assert [(j.serial_first, j.serial_last) for j in jobs] == [(1, 21), (22, 26)]
    page = client.get(f"/batches/{batch.id}/labels").get_data(as_text=True)
    assert "1–21" in page and "22–26" in page
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "printjob.order")).all()


@pytest.mark.parametrize("fate", ["draft", "submitted", "rejected", "suspended", "revoked",
                                  "expired"])
def test_no_labels_unless_certified_and_valid(client: Client, world: World, db: Session,
                                              fate: str) -> None:
    batch = world.batch_a
    if fate != "draft":
        world.submit(batch, world.exporter_a)
    if fate == "rejected":
        world.decide(batch, world.officer_ntb, Action.REJECT)
    if fate in ("suspended", "revoked", "expired"):
        world.decide(batch, world.officer_ntb, Action.APPROVE)
    if fate == "suspended":
        world.decide(batch, world.officer_ntb, Action.SUSPEND)
    if fate == "revoked":
        world.decide(batch, world.officer_ntb, Action.REVOKE)
    if fate == "expired":
        batch.valid_until = dt.date(2020, 1, 1)
        db.add(batch)
        db.commit()
    client.login("a@test.id")
    assert _order(client, world, batch).status_code == 409
    assert client.get(f"/batches/{batch.id}/labels/preview.png").status_code == 409
    assert client.get(f"/batches/{batch.id}/labels/proof.pdf").status_code == 409
    assert db.exec(select(PrintJob)).all() == []


def test_printer_pdf_decodes_to_signed_uris(app: Flask, client: Client, make_client: Any,
                                            world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    assert _order(client, world, batch, 24).status_code == 302  # 2 sheets of 21
    printer = make_client()
    printer.login("printer@test.id")
    listing = printer.get("/print-shop").get_data(as_text=True)
    assert "A-LOT-1" in listing
    job = db.exec(select(PrintJob)).one()
    response = printer.download(f"/print-shop/jobs/{job.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.get_data()
    keys = published_keys(app)
    for dpi in (300, 150):
        uris = decode_qr_codes(pdf, dpi)
        serials = sorted(int(parse_uri(u).serial) for u in uris)
        assert serials == list(range(1, 25)), dpi
        for uri in uris:
            assert verify_uri(uri, keys).status is VerifyStatus.VALID
            link = parse_uri(uri)
            assert link.lot == "A-LOT-1"
            assert uri.startswith(f"{app.config['PUBLIC_SCHEME']}://{app.config['PUBLIC_HOST']}/01/")
    text = _pdf_text(pdf)
    assert "Made in Bali–NTB–NTT" in text and "Sumbawa Honey" in text
    db.expire_all()
    assert db.get(PrintJob, job.id).downloads == 1
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "printjob.download")).one()


def _pdf_text(pdf: bytes) -> str:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        # Lines wrap inside their boxes; compare words, not line breaks.
        return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in doc)
    finally:
        doc.close()


def test_reprint_reissues_the_same_serials(app: Flask, client: Client, make_client: Any,
                                           world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    _order(client, world, batch, 50)  # sheets: 1-21, 22-42, 43-50
    printer = make_client()
    printer.login("printer@test.id")
    job = db.exec(select(PrintJob)).one()
    response = printer.post(f"/print-shop/jobs/{job.id}/reprint",
                            {"sheet_first": "2", "sheet_last": "2", "reason": "jammed"})
    assert response.status_code == 200
    serials = sorted(int(parse_uri(u).serial) for u in decode_qr_codes(response.get_data(), 200))
    assert serials == list(range(22, 43))
    reprint = db.exec(select(Reprint)).one()
    assert (reprint.sheet_first, reprint.sheet_last, reprint.reason) == (2, 2, "jammed")
    bad = printer.post(f"/print-shop/jobs/{job.id}/reprint",
                       {"sheet_first": "3", "sheet_last": "9", "reason": "jammed"})
    assert bad.status_code == 302
    assert len(db.exec(select(Reprint)).all()) == 1
    # No new serials were allocated by the reprint.
    assert printing.next_free_serial(db, batch.id) == 51


def test_other_print_shop_gets_404(client: Client, make_client: Any, world: World,
                                   db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    _order(client, world, batch, 3)
    job = db.exec(select(PrintJob)).one()
    other = Organisation(kind=OrgKind.PRINTER, name="Other shop", province_code="52")
    db.add(other)
    db.flush()
    accounts.create_user(db, None, email="printer.b@test.id", name="B", role=Role.PRINTER,
                         organisation_id=other.id, password=PASSWORD, hashing=CHEAP_HASHING)
    db.commit()
    shop_b = make_client()
    shop_b.login("printer.b@test.id")
    assert "A-LOT-1" not in shop_b.get("/print-shop").get_data(as_text=True)
    assert shop_b.download(f"/print-shop/jobs/{job.id}.pdf").status_code == 404
    assert shop_b.download(f"/print-shop/jobs/{job.id}.zpl").status_code == 404
    assert shop_b.post(f"/print-shop/jobs/{job.id}/reprint",
                       {"sheet_first": "1", "sheet_last": "1"}).status_code == 404
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "printjob.download")).all() == []


def test_suspension_after_ordering_blocks_download(client: Client, make_client: Any,
                                                   world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    _order(client, world, batch, 3)
    world.decide(batch, world.officer_ntb, Action.SUSPEND)
    printer = make_client()
    printer.login("printer@test.id")
    job = db.exec(select(PrintJob)).one()
    response = printer.download(f"/print-shop/jobs/{job.id}.pdf")
    assert response.status_code == 409
    assert "can no longer be printed" in response.get_data(as_text=True)
    assert "do not print" in printer.get("/print-shop").get_data(as_text=True)


def test_parallel_orders_never_overlap(app: Flask, world: World, db: Session) -> None:
    batch = _approve(world)
    barrier = threading.Barrier(4, timeout=30)
    ranges: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def order(n: int) -> None:
        try:
            with Session(app.extensions["engine"], expire_on_commit=False) as session:
                exporter = session.get(accounts.User, world.exporter_a.id)
                barrier.wait()
                job = printing.order_job(session, exporter, batch.id,
                                         printer_org_id=world.print_org.id, stock="a4-3x7",
                                         quantity=n, net_quantity="500 g")
                session.commit()
                ranges.append((job.serial_first, job.serial_last))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=order, args=(n,)) for n in (100, 250, 7, 1000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    ranges.sort()
    assert ranges[0][0] == 1 and ranges[-1][1] == 1357
    for (_, last), (first, _) in itertools.pairwise(ranges):
        assert first == last + 1  # contiguous, no overlap, no gap


def test_preview_png_and_proof_pdf(client: Client, world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    png = client.get(f"/batches/{batch.id}/labels/preview.png?stock=roll-50x30&net=250+g")
    assert png.status_code == 200 and png.mimetype == "image/png"
    image = Image.open(io.BytesIO(png.get_data()))
    # Model 2 only: zxing-cpp 3's QRCode family also reads Micro and rMQR codes, and once
    # read a 6-digit rMQR/Micro code out of a label's pattern (a flaky CI failure).
    decoded = [r.text for r in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)]
    assert len(decoded) == 1 and parse_uri(decoded[0]).lot == "A-LOT-1"
    proof = client.get(f"/batches/{batch.id}/labels/proof.pdf?stock=a4-2x4")
    assert proof.status_code == 200
    assert len(decode_qr_codes(proof.get_data(), 150)) == 8
    assert db.exec(select(PrintJob)).all() == []  # a proof allocates nothing
    assert client.get(f"/batches/{batch.id}/labels/preview.png?stock=nope").status_code == 404


ZPL_FIELD = re.compile(r"\^FD(.*?)\^FS", re.S)


def _unhex(text: str) -> str:
    return re.sub(rb"_([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  text.encode()).decode()


def test_zpl_for_thermal_rolls_parses_back(app: Flask, client: Client, make_client: Any,
                                           world: World, db: Session) -> None:
    batch = _approve(world)
    client.login("a@test.id")
    _order(client, world, batch, 3, stock="roll-60x40")
    _order(client, world, batch, 3, stock="a4-3x7")
    printer = make_client()
    printer.login("printer@test.id")
    roll, sheet = db.exec(select(PrintJob).order_by(PrintJob.id)).all()
    assert printer.download(f"/print-shop/jobs/{sheet.id}.zpl").status_code == 404
    response = printer.download(f"/print-shop/jobs/{roll.id}.zpl")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    labels = [chunk for chunk in body.split("^XZ") if "^XA" in chunk]
    assert len(labels) == 3
    keys = published_keys(app)
    for serial, label in enumerate(labels, start=1):
        commands = label.split("^")
        assert any(c.startswith("BQN,2,") for c in commands)
        fields = [_unhex(f) for f in ZPL_FIELD.findall(label)]
        qr = next(f for f in fields if f.startswith("MA,"))
        uri = qr.removeprefix("MA,")
        assert verify_uri(uri, keys).status is VerifyStatus.VALID
        assert parse_uri(uri).serial == str(serial)
        assert f"No. {serial}" in fields
        assert "Made in Bali–NTB–NTT" in " ".join(fields)
