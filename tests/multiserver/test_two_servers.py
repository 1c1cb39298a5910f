"""Issue 12, acceptance 1: two app servers with their own instance folders, on one PostgreSQL,
one Redis and one S3 store, give the same answers.

A key is made through A; labels ordered through B and downloaded through A verify genuine on
both; a revocation through A is honoured by B within 2 s; a photo uploaded through A is served
by B; with Redis stopped, login still answers and /readyz names what is down. The tests run
in file order on one stack (the last one stops Redis)."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, select

from conftest import PASSWORD, World, decode_qr_codes, evidence_pdf
from registry.catalog.certification import Action
from registry.gs1.digital_link import parse_uri
from registry.printing.models import PrintJob
from tests.multiserver.conftest import Browser, Stack
from tests.verify.verify_support import path_of

pytestmark = pytest.mark.slow
JSON = {"Accept": "application/json"}


def _verdict(browser: Browser, uri: str) -> str:
    response = browser.get(path_of(uri), headers=JSON)
    assert response.status_code == 200, (response.status_code, response.text[:300])
    return str(response.json()["verdict"])


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def test_labels_ordered_on_b_downloaded_on_a_verify_on_both_and_revocation_reaches_b(
        stack: Stack, cast: tuple[World, Session]) -> None:
    world, session = cast
    made = stack.a.flask("keys", "ensure")  # a key made through A
    kid = made.split()[-1]

    exporter_a = stack.a.browser()
    assert exporter_a.login("a@test.id", PASSWORD).status_code == 302
    uploaded = exporter_a.post(
        f"/batches/{world.batch_a.id}/documents", {"kind": "phytosanitary"},
        token_from=f"/batches/{world.batch_a.id}",
        files={"file": ("phyto.pdf", evidence_pdf(), "application/pdf")})
    assert uploaded.status_code == 302, uploaded.text[:500]
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)

    exporter_b = stack.b.browser()
    assert exporter_b.login("a@test.id", PASSWORD).status_code == 302
    ordered = exporter_b.post(f"/batches/{world.batch_a.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "a4-3x7", "quantity": "3",
        "net_quantity": "500 g"}, token_from=f"/batches/{world.batch_a.id}/labels")
    assert ordered.status_code == 302, ordered.text[:500]
    job = session.exec(select(PrintJob).where(PrintJob.batch_id == world.batch_a.id)).one()

    printer_a = stack.a.browser()
    assert printer_a.login("printer@test.id", PASSWORD).status_code == 302
    pdf = printer_a.download(f"/print-shop/jobs/{job.id}.pdf")
    assert pdf.status_code == 200, pdf.text[:500]
    uris = decode_qr_codes(pdf.content)
    assert len(uris) == 3
    assert {parse_uri(u).key_id for u in uris} == {kid}

    readers = {"A": stack.a.browser(), "B": stack.b.browser()}
    for name, reader in readers.items():
        assert [_verdict(reader, u) for u in uris] == ["genuine"] * 3, name

    published = {name: reader.get("/.well-known/registry-keys.json").json()
                 for name, reader in readers.items()}
    assert published["A"] == published["B"]
    jwks = {name: reader.get("/.well-known/jwks.json").json() for name, reader in readers.items()}
    assert jwks["A"] == jwks["B"] and [k["kid"] for k in jwks["A"]["keys"]] == [kid]

    # The key leaked before these labels were printed: revoked through A from an hour ago,
    # so none of its labels is the registry's any more. B must say so within 2 s.
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    stack.a.flask("keys", "revoke", kid, "--with-successor", "--from", since)
    revoked_at = time.monotonic()
    while _verdict(readers["B"], uris[0]) == "genuine":
        assert time.monotonic() - revoked_at <= 2.0, "B still calls a revoked key's label genuine"
        time.sleep(0.05)
    assert _verdict(readers["B"], uris[1]) != "genuine"
    assert _verdict(readers["A"], uris[2]) != "genuine"
    keys_b = {k["kid"]: k for k in readers["B"].get("/.well-known/registry-keys.json")
              .json()["keys"]}
    assert keys_b[kid]["status"] == "revoked"


def test_a_photo_uploaded_through_a_is_served_by_b(stack: Stack,
                                                  cast: tuple[World, Session]) -> None:
    world, _session = cast
    exporter_a = stack.a.browser()
    assert exporter_a.login("a@test.id", PASSWORD).status_code == 302
    photo = _photo()
    saved = exporter_a.post(f"/products/{world.product_a.id}/photo", {},
                            token_from=f"/products/{world.product_a.id}/edit",
                            files={"photo": ("farm.jpg", photo, "image/jpeg")})
    assert saved.status_code == 302, saved.text[:500]
    served_a = exporter_a.get(f"/products/{world.product_a.id}/photo")
    assert served_a.status_code == 200

    exporter_b = stack.b.browser()
    assert exporter_b.login("a@test.id", PASSWORD).status_code == 302
    served_b = exporter_b.get(f"/products/{world.product_a.id}/photo")
    assert served_b.status_code == 200, served_b.text[:300]
    assert served_b.content == served_a.content
    assert served_b.headers["Content-Type"] == "image/jpeg"
    assert not list(Path(stack.b.env["UPLOAD_DIR"]).glob("*.jpg"))  # not from B's own disk


def test_with_redis_stopped_login_answers_and_readyz_names_redis(stack: Stack,
                                                                cast: tuple[World, Session]) -> (
        None):
    ready = stack.b.browser().get("/readyz")
    assert ready.status_code == 200, ready.text
    stack.redis.stop()
    try:
        for server in (stack.a, stack.b):
            browser = server.browser()
            response = browser.login("a@test.id", PASSWORD)
            assert response.status_code == 302, (server.name, response.status_code)
            wrong = server.browser().login("b@test.id", "not the password at all")
            assert wrong.status_code in (200, 422), (server.name, wrong.status_code)
            ready = browser.get("/readyz")
            assert ready.status_code == 503
            body = ready.json()
            assert body["checks"]["redis"] != "ok"
            assert body["checks"]["database"] == "ok"
            assert "registry-test" not in json.dumps(body)  # no credentials in the answer
    finally:
        stack.redis.start()
    deadline = time.monotonic() + 10
    while stack.b.browser().get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "B did not become ready again after Redis returned"
        time.sleep(0.2)
