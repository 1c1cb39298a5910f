"""The certification round trip in a real browser: an exporter registers and submits a batch,
the NTB trade office approves it, the exporter sees it certified. Plus the phone login."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from babel.dates import format_date
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from conftest import PASSWORD, World, evidence_pdf, totp_secret
from registry.audit import services as audit
from registry.catalog.certification import Status
from registry.catalog.models import Batch, Document
from registry.clock import today
from registry.plots import rules as plot_rules

pytestmark = pytest.mark.browser

LOT = "NTB-MADU-0711"


def _sign_in(page: Page, email: str, *, email_label: str = "E-mail",
             password_label: str = "Password", button: str = "Sign in") -> None:
    page.goto("/login")
    page.get_by_label(email_label, exact=True).fill(email)
    page.get_by_label(password_label, exact=True).fill(PASSWORD)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    if urlsplit(page.url).path == "/login/second-factor":
        # Officers and admins owe the authenticator's code (the world's key; the first
        # sign-in of this user in the test, so the current code is fresh).
        page.get_by_label("Code from your authenticator app, or a recovery code",
                          exact=True).fill(pyotp.TOTP(totp_secret(email)).now())
        page.get_by_role("button", name=button, exact=True).click()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".flash")).to_contain_text("You are signed out.")


def _no_horizontal_scroll(page: Page) -> tuple[int, int]:
    return page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")


def test_batch_from_registration_to_certificate(new_context: Callable[..., Any], world: World,
                                                db: Session, tmp_path: Path) -> None:
    context = new_context()
    page = context.new_page()
    pdf = tmp_path / "phytosanitary.pdf"
    pdf.write_bytes(evidence_pdf("Badan Karantina Indonesia - Phytosanitary certificate",
                                 f"Lot {LOT}: Madu Sumbawa, 950.5 kg, Sumbawa (52.04)",
                                 title="Phytosanitary certificate"))
    produced = today() - dt.timedelta(days=4)
    best_before = today() + dt.timedelta(days=540)
    valid_until = today() + dt.timedelta(days=200)

    # -- The exporter of company A signs in and registers a batch of Sumbawa honey.
    _sign_in(page, "a@test.id")
    expect(page).to_have_url(re.compile(r"/batches$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My batches")
    page.get_by_role("link", name="Register a batch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a batch")
    page.get_by_label("Product", exact=True).select_option(str(world.product_a.id))
    page.get_by_label("Lot code").fill(LOT)
    page.get_by_label("Quantity").fill("950.5")
    page.get_by_label("Unit").select_option("kg")
    page.get_by_label("Production or harvest date").fill(produced.isoformat())
    page.get_by_label("Best before (optional)").fill(best_before.isoformat())
    page.get_by_label("Origin regency").select_option("52.04")
    page.get_by_label("Producer or cooperative").fill("Koperasi Madu Hutan Batu Dulang")
    page.get_by_label("Export hub").select_option("benoa")
    page.get_by_label("Destination country").select_option("JP")
    page.get_by_label("Declared export value (IDR)").fill("123000000")
    page.get_by_role("button", name="Save draft").click()

    expect(page).to_have_url(re.compile(r"/batches/\d+$"))
    batch_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator(".flash")).to_contain_text("Draft batch saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Batch {LOT}")
    facts = page.locator("dl.batch-facts")
    expect(facts).to_contain_text("950.5 kg")
    expect(facts).to_contain_text("Kabupaten Sumbawa, Nusa Tenggara Barat")
    expect(facts).to_contain_text("Japan")
    expect(facts).to_contain_text("Rp 123,000,000")
    expect(facts).to_contain_text(format_date(produced, "medium", locale="en"))
    expect(facts.locator(".badge")).to_have_text("Draft")

    # -- ... attaches the phytosanitary certificate as evidence ...
    page.get_by_label("Document type").select_option("phytosanitary")
    page.get_by_label("File (PDF, JPEG or PNG, at most 10 MB)").set_input_files(pdf)
    page.get_by_label("Show on the public verification page").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Document added.")
    documents = page.locator("ul.documents")
    expect(documents).to_contain_text("Phytosanitary certificate")
    expect(documents).to_contain_text("phytosanitary.pdf")
    expect(documents).to_contain_text("public")

    # -- ... records the coffee's production plot (EU due diligence: pasted coordinates of a
    # point inside Sumbawa), back on the batch page ...
    centre = plot_rules.regency_shapes()["52.04"].representative_point()
    page.goto(f"/batches/{batch_id}/plots")
    page.get_by_label("Coordinates (optional if you upload a file)").fill(
        f"{centre.y:.6f}, {centre.x:.6f}")
    page.get_by_label("Area in hectares (for a single plot)").fill("2")
    page.get_by_label("Production place (village, farm)").fill("Desa Batu Dulang")
    page.get_by_label("Producer (farmer or cooperative)").fill("Koperasi Madu Hutan")
    page.get_by_label("Production period: from").fill(
        (produced - dt.timedelta(days=90)).isoformat())
    page.get_by_label("Production period: to").fill(produced.isoformat())
    page.get_by_role("button", name="Record plots").click()
    expect(page.locator(".flash")).to_contain_text("Production plots recorded.")
    page.goto(f"/batches/{batch_id}")

    # -- ... submits it for certification, and signs out.
    page.get_by_role("button", name="Submit for certification").click()
    expect(page.locator(".flash")).to_contain_text("Submitted.")
    expect(facts.locator(".badge")).to_have_text("Submitted")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Upload")).to_have_count(0)
    _sign_out(page)

    # -- The NTB trade office finds it in its review queue.
    _sign_in(page, "officer.ntb@test.id")
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    row = page.get_by_role("row").filter(has_text=LOT)
    expect(row).to_contain_text("Company A")
    expect(row).to_contain_text("Kabupaten Sumbawa")
    expect(row.locator(".badge")).to_have_text("Submitted")
    row.get_by_role("link", name=LOT).click()

    expect(page).to_have_url(re.compile(rf"/review/batches/{batch_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Review batch {LOT}")
    expect(page.locator("ul.documents")).to_contain_text("Phytosanitary certificate")
    approve = page.locator("form.decision-approve")
    expect(approve).to_be_visible()
    expect(page.locator("form.decision-reject")).to_be_visible()
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

    # The evidence opens for the officer (same origin, the officer's session cookie).
    evidence = context.request.get(
        page.locator("ul.documents a").first.get_attribute("href") or "")
    assert evidence.ok and evidence.body().startswith(b"%PDF-")

    # -- The officer approves it with a validity date.
    approve.get_by_label("Certified until").fill(valid_until.isoformat())
    approve.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash")).to_contain_text("Batch approved and certified.")
    expect(facts.locator(".badge")).to_have_text("Certified")
    shown_until = format_date(valid_until, "medium", locale="en")
    expect(facts).to_contain_text(f"Certified until{shown_until}")
    expect(page.locator("form.decision-approve")).to_have_count(0)
    expect(page.locator("form.decision-suspend")).to_be_visible()
    page.screenshot(path=str(tmp_path / "review-approved.png"), full_page=True)
    _sign_out(page)

    # -- The exporter signs in again and finds the batch certified, with the decision.
    _sign_in(page, "a@test.id")
    certified = page.locator("section").filter(
        has=page.get_by_role("heading", level=2, name="Certified"))
    expect(certified.get_by_role("link", name=LOT)).to_be_visible()
    certified.get_by_role("link", name=LOT).click()
    expect(facts.locator(".badge")).to_have_text("Certified")
    decisions = page.locator("ul.decisions")
    expect(decisions).to_contain_text("Approve")
    expect(decisions).to_contain_text("officer.ntb")
    expect(decisions).to_contain_text(f"valid until {shown_until}")
    history = page.locator("ol.history")
    for entry in ("Batch registered", "Document added", "Submitted for certification",
                  "Approved"):
        expect(history).to_contain_text(entry)
    expect(page.get_by_role("button", name="Submit for certification")).to_have_count(0)

    assert context.http_errors == []

    # What the browser showed is what the database holds.
    db.expire_all()
    batch = db.get(Batch, batch_id)
    assert batch is not None
    assert batch.status == Status.APPROVED
    assert batch.valid_until == valid_until
    assert batch.origin_regency_code == "52.04"
    assert batch.best_before == best_before
    assert batch.declared_value_idr == 123_000_000
    assert batch.destination_country == "JP"
    documents_rows = db.exec(select(Document).where(Document.batch_id == batch_id)).all()
    assert [(d.kind, d.is_public) for d in documents_rows] == [("phytosanitary", True)]
    actions = [e.action for e in audit.events_for(db, "batch", batch_id)]
    assert actions == ["batch.create", "document.add", "plot.add", "batch.submit",
                       "batch.approve"]


def test_phone_login_in_indonesian_without_javascript(new_context: Callable[..., Any],
                                                      world: World, tmp_path: Path) -> None:
    context = new_context(locale="id-ID", viewport={"width": 390, "height": 844},
                          is_mobile=True, has_touch=True, java_script_enabled=False)
    page = context.new_page()
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk")
    scroll_width, client_width = _no_horizontal_scroll(page)
    assert client_width == 390
    assert scroll_width <= client_width, f"horizontal scroll: {scroll_width} > {client_width}"
    page.screenshot(path=str(tmp_path / "login-phone.png"), full_page=True)

    _sign_in(page, "a@test.id", email_label="Surel", password_label="Kata sandi",
             button="Masuk")
    expect(page).to_have_url(re.compile(r"/batches$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Batch saya")
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    assert context.http_errors == []
