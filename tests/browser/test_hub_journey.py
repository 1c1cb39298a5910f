"""The Bali hub in a real browser: the exporter declares a shipment of its certified batch,
the Bali trade office confirms the passage, and a buyer's phone sees the journey on the
label's verification page (in English and Indonesian, no JavaScript needed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from conftest import PASSWORD, World, totp_secret
from registry.catalog.certification import Action
from registry.catalog.services import label_gtin
from registry.clock import today
from registry.printing import services as printing
from registry.shipments.models import Shipment
from registry.signing import keys

pytestmark = pytest.mark.browser


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    if urlsplit(page.url).path == "/login/second-factor":
        page.get_by_label("Code from your authenticator app, or a recovery code",
                          exact=True).fill(pyotp.TOTP(totp_secret(email)).now())
        page.get_by_role("button", name="Sign in", exact=True).click()


def _label(app: Flask, world: World, db: Session) -> str:
    """Batch A certified by the NTB office, one label printed and signed for it."""
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    job = printing.order_job(db, world.exporter_a, world.batch_a.id,
                             printer_org_id=world.print_org.id,  # type: ignore[arg-type]
                             stock="a4-3x7", quantity=1, net_quantity="500 g")
    db.commit()
    with app.app_context():
        return keys.signer().label_uri(app.config["PUBLIC_HOST"], label_gtin(world.product_a),
                                       world.batch_a.lot_code, str(job.serial_first),
                                       app.config["PUBLIC_SCHEME"])


def test_declare_confirm_and_the_buyer_sees_the_journey(
        new_context: Callable[..., Any], app: Flask, world: World, db: Session) -> None:
    uri = _label(app, world, db)
    context = new_context()
    page = context.new_page()

    # -- The exporter declares a sea shipment from Benoa to Rotterdam.
    _sign_in(page, "a@test.id")
    page.goto(f"/batches/{world.batch_a.id}")
    page.get_by_role("link", name="Shipments", exact=True).click()
    page.get_by_label("Export hub").select_option("benoa")
    page.get_by_label("Planned shipment date").fill((today() + dt.timedelta(days=2)).isoformat())
    page.get_by_label("PEB registration number").fill("012345")
    page.get_by_label("PEB date").fill(today().isoformat())
    page.get_by_label("Bill of lading or air waybill number").fill("MAEU123456789")
    page.get_by_label("Container numbers (by sea)").fill("CSQU3054384")
    page.get_by_label("Destination port (UN/LOCODE)").fill("NLRTM")
    page.get_by_label("Quantity shipped").fill("300")
    page.get_by_role("button", name="Declare the shipment").click()
    # A mistyped container number is said under its field; fixed, the declaration passes.
    expect(page.locator(".field.has-error")).to_contain_text("does not add up")
    page.get_by_label("Container numbers (by sea)").fill("CSQU3054383")
    page.get_by_role("button", name="Declare the shipment").click()
    expect(page.locator(".flash")).to_contain_text("Shipment declared.")
    expect(page.get_by_role("table")).to_contain_text("Declared, waiting for the hub")
    page.get_by_role("button", name="Sign out").click()

    # -- The Bali trade office confirms the passage of this NTB batch.
    _sign_in(page, "officer.bali@test.id")
    page.get_by_role("link", name="Hub passages").first.click()
    row = page.get_by_role("row").filter(has_text="A-LOT-1")
    expect(row).to_contain_text("Company A")
    row.get_by_role("link").first.click()
    page.get_by_label("Passed the hub on").fill(today().isoformat())
    page.get_by_label("Remarks").fill("Seals intact")
    page.get_by_role("button", name="Confirm the passage").click()
    expect(page.locator(".flash")).to_contain_text("Passage through the hub confirmed.")
    page.get_by_role("button", name="Sign out").click()
    # The only error answer: the form sent back with the mistyped container (422).
    assert [e.split(" ", 2)[:2] for e in context.http_errors] == [["422", "POST"]]

    # -- A buyer scans the label: the journey, without JavaScript, in English and Indonesian.
    phone = new_context(java_script_enabled=False).new_page()
    phone.goto(uri)
    journey = phone.locator("ol.journey")
    expect(journey.locator("li")).to_have_count(4)
    expect(journey).to_contain_text("Harvested or produced in Kabupaten Sumbawa")
    expect(journey).to_contain_text("Certified by Office 52")
    expect(journey).to_contain_text("Passed the Bali hub: Pelabuhan Benoa (IDBOA)")
    expect(journey).to_contain_text("Shipped to Rotterdam (NLRTM), Netherlands")
    phone.goto(uri + "&lang=id")
    expect(phone.locator("ol.journey")).to_contain_text("Dikirim ke Rotterdam (NLRTM), Belanda")

    db.expire_all()
    [shipment] = db.exec(select(Shipment)).all()
    assert (shipment.status, shipment.remarks, shipment.container_list) == (
        "confirmed", "Seals intact", ["CSQU3054383"])
