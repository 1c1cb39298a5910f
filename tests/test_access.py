"""Who may open what: every route of the app against every kind of visitor.

The matrix below lists each (endpoint, method) the app serves; ``test_matrix_covers_every_route``
fails as soon as a route is added without an entry here, so the matrix stays complete.
A cell signs in, sends the request (POSTs with a valid CSRF token) and checks the status code
and that nothing changed unless the visitor was allowed to change it. The visitors who may not
change anything share one database per route (none of them may change it, so each meets the
same state); each visitor who may write gets a fresh database of its own.
Then the cross-cutting session rules: CSRF, open redirects, the login rate limit, logout,
session fixation, security headers and the health check.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from conftest import (
    CHEAP_HASHING,
    PASSWORD,
    Client,
    World,
    batch_form,
    evidence_pdf,
    stored_objects,
)
from registry.accounts import reset
from registry.accounts import services as accounts
from registry.accounts.models import Organisation, RecoveryCode, SecondFactor, User
from registry.api import tokens
from registry.api.models import ApiToken
from registry.audit.models import AuditEvent
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Document, Product
from registry.certificates import services as certificates
from registry.certificates.models import CertificateRule
from registry.certificates.rules import RuleInput
from registry.clock import today
from registry.figures import exportfiles
from registry.figures.queries import Filters
from registry.figures.tasks import write_export_file
from registry.files import store_for
from registry.plots.models import Plot
from registry.printing import services as printing
from registry.printing.models import LabelAllowance, PrintJob, Reprint
from registry.review.models import Decision
from registry.shipments import services as shipments
from registry.shipments.models import Shipment
from registry.shipments.rules import ShipmentInput
from registry.signing.keys import signer
from registry.targets.models import Target
from registry.verify.models import FakeReport

ACTORS = (
    "anonymous", "exporter_a", "exporter_b", "officer_bali", "officer_ntt", "officer_ntb",
    "printer", "admin",
)
EMAILS = {
    "exporter_a": "a@test.id", "exporter_b": "b@test.id", "officer_bali": "officer.bali@test.id",
    "officer_ntt": "officer.ntt@test.id", "officer_ntb": "officer.ntb@test.id",
    "printer": "printer@test.id", "admin": "admin@test.id",
}
SIGNED_IN = ACTORS[1:]
OFFICERS = ("officer_bali", "officer_ntt", "officer_ntb")

# The error page's heading; the text below it depends on who refused (role check or service).
TEXT_403 = "<h1>403</h1>"
TEXT_404 = "<h1>404</h1>"
TEXT_CSRF = "The form expired or was not sent from this site."


def make_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 60)).save(buf, "PNG")
    return buf.getvalue()


# ---------------------------------------------------------------- the scene


@dataclass
class Scene:
    """The world, plus what some routes need: a photo on product A, a public document on
    batch A, a pending exporter of NTB, an API token of exporter A and, by the route's
    ``state``, batch A submitted, or approved with a print job of 3 roll labels."""

    world: World
    app: Flask
    pending_id: int
    document_id: int
    token_id: int
    batch_version: int
    job_id: int = 0
    label_path: str = ""
    report_id: int = 0  # a buyer's report naming product A: the NTB office's and A's desk
    export_id: int = 0  # an XLSX export exporter A asked for, written by the worker
    rule_id: int = 0  # a required-certificate rule (fishery health for fishery)
    shipment_id: int = 0  # state "shipped": a declared shipment of batch A through Benoa

    @property
    def batch_a(self) -> int:
        return self.world.batch_a.id  # type: ignore[return-value]

    @property
    def product_a(self) -> int:
        return self.world.product_a.id  # type: ignore[return-value]


STATES = ("draft", "submitted", "approved", "shipped")


def build_scene(world: World, db: Session, app: Flask, *, state: str) -> Scene:
    assert state in STATES
    limits = {"store": store_for(app), "max_bytes": app.config["MAX_UPLOAD_BYTES"],
              "max_pixels": app.config["MAX_IMAGE_PIXELS"]}
    catalog.set_product_photo(db, world.exporter_a, world.product_a.id, make_png(), **limits)
    doc, _ = catalog.add_document(db, world.exporter_a, world.batch_a.id, kind="phytosanitary",
                                  filename="phyto.pdf", data=evidence_pdf(), is_public=True,
                                  **limits)
    pending = accounts.signup_exporter(
        db, email="pending@test.id", name="Pending", password=PASSWORD,
        company_name="Company P", nib="1234567890125", province_code="52", address="Mataram",
        hashing=CHEAP_HASHING)
    token = tokens.create_token(db, world.exporter_a, name="ERP", access="write").token
    rule = certificates.add_rule(db, world.admin, RuleInput(category="fishery",
                                                            kind="fishery_health"))
    report = FakeReport(gtin="00490000000016", lot="A-LOT-1", serial="99", verdict="not_genuine",
                        message="Seal looks photocopied", language="en", client="0" * 16,
                        product_id=world.product_a.id, organisation_id=world.company_a.id,
                        province_code="52", kind="never_printed")
    db.add(report)
    db.commit()
    with app.test_request_context():
        export = exportfiles.request_export(
            db, world.exporter_a, Filters(start=today().replace(day=1),
                                          end=today().replace(day=1)), "en")
    db.commit()
    with app.app_context():
        write_export_file(export.id)
    if state != "draft":
        world.submit(world.batch_a, world.exporter_a)
    scene = Scene(world=world, app=app, pending_id=pending.id,  # type: ignore[arg-type]
                  document_id=doc.id, token_id=token.id,  # type: ignore[arg-type]
                  batch_version=0, report_id=report.id,  # type: ignore[arg-type]
                  export_id=export.id, rule_id=rule.id)
    if state in ("approved", "shipped"):
        world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
        job = printing.order_job(db, world.exporter_a, world.batch_a.id,
                                 printer_org_id=world.print_org.id,  # type: ignore[arg-type]
                                 stock="roll-50x30", quantity=3, net_quantity="500 g")
        db.commit()
        scene.job_id = job.id  # type: ignore[assignment]
        with app.app_context():
            source = printing.label_source(world.batch_a, world.product_a,
                                           net_quantity="500 g", host="registry.test",
                                           scheme="https")
            uri = next(source.labels(signer(), job.serial_first, job.serial_first)).qr_uri
        parts = urlsplit(uri)
        scene.label_path = parts.path + "?" + parts.query
    if state == "shipped":
        shipment = shipments.declare(db, world.exporter_a, world.batch_a.id, shipment_input())
        db.commit()
        scene.shipment_id = shipment.id
    db.refresh(world.batch_a)
    scene.batch_version = world.batch_a.version
    return scene


def fingerprint(scene: Scene) -> tuple[Any, ...]:
    """Everything a request could change: row counts, the rows routes touch, stored files."""
    engine: Engine = scene.app.extensions["engine"]
    with engine.connect() as conn:
        counts = tuple(conn.execute(select(*[
            select(func.count()).select_from(model).scalar_subquery()  # type: ignore[arg-type]
            for model in (Organisation, User, Product, Batch, Document, Decision, AuditEvent,
                          PrintJob, Reprint, ApiToken, FakeReport, LabelAllowance, SecondFactor,
                          RecoveryCode, Target, CertificateRule, Shipment, Plot)
        ])).one())
        rows = (
            conn.execute(select(Batch.id, Batch.status, Batch.version, Batch.lot_code,
                                Batch.quantity, Batch.producer).order_by(Batch.id)).all(),
            conn.execute(select(Product.id, Product.name_en, Product.photo_stored_name)
                         .order_by(Product.id)).all(),
            conn.execute(select(User.id, User.status, User.session_nonce)
                         .order_by(User.id)).all(),
            conn.execute(select(Document.id, Document.stored_name).order_by(Document.id)).all(),
            conn.execute(select(PrintJob.id, PrintJob.downloads).order_by(PrintJob.id)).all(),
            conn.execute(select(ApiToken.id, ApiToken.revoked_at).order_by(ApiToken.id)).all(),
            conn.execute(select(Shipment.id, Shipment.status).order_by(Shipment.id)).all(),
        )
    files = tuple(stored_objects(scene.app))
    return counts, rows, files


# ---------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: Callable[[Scene], str]
    # Signed-in actors allowed past the role check, with the status they get; every other
    # signed-in actor gets 403 and the anonymous visitor goes to the login page.
    expect: Mapping[str, int]
    # Actors whose request changes the database; for everyone else nothing may change.
    writes: frozenset[str] = frozenset()
    data: Callable[[Scene], dict[str, Any]] | None = None
    state: str = "draft"  # of batch A before the request: draft, submitted or approved
    public: bool = False  # then ``expect`` lists every actor, the anonymous one too

    @property
    def key(self) -> tuple[str, str]:
        return self.endpoint, self.method

    def expected(self, actor: str) -> int:
        if actor in self.expect:
            return self.expect[actor]
        assert not self.public, f"public route {self.endpoint} must list {actor}"
        return 302 if actor == "anonymous" else 403


def _all(status: int, **overrides: int) -> dict[str, int]:
    return {**dict.fromkeys(ACTORS, status), **overrides}


def _signed_in(status: int) -> dict[str, int]:
    return dict.fromkeys(SIGNED_IN, status)


def product_data(_scene: Scene) -> dict[str, Any]:
    return {"name_id": "Kopi Tambora", "name_en": "Tambora Coffee", "category": "agriculture",
            "hs_code": "090111", "gtin": "", "description": "Arabica from Mount Tambora"}


def signup_data(_scene: Scene) -> dict[str, Any]:
    return {"company_name": "CV Tenun Sumba", "nib": "9876543210123", "province_code": "53",
            "address": "Waingapu", "name": "Rambu", "email": "rambu@tenun.id",
            "password": "tenun-ikat-sumba-77", "confirm": "tenun-ikat-sumba-77"}


def reset_link(scene: Scene) -> str:
    """A valid password-reset link of exporter B (as mailed to B), for whoever holds it."""
    engine: Engine = scene.app.extensions["engine"]
    with engine.connect() as conn:
        password_hash = conn.execute(select(User.password_hash).where(
            User.id == scene.world.exporter_b.id)).scalar_one()
    token = reset.make_token(scene.app.config["SECRET_KEY"], scene.world.exporter_b.id,
                             password_hash)
    return f"/password/reset/{token}"


NEW_PASSWORD = {"password": "a-new-long-passphrase-8", "confirm": "a-new-long-passphrase-8"}


def decide_data(scene: Scene) -> dict[str, Any]:
    return {"action": "approve", "version": str(scene.batch_version),
            "valid_until": (today() + dt.timedelta(days=365)).isoformat(), "reason": ""}


def shipment_input() -> ShipmentInput:
    """A sea shipment of 200 kg of batch A (destination NL) through Benoa to Rotterdam."""
    return ShipmentInput(hub="benoa", planned_date=today() + dt.timedelta(days=3),
                         peb_number="012345", peb_date=today(), transport_document="MAEU123456789",
                         containers=("CSQU3054383",), destination_locode="NLRTM",
                         quantity=Decimal("200"))


def shipment_data(_scene: Scene) -> dict[str, Any]:
    return {"hub": "benoa", "planned_date": (today() + dt.timedelta(days=2)).isoformat(),
            "peb_number": "054321", "peb_date": today().isoformat(),
            "transport_document": "MAEU987654321", "containers": "CSQU3054383",
            "destination_locode": "NLRTM", "quantity": "100"}


def user_data(scene: Scene) -> dict[str, Any]:
    return {"name": "New Officer", "email": "new.officer@test.id", "role": "officer",
            "organisation_id": str(scene.world.offices["52"].id),
            "password": "a-long-officer-passphrase-5"}


def plot_data(_scene: Scene) -> dict[str, Any]:
    # A point in Kabupaten Sumbawa (52.04), batch A's origin.
    return {"coordinates": "-8.736600, 117.492649", "declared_ha": "1.5",
            "production_place": "Desa Batu Dulang", "producer_name": "Pak Made",
            "production_start": "2026-05-01", "production_end": "2026-08-31"}


EXPORTER_PAGE = {"exporter_a": 200, "exporter_b": 200}
OFFICES = {**dict.fromkeys(OFFICERS, 200), "admin": 200}
FIGURES = {"exporter_a": 200, "exporter_b": 200, **dict.fromkeys(OFFICERS, 200), "admin": 200}
NOT_ENROLLED = frozenset({"exporter_a", "exporter_b", "printer"})
TOKEN_USERS = {"exporter_a": 200, "exporter_b": 200, **dict.fromkeys(OFFICERS, 200)}
API_ROUTES = [
    ("api.me", "GET", "/api/v1/me"),
    ("api.products_list", "GET", "/api/v1/products"),
    ("api.products_create", "POST", "/api/v1/products"),
    ("api.products_read", "GET", "/api/v1/products/1"),
    ("api.products_update", "PUT", "/api/v1/products/1"),
    ("api.hs_codes", "GET", "/api/v1/hs-codes?q=ikan+kering"),
    ("api.locodes", "GET", "/api/v1/locodes?q=rotterdam"),
    ("api.batches_list", "GET", "/api/v1/batches"),
    ("api.batches_create", "POST", "/api/v1/batches"),
    ("api.batches_read", "GET", "/api/v1/batches/1"),
    ("api.batches_update", "PUT", "/api/v1/batches/1"),
    ("api.batches_upload", "POST", "/api/v1/batches/1/documents"),
    ("api.batches_submit", "POST", "/api/v1/batches/1/submit"),
    ("api.batches_decisions", "GET", "/api/v1/batches/1/decisions"),
    ("api.batches_decide", "POST", "/api/v1/batches/1/decisions"),
    ("api.review_queue", "GET", "/api/v1/review/queue"),
    ("api.print_options", "GET", "/api/v1/print-options"),
    ("api.print_jobs_list", "GET", "/api/v1/batches/1/print-jobs"),
    ("api.print_jobs_create", "POST", "/api/v1/batches/1/print-jobs"),
    ("api.batches_scans", "GET", "/api/v1/batches/1/scans"),
    ("api.batches_plots", "GET", "/api/v1/batches/1/plots.geojson"),
    ("api.targets_list", "GET", "/api/v1/targets?year=2026"),
    ("api.shipments_list", "GET", "/api/v1/batches/1/shipments"),
    ("api.shipments_create", "POST", "/api/v1/batches/1/shipments"),
    ("api.hub_shipments", "GET", "/api/v1/hub/shipments"),
    ("api.shipments_passage", "POST", "/api/v1/shipments/1/passage"),
    ("api.targets_set", "POST", "/api/v1/targets"),
]
OWNER_PAGE = {"exporter_a": 200, "exporter_b": 404}
OWNER_POST = {"exporter_a": 302, "exporter_b": 404}
A = frozenset({"exporter_a"})
# Files of a submitted NTB batch: its exporter, the NTB office and the admin; nobody else.
FILE_ACCESS = {"exporter_a": 200, "exporter_b": 404, "officer_bali": 404, "officer_ntt": 404,
               "officer_ntb": 200, "admin": 200}

ROUTES: tuple[Route, ...] = (
    # -- public
    Route("main.home", "GET", lambda s: "/", _all(302, anonymous=200), public=True),
    Route("main.about", "GET", lambda s: "/about", _all(200), public=True),
    Route("main.sources", "GET", lambda s: "/sources", _all(200), public=True),
    Route("main.healthz", "GET", lambda s: "/healthz", _all(200), public=True),
    Route("main.readyz", "GET", lambda s: "/readyz", _all(200), public=True),
    # The test client's address is loopback, the default METRICS_ALLOW: everyone there may
    # read it; tests/ops/test_metrics.py checks the rule from other addresses.
    Route("metrics.metrics", "GET", lambda s: "/metrics", _all(200), public=True),
    Route("accounts.login", "GET", lambda s: "/login", _all(302, anonymous=200), public=True),
    # A wrong password shows the form again (and is audited); signed-in users are sent home.
    Route("accounts.login", "POST", lambda s: "/login", _all(302, anonymous=200), public=True,
          writes=frozenset({"anonymous"}),
          data=lambda s: {"email": "a@test.id", "password": "not-the-password-1"}),
    # Signing up is for newcomers: signed-in users are sent home and nothing is created.
    Route("accounts.signup", "GET", lambda s: "/signup", _all(302, anonymous=200), public=True),
    Route("accounts.signup", "POST", lambda s: "/signup", _all(302), public=True,
          writes=frozenset({"anonymous"}), data=signup_data),
    # -- any signed-in user
    Route("accounts.logout", "POST", lambda s: "/logout", _signed_in(302),
          writes=frozenset(SIGNED_IN)),
    Route("accounts.change_password", "GET", lambda s: "/account/password", _signed_in(200)),
    Route("accounts.change_password", "POST", lambda s: "/account/password", _signed_in(302),
          writes=frozenset(SIGNED_IN),
          data=lambda s: {"current_password": PASSWORD, **NEW_PASSWORD}),
    # -- password recovery: whoever holds the mailed link (the link is the credential). Asking
    # for a link is recorded (audit) for anyone, with the same answer.
    Route("accounts.forgot_password", "GET", lambda s: "/password/forgot", _all(200),
          public=True),
    Route("accounts.forgot_password", "POST", lambda s: "/password/forgot", _all(200),
          public=True, writes=frozenset(ACTORS), data=lambda s: {"email": "b@test.id"}),
    Route("accounts.reset_password", "GET", reset_link, _all(200), public=True),
    Route("accounts.reset_password", "POST", reset_link, _all(302), public=True,
          writes=frozenset(ACTORS), data=lambda s: NEW_PASSWORD),
    # The second step of signing in: without a password just accepted, back to the login
    # (signed-in users go home), whatever the code.
    Route("accounts.login_second_factor", "GET", lambda s: "/login/second-factor", _all(302),
          public=True),
    Route("accounts.login_second_factor", "POST", lambda s: "/login/second-factor", _all(302),
          public=True, data=lambda s: {"code": "123456"}),
    # Enrolment: the enrolled (officers, admin) see their status; the others get a key waiting
    # for confirmation (a row: the same key on a reload), and a wrong code is refused (the
    # answer is an error: nothing is kept).
    Route("accounts.two_factor", "GET", lambda s: "/account/two-factor", _signed_in(200),
          writes=NOT_ENROLLED),
    Route("accounts.two_factor", "POST", lambda s: "/account/two-factor",
          {**_signed_in(200), **dict.fromkeys(NOT_ENROLLED, 422)},
          data=lambda s: {"code": "000000"}),
    # Re-authentication: a wrong password shows the form again, and is audited.
    Route("accounts.reauth", "GET", lambda s: "/account/confirm", _signed_in(200)),
    Route("accounts.reauth", "POST", lambda s: "/account/confirm", _signed_in(200),
          writes=frozenset(SIGNED_IN), data=lambda s: {"password": "not-the-password-1"}),
    # -- offices and admin
    Route("accounts.pending", "GET", lambda s: "/accounts/pending",
          {**dict.fromkeys(OFFICERS, 200), "admin": 200}),
    Route("accounts.activate", "POST", lambda s: f"/accounts/users/{s.pending_id}/activate",
          {"officer_bali": 404, "officer_ntt": 404, "officer_ntb": 302, "admin": 302},
          writes=frozenset({"officer_ntb", "admin"})),
    # A sign-up is declined (with a reason the applicant reads) by its province's office or the
    # administrators; others' ids answer 404.
    Route("accounts.decline", "POST", lambda s: f"/accounts/users/{s.pending_id}/decline",
          {"officer_bali": 404, "officer_ntt": 404, "officer_ntb": 302, "admin": 302},
          writes=frozenset({"officer_ntb", "admin"}),
          data=lambda s: {"reason": "The NIB is not registered in OSS."}),
    # The audit log: every office (its province's objects, tests/audit/test_audit_log_page.py)
    # and the administrators.
    Route("audit.log", "GET", lambda s: "/audit", {**dict.fromkeys(OFFICERS, 200), "admin": 200}),
    Route("accounts.disable", "POST", lambda s: f"/accounts/users/{s.pending_id}/disable",
          {"admin": 302}, writes=frozenset({"admin"})),
    Route("accounts.users", "GET", lambda s: "/admin/users", {"admin": 200}),
    Route("accounts.users", "POST", lambda s: "/admin/users", {"admin": 302},
          writes=frozenset({"admin"}), data=user_data),
    Route("accounts.organisations", "GET", lambda s: "/admin/organisations", {"admin": 200}),
    Route("accounts.organisations", "POST", lambda s: "/admin/organisations", {"admin": 302},
          writes=frozenset({"admin"}),
          data=lambda s: {"kind": "printer", "name": "Percetakan Baru", "province_code": "51",
                          "nib": "", "address": "Denpasar"}),
    # The required certificates: the administrators only.
    Route("certificates.rules", "GET", lambda s: "/admin/certificate-rules/", {"admin": 200}),
    Route("certificates.rules", "POST", lambda s: "/admin/certificate-rules/", {"admin": 302},
          writes=frozenset({"admin"}),
          data=lambda s: {"category": "processed-food", "destination": "", "kind": "halal"}),
    Route("certificates.remove", "POST",
          lambda s: f"/admin/certificate-rules/{s.rule_id}/delete", {"admin": 302},
          writes=frozenset({"admin"})),
    # -- exporters
    Route("catalog.dashboard", "GET", lambda s: "/batches", EXPORTER_PAGE),
    Route("catalog.products", "GET", lambda s: "/products", EXPORTER_PAGE),
    Route("catalog.product_new", "GET", lambda s: "/products/new", EXPORTER_PAGE),
    Route("catalog.product_new", "POST", lambda s: "/products/new",
          {"exporter_a": 302, "exporter_b": 302}, writes=frozenset({"exporter_a", "exporter_b"}),
          data=product_data),
    Route("catalog.product_edit", "GET", lambda s: f"/products/{s.product_a}/edit", OWNER_PAGE),
    Route("catalog.product_edit", "POST", lambda s: f"/products/{s.product_a}/edit", OWNER_POST,
          writes=A, data=product_data),
    # The HS 2022 list (reference data, the same for everyone): any signed-in user.
    Route("catalog.hs_codes", "GET", lambda s: "/hs-codes?q=ikan+kering", _signed_in(200)),
    Route("catalog.product_photo", "POST", lambda s: f"/products/{s.product_a}/photo",
          OWNER_POST, writes=A,
          data=lambda s: {"photo": (io.BytesIO(make_png()), "honey.png")}),
    Route("catalog.product_photo_file", "GET", lambda s: f"/products/{s.product_a}/photo",
          FILE_ACCESS, state="submitted"),
    Route("catalog.batch_new", "GET", lambda s: "/batches/new", EXPORTER_PAGE),
    # B cannot pick A's product: the form refuses the choice and stores nothing.
    Route("catalog.batch_new", "POST", lambda s: "/batches/new",
          {"exporter_a": 302, "exporter_b": 200}, writes=A,
          data=lambda s: batch_form(s.product_a)),
    Route("catalog.batch_edit", "GET", lambda s: f"/batches/{s.batch_a}/edit", OWNER_PAGE),
    Route("catalog.batch_edit", "POST", lambda s: f"/batches/{s.batch_a}/edit", OWNER_POST,
          writes=A, data=lambda s: batch_form(s.product_a, "A-LOT-1", quantity="1000")),
    Route("catalog.batch_detail", "GET", lambda s: f"/batches/{s.batch_a}", OWNER_PAGE),
    Route("catalog.batch_submit", "POST", lambda s: f"/batches/{s.batch_a}/submit", OWNER_POST,
          writes=A),
    Route("catalog.document_add", "POST", lambda s: f"/batches/{s.batch_a}/documents",
          OWNER_POST, writes=A,
          data=lambda s: {"kind": "halal", "file": (io.BytesIO(evidence_pdf()), "halal.pdf")}),
    Route("catalog.document_remove", "POST",
          lambda s: f"/batches/{s.batch_a}/documents/{s.document_id}/delete", OWNER_POST,
          writes=A),
    Route("catalog.document_file", "GET",
          lambda s: f"/batches/{s.batch_a}/documents/{s.document_id}", FILE_ACCESS,
          state="submitted"),
    # -- production plots (EU due diligence): the exporter records them while the batch is a
    #    draft; the exporter, the origin office (once submitted) and the admin read them
    Route("plots.batch_plots", "GET", lambda s: f"/batches/{s.batch_a}/plots", FILE_ACCESS,
          state="submitted"),
    Route("plots.plot_add", "POST", lambda s: f"/batches/{s.batch_a}/plots", OWNER_POST,
          writes=A, data=plot_data),
    Route("plots.plot_remove", "POST",
          lambda s: f"/batches/{s.batch_a}/plots/{s.world.plot_a.id}/delete", OWNER_POST,
          writes=A),
    Route("plots.plots_geojson", "GET", lambda s: f"/batches/{s.batch_a}/plots.geojson",
          FILE_ACCESS, state="submitted"),
    Route("plots.shipment_plots_geojson", "GET",
          lambda s: f"/batches/{s.batch_a}/shipments/{s.shipment_id}/plots.geojson",
          FILE_ACCESS, state="shipped"),
    # -- trade offices
    Route("review.queue", "GET", lambda s: "/review/", dict.fromkeys(OFFICERS, 200)),
    Route("review.certified", "GET", lambda s: "/review/certified",
          dict.fromkeys(OFFICERS, 200)),
    Route("review.batch", "GET", lambda s: f"/review/batches/{s.batch_a}",
          {"officer_bali": 404, "officer_ntt": 404, "officer_ntb": 200}, state="submitted"),
    Route("review.decide", "POST", lambda s: f"/review/batches/{s.batch_a}/decide",
          {"officer_bali": 404, "officer_ntt": 404, "officer_ntb": 302},
          writes=frozenset({"officer_ntb"}), data=decide_data, state="submitted"),
    # An office lets a certified batch's labels claim more (issue 11 §4): its own province only.
    Route("review.label_allowance", "POST",
          lambda s: f"/review/batches/{s.batch_a}/label-allowance",
          {"officer_bali": 404, "officer_ntt": 404, "officer_ntb": 302},
          writes=frozenset({"officer_ntb"}), state="approved",
          data=lambda s: {"amount": "50", "reason": "Second weighing at the hub"}),
    # -- labels: the exporter orders for its certified batch, the print shop downloads its jobs
    Route("printing.order", "GET", lambda s: f"/batches/{s.batch_a}/labels", OWNER_PAGE,
          state="approved"),
    Route("printing.order", "POST", lambda s: f"/batches/{s.batch_a}/labels", OWNER_POST,
          writes=A, state="approved",
          data=lambda s: {"printer_org_id": str(s.world.print_org.id), "stock": "a4-3x7",
                          "quantity": "21", "net_quantity": "250 g"}),
    Route("printing.preview_png", "GET", lambda s: f"/batches/{s.batch_a}/labels/preview.png",
          OWNER_PAGE, state="approved"),
    Route("printing.proof_pdf", "GET", lambda s: f"/batches/{s.batch_a}/labels/proof.pdf",
          OWNER_PAGE, state="approved"),
    Route("printing.jobs", "GET", lambda s: "/print-shop", {"printer": 200}, state="approved"),
    # A file not rendered yet is asked of the worker (a row and its audit event) and the print
    # shop is sent to the job's page; downloads of finished files are counted and audited.
    Route("printing.download_pdf", "GET", lambda s: f"/print-shop/jobs/{s.job_id}.pdf",
          {"printer": 303}, writes=frozenset({"printer"}), state="approved"),
    Route("printing.download_zpl", "GET", lambda s: f"/print-shop/jobs/{s.job_id}.zpl",
          {"printer": 303}, writes=frozenset({"printer"}), state="approved"),
    Route("printing.job", "GET", lambda s: f"/print-shop/jobs/{s.job_id}", {"printer": 200},
          state="approved"),
    Route("printing.reprint", "POST", lambda s: f"/print-shop/jobs/{s.job_id}/reprint",
          {"printer": 200}, writes=frozenset({"printer"}), state="approved",
          data=lambda s: {"sheet_first": "1", "sheet_last": "1", "reason": "paper jam"}),
    # -- shipments through the Bali hub: the exporter declares and cancels its own; the Bali
    #    office confirms or refuses passages of every origin (batch A is NTB's), the admin reads
    Route("shipments.declare", "GET", lambda s: f"/batches/{s.batch_a}/shipments", OWNER_PAGE,
          state="approved"),
    Route("shipments.declare", "POST", lambda s: f"/batches/{s.batch_a}/shipments", OWNER_POST,
          writes=A, state="approved", data=shipment_data),
    Route("shipments.cancel", "POST",
          lambda s: f"/batches/{s.batch_a}/shipments/{s.shipment_id}/cancel", OWNER_POST,
          writes=A, state="shipped"),
    # The UN/LOCODE list (reference data, the same for everyone): any signed-in user.
    Route("shipments.locodes", "GET", lambda s: "/locodes?q=rotterdam", _signed_in(200)),
    Route("shipments.hub_queue", "GET", lambda s: "/hub/",
          {"officer_bali": 200, "officer_ntb": 403, "officer_ntt": 403, "admin": 200},
          state="shipped"),
    Route("shipments.hub_shipment", "GET", lambda s: f"/hub/shipments/{s.shipment_id}",
          {"officer_bali": 200, "officer_ntb": 403, "officer_ntt": 403, "admin": 200},
          state="shipped"),
    Route("shipments.confirm", "POST", lambda s: f"/hub/shipments/{s.shipment_id}/confirm",
          {"officer_bali": 302, "officer_ntb": 403, "officer_ntt": 403},
          writes=frozenset({"officer_bali"}), state="shipped",
          data=lambda s: {"passage_date": today().isoformat(), "remarks": "Sealed, checked"}),
    Route("shipments.refuse", "POST", lambda s: f"/hub/shipments/{s.shipment_id}/refuse",
          {"officer_bali": 302, "officer_ntb": 403, "officer_ntt": 403},
          writes=frozenset({"officer_bali"}), state="shipped",
          data=lambda s: {"reason": "Container seal broken"}),
    # -- the suspicious-activity desk: offices (their province), exporters (their products),
    #    the admin; a report is marked handled only from a desk that shows it
    Route("desk.index", "GET", lambda s: "/desk", FIGURES),
    Route("desk.handle", "POST", lambda s: f"/desk/reports/{s.report_id}/handle",
          {"exporter_a": 302, "exporter_b": 404, "officer_bali": 404, "officer_ntt": 404,
           "officer_ntb": 302, "admin": 302},
          writes=frozenset({"exporter_a", "officer_ntb", "admin"}),
          data=lambda s: {"note": "Shop warned, label reported to customs"}),
    # -- figures: offices, exporters (their own company) and the admin
    *[Route(f"figures.{name}", "GET", lambda s, p=path: p, FIGURES, state="approved")
      for name, path in (("dashboard", "/figures/"), ("export_csv", "/figures/batches.csv"),
                         ("exports_list", "/figures/exports"),
                         ("report", "/figures/report.pdf"))],
    # -- yearly targets: the offices read every province's (the figures are shared) and the
    #    admin's region-wide ones; an office sets its own province's, the admin any
    *[Route(f"targets.{name}", "GET", lambda s, p=path: p, OFFICES)
      for name, path in (("index", "/targets/"), ("progress_csv", "/targets/progress.csv"),
                         ("progress_xlsx", "/targets/progress.xlsx"),
                         ("evaluation", "/targets/evaluation.pdf"))],
    Route("targets.edit", "GET", lambda s: f"/targets/edit?year={today().year}&province=52",
          {"officer_ntb": 200, "admin": 200}),
    Route("targets.edit", "POST", lambda s: f"/targets/edit?year={today().year}&province=52",
          {"officer_ntb": 302, "admin": 302}, writes=frozenset({"officer_ntb", "admin"}),
          data=lambda s: {"metric": "batches", "amount": "12"}),
    # An XLSX export is asked for with the dashboard's filters (each viewer's own scope by
    # default) and written by the worker; only its asker reads its page and downloads it
    # (a download is audited).
    Route("figures.ask_export", "POST", lambda s: "/figures/exports",
          dict.fromkeys(FIGURES, 303), writes=frozenset(FIGURES), state="approved",
          data=lambda s: {"from_month": today().strftime("%Y-%m"),
                          "to_month": today().strftime("%Y-%m")}),
    Route("figures.export_page", "GET", lambda s: f"/figures/exports/{s.export_id}",
          {**dict.fromkeys(FIGURES, 404), "exporter_a": 200}),
    Route("figures.export_download", "GET", lambda s: f"/figures/exports/{s.export_id}.xlsx",
          {**dict.fromkeys(FIGURES, 404), "exporter_a": 200}, writes=A),
    # -- notification settings: every signed-in user's own (an admin is offered no kind, so
    # saving changes nothing)
    Route("notifications.settings", "GET", lambda s: "/account/notifications",
          _signed_in(200)),
    Route("notifications.settings", "POST", lambda s: "/account/notifications",
          _signed_in(302), writes=frozenset(SIGNED_IN) - {"admin"}, data=lambda s: {}),
    # -- API tokens, managed on a web page by exporters and officers
    Route("api_account.tokens_page", "GET", lambda s: "/account/tokens", TOKEN_USERS),
    Route("api_account.tokens_page", "POST", lambda s: "/account/tokens", TOKEN_USERS,
          writes=frozenset(TOKEN_USERS), data=lambda s: {"name": "Warehouse", "access": "read"}),
    Route("api_account.token_revoke", "POST", lambda s: f"/account/tokens/{s.token_id}/revoke",
          {**dict.fromkeys(TOKEN_USERS, 404), "exporter_a": 302}, writes=A),
    # -- the API answers tokens only: a browser session, however privileged, is not enough
    *[Route(rule_endpoint, method, lambda s, p=path: p, _all(401), public=True)
      for rule_endpoint, method, path in API_ROUTES],
    Route("api.openapi_json", "GET", lambda s: "/api/v1/openapi.json", _all(200), public=True),
    # -- the GS1 resolver and the pages it leads to, for anyone: a label URI redirects to its
    #    verification page; a GTIN and a lot to their public pages
    Route("verify.resolve", "GET", lambda s: s.label_path, _all(307), public=True,
          state="approved"),
    Route("verify.page", "GET", lambda s: "/verify" + s.label_path, _all(200), public=True,
          state="approved"),
    # A compressed Digital Link URI (GS1's compression) of a registry label: redirected as
    # the label URI is (tests/verify/test_compressed.py)
    Route("verify.compressed", "GET", lambda s: "/CwDkLI1IIM4HxZyf2pCAi", _all(307),
          public=True),
    Route("verify.resolver_description", "GET", lambda s: "/.well-known/gs1resolver",
          _all(200), public=True),
    Route("verify.keys", "GET", lambda s: "/.well-known/registry-keys.json", _all(200),
          public=True),
    Route("verify.jwks", "GET", lambda s: "/.well-known/jwks.json", _all(200), public=True),
    Route("verify.label_vectors", "GET", lambda s: "/.well-known/label-vectors.json",
          _all(200), public=True),
    # -- the audit checkpoint and its key, for anyone; the scene has signed none yet, so
    # everyone alike gets 404 (tests/integrity/test_audit_checkpoints.py has the 200s)
    Route("checkpoints.latest_checkpoint", "GET", lambda s: "/.well-known/audit-checkpoint",
          _all(404), public=True),
    Route("checkpoints.audit_key", "GET", lambda s: "/.well-known/audit-key", _all(404),
          public=True),
    Route("verify.report_page", "GET",
          lambda s: "/verify/report?" + urlencode({"uri": s.label_path}), _all(200),
          public=True, state="approved"),
    Route("verify.origin_map", "GET", lambda s: "/verify/maps/52.04.svg", _all(200),
          public=True),
    Route("verify.report", "POST", lambda s: "/verify/report", _all(303), public=True,
          writes=frozenset(ACTORS), state="approved",
          data=lambda s: {"uri": "https://registry.test" + s.label_path,
                          "message": "The seal looks printed on plain paper."}),
    # A decided lot's journey as EPCIS 2.0 JSON-LD, for anyone (tests/verify/test_journey.py)
    Route("verify.epcis", "GET", lambda s: "/epcis" + s.label_path.split("/21/")[0],
          _all(200), public=True, state="approved"),
    Route("verify.document", "GET", lambda s: f"/verify/documents/{s.document_id}", _all(200),
          public=True, state="approved"),
    Route("verify.photo", "GET", lambda s: f"/verify/batches/{s.batch_a}/photo", _all(200),
          public=True, state="approved"),
)

# The API is exempt from CSRF by design: it reads no cookie, only the Authorization header.
# Forms that change something for someone (the second factor's, which change nothing for a
# visitor of the matrix, are checked in tests/accounts/test_second_factor.py).
POST_ROUTES = [r for r in ROUTES if r.method == "POST" and not r.endpoint.startswith("api.")
               and r.writes]


def test_matrix_covers_every_route(app: Flask) -> None:
    served = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules() if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}  # type: ignore[operator]
    }
    listed = [r.key for r in ROUTES]
    assert len(listed) == len(set(listed)), "a route is listed twice"
    assert served - set(listed) == set(), "routes missing from the access matrix"
    assert set(listed) - served == set(), "the matrix lists routes the app does not serve"


def _sign_in(make_client: Callable[[], Client], actor: str) -> Client:
    client = make_client()
    if actor != "anonymous":
        client.login(EMAILS[actor])
    return client


def _send(client: Client, route: Route, scene: Scene, *, csrf: bool = True) -> Any:
    path = route.path(scene)
    if route.method == "GET":
        return client.get(path)
    data = route.data(scene) if route.data else {}
    if route.method == "PUT":
        return client.http.put(path, data=data)
    if not csrf:
        return client.http.post(path, data=data)
    # The token comes from a page the visitor can open, like a browser's.
    return client.post(path, data)


def check_cell(route: Route, actor: str, scene: Scene,
               make_client: Callable[[], Client]) -> list[str]:
    """One cell of the matrix: sign in, send, compare. Returns what went wrong."""
    client = _sign_in(make_client, actor)
    before = fingerprint(scene)
    response = _send(client, route, scene)
    expected = route.expected(actor)
    body = response.get_data().decode(errors="replace")
    where = f"{route.method} {route.endpoint} as {actor}"
    if response.status_code != expected:
        main = body.split('<main id="main">')[-1]
        return [f"{where}: status {response.status_code}, expected {expected}: "
                f"{' '.join(main[:600].split())}"]
    problems = []
    location = urlsplit(response.headers.get("Location", ""))
    if expected == 302 and actor == "anonymous" and not route.public:
        if location.path != "/login" or parse_qs(location.query).get("next") != [
                route.path(scene)]:
            problems.append(f"{where}: sent to {response.headers['Location']}, not the login")
    elif expected == 302 and location.path == "/login" and route.endpoint not in (
            "accounts.signup", "accounts.reset_password", "accounts.login_second_factor"):
        problems.append(f"{where}: allowed, yet sent to the login page")
    elif expected == 403 and TEXT_403 not in body:
        problems.append(f"{where}: no 403 page")
    elif expected == 404 and TEXT_404 not in body:
        problems.append(f"{where}: no 404 page")
    after = fingerprint(scene)
    if actor in route.writes and after == before:
        problems.append(f"{where}: the allowed request changed nothing")
    if actor not in route.writes and after != before:
        problems.append(f"{where}: a refused or read-only request changed the database")
    return problems


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.endpoint}-{r.method}" for r in ROUTES])
def test_access_without_writes(route: Route, world: World, db: Session, app: Flask,
                               make_client: Callable[[], Client]) -> None:
    """Every actor that may not change anything here, on one scene: as none of them may
    change it, each request meets the same database."""
    scene = build_scene(world, db, app, state=route.state)
    problems = [p for actor in ACTORS if actor not in route.writes
                for p in check_cell(route, actor, scene, make_client)]
    assert not problems, "\n".join(problems)


WRITES = [(r, a) for r in ROUTES for a in ACTORS if a in r.writes]


@pytest.mark.parametrize(("route", "actor"), WRITES,
                         ids=[f"{r.endpoint}-{r.method}-{a}" for r, a in WRITES])
def test_access_with_writes(route: Route, actor: str, world: World, db: Session, app: Flask,
                            make_client: Callable[[], Client]) -> None:
    """Each actor allowed to change something, on a fresh scene of its own."""
    scene = build_scene(world, db, app, state=route.state)
    problems = check_cell(route, actor, scene, make_client)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- objects of others


def test_officer_of_origin_province_sees_nothing_of_a_draft(
    world: World, db: Session, app: Flask, make_client: Callable[[], Client]
) -> None:
    scene = build_scene(world, db, app, state="draft")
    client = _sign_in(make_client, "officer_ntb")
    before = fingerprint(scene)
    for path in (f"/review/batches/{scene.batch_a}",
                 f"/batches/{scene.batch_a}/documents/{scene.document_id}",
                 f"/products/{scene.product_a}/photo"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert TEXT_404 in response.get_data(as_text=True)
    response = client.post(f"/review/batches/{scene.batch_a}/decide", decide_data(scene))
    assert response.status_code == 404
    assert fingerprint(scene) == before


def test_document_id_of_company_a_under_batch_of_company_b(
    world: World, db: Session, app: Flask, make_client: Callable[[], Client]
) -> None:
    """B owns batch B; pairing it with A's document id must not reach A's document."""
    scene = build_scene(world, db, app, state="draft")
    client = _sign_in(make_client, "exporter_b")
    batch_b = world.batch_b.id
    before = fingerprint(scene)
    assert client.get(f"/batches/{batch_b}/documents/{scene.document_id}").status_code == 404
    response = client.post(f"/batches/{batch_b}/documents/{scene.document_id}/delete", {})
    assert response.status_code == 404
    assert fingerprint(scene) == before


def test_exporter_b_cannot_move_its_batch_onto_product_of_a(
    world: World, db: Session, app: Flask, make_client: Callable[[], Client]
) -> None:
    scene = build_scene(world, db, app, state="draft")
    client = _sign_in(make_client, "exporter_b")
    before = fingerprint(scene)
    response = client.post(f"/batches/{world.batch_b.id}/edit",
                           batch_form(scene.product_a, "B-LOT-1"))
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert fingerprint(scene) == before


def test_print_shop_gets_only_its_own_jobs_of_certified_batches(
    world: World, db: Session, app: Flask, make_client: Callable[[], Client]
) -> None:
    scene = build_scene(world, db, app, state="approved")
    other_shop = Organisation(kind="printer", name="Other print shop", province_code="53")
    db.add(other_shop)
    db.commit()
    accounts.create_user(db, None, email="other.printer@test.id", name="Other",
                         role="printer", organisation_id=other_shop.id,  # type: ignore[arg-type]
                         password=PASSWORD, hashing=CHEAP_HASHING)
    db.commit()
    job = scene.job_id
    other = _sign_in(make_client, "anonymous")
    other.login("other.printer@test.id")
    before = fingerprint(scene)
    for path in (f"/print-shop/jobs/{job}.pdf", f"/print-shop/jobs/{job}.zpl"):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/print-shop/jobs/{job}/reprint",
                      {"sheet_first": "1", "sheet_last": "1"}).status_code == 404
    assert f"/print-shop/jobs/{job}.pdf" not in other.get("/print-shop").get_data(as_text=True)
    assert fingerprint(scene) == before

    # Once the certification is suspended, the assigned shop gets no labels either.
    world.decide(world.batch_a, world.officer_ntb, Action.SUSPEND)
    printer = _sign_in(make_client, "printer")
    before = fingerprint(scene)
    for path in (f"/print-shop/jobs/{job}.pdf", f"/print-shop/jobs/{job}.zpl"):
        response = printer.get(path)
        assert response.status_code == 409, path
        assert response.mimetype == "text/html"
    assert printer.post(f"/print-shop/jobs/{job}/reprint",
                        {"sheet_first": "1", "sheet_last": "1"}).status_code == 409
    assert fingerprint(scene) == before


@pytest.mark.parametrize("state", ["draft", "submitted"])
def test_public_files_wait_for_the_certification(
    state: str, world: World, db: Session, app: Flask, make_client: Callable[[], Client]
) -> None:
    scene = build_scene(world, db, app, state=state)
    anonymous = make_client()
    assert anonymous.get(f"/verify/documents/{scene.document_id}").status_code == 404
    assert anonymous.get(f"/verify/batches/{scene.batch_a}/photo").status_code == 404


def test_public_route_serves_only_documents_marked_public(
    world: World, db: Session, app: Flask, make_client: Callable[[], Client]
) -> None:
    scene = build_scene(world, db, app, state="approved")
    doc = db.get(Document, scene.document_id)
    assert doc is not None
    doc.is_public = False
    db.add(doc)
    db.commit()
    assert make_client().get(f"/verify/documents/{scene.document_id}").status_code == 404


# ---------------------------------------------------------------- CSRF


@pytest.mark.parametrize("route", POST_ROUTES, ids=[r.endpoint for r in POST_ROUTES])
def test_post_without_csrf_token_is_refused(
    route: Route, world: World, db: Session, app: Flask, make_client: Callable[[], Client]
) -> None:
    scene = build_scene(world, db, app, state=route.state)
    # The visitor who may do it, so only the missing token stands in the way.
    actor = sorted(route.writes, key=ACTORS.index)[0]
    client = _sign_in(make_client, actor)
    before = fingerprint(scene)
    response = _send(client, route, scene, csrf=False)
    assert response.status_code == 400
    assert TEXT_CSRF in response.get_data(as_text=True)
    assert fingerprint(scene) == before


def test_post_with_token_of_another_session_is_refused(
    world: World, db: Session, app: Flask, make_client: Callable[[], Client]
) -> None:
    scene = build_scene(world, db, app, state="draft")
    attacker = _sign_in(make_client, "exporter_b")
    victim = _sign_in(make_client, "exporter_a")
    before = fingerprint(scene)
    response = victim.http.post(f"/batches/{scene.batch_a}/submit",
                                data={"csrf_token": attacker.token()})
    assert response.status_code == 400
    assert fingerprint(scene) == before


def test_login_without_csrf_token_does_not_sign_in(client: Client, world: World) -> None:
    response = client.http.post("/login", data={"email": "a@test.id", "password": PASSWORD})
    assert response.status_code == 400
    page = client.get("/batches")
    assert page.status_code == 302
    assert urlsplit(page.headers["Location"]).path == "/login"


# ---------------------------------------------------------------- login redirects

OPEN_REDIRECTS = [
    "//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)",
    "\\\\evil", "%2F%2Fevil", "///evil.example", "http:/evil.example", "/\t/evil.example",
    " //evil.example", "https:evil.example",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_login_refuses_open_redirect(target: str, client: Client, world: World) -> None:
    response = client.post("/login", {"email": "a@test.id", "password": PASSWORD,
                                      "next": target}, token_from="/login")
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.scheme == "" and parts.netloc == "", location
    assert location == "/"


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_login_refuses_open_redirect_from_query_string(target: str, client: Client,
                                                       world: World) -> None:
    """The ``next`` of the login link travels through the hidden field of the form."""
    from urllib.parse import quote

    path = "/login?next=" + quote(target, safe="")
    response = client.post(path, {"email": "a@test.id", "password": PASSWORD}, token_from=path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_follows_safe_next(client: Client, world: World) -> None:
    response = client.post("/login", {"email": "a@test.id", "password": PASSWORD,
                                      "next": "/products"}, token_from="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/products"


def test_login_link_brings_the_user_back(client: Client, world: World) -> None:
    bounce = client.get(f"/batches/{world.batch_a.id}")
    login_path = bounce.headers["Location"]
    response = client.post(login_path, {"email": "a@test.id", "password": PASSWORD},
                           token_from=login_path)
    assert response.headers["Location"] == f"/batches/{world.batch_a.id}"
    assert "A-LOT-1" in client.get(response.headers["Location"]).get_data(as_text=True)


# ---------------------------------------------------------------- rate limit


def _failed_login(client: Client) -> Any:
    return client.post("/login", {"email": "a@test.id", "password": "wrong-password-x"},
                       token_from="/login")


def test_eleventh_failed_login_gets_429(client: Client, world: World, db: Session,
                                        app: Flask) -> None:
    for attempt in range(10):
        response = _failed_login(client)
        assert response.status_code == 200, attempt
        assert "E-mail or password is wrong." in response.get_data(as_text=True)
    with app.extensions["engine"].connect() as conn:
        events = conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()  # type: ignore[arg-type]
    response = _failed_login(client)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    # Refused before the password is even checked: the right one does not help either.
    right = client.post("/login", {"email": "a@test.id", "password": PASSWORD},
                        token_from="/login")
    assert right.status_code == 429
    with app.extensions["engine"].connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == events  # type: ignore[arg-type]


def test_successful_logins_do_not_use_up_the_budget(
    world: World, make_client: Callable[[], Client]
) -> None:
    attacker = make_client()
    for _ in range(9):
        assert _failed_login(attacker).status_code == 200
    for _ in range(5):  # colleagues behind the same address sign in fine
        make_client().login("b@test.id")
    assert _failed_login(attacker).status_code == 200  # the 10th failure is still answered
    assert _failed_login(attacker).status_code == 429


def test_login_page_itself_is_not_limited(client: Client, world: World) -> None:
    for _ in range(11):
        _failed_login(client)
    assert client.get("/login").status_code == 200


# ---------------------------------------------------------------- session


def test_logout_ends_the_session_for_replayed_cookies(world: World,
                                                      make_client: Callable[[], Client]) -> None:
    client = make_client()
    client.login("a@test.id")
    assert client.get("/batches").status_code == 200
    cookie = client.http.get_cookie("session")
    assert cookie is not None
    stolen = cookie.value

    response = client.post("/logout", {})
    assert response.status_code == 302
    page = client.get("/batches")
    assert page.status_code == 302 and urlsplit(page.headers["Location"]).path == "/login"

    replay = make_client()
    replay.http.set_cookie("session", stolen)
    page = replay.get("/batches")
    assert page.status_code == 302
    assert urlsplit(page.headers["Location"]).path == "/login"
    login_page = replay.get(page.headers["Location"])
    assert "Sign in" in login_page.get_data(as_text=True)
    assert "a@test.id" not in login_page.get_data(as_text=True)


def test_logout_ends_other_sessions_of_the_user(world: World,
                                                make_client: Callable[[], Client]) -> None:
    laptop, phone = make_client(), make_client()
    laptop.login("a@test.id")
    phone.login("a@test.id")
    laptop.post("/logout", {})
    assert phone.get("/batches").status_code == 302


def test_login_issues_a_new_session(client: Client, world: World) -> None:
    client.get("/login?lang=id")  # a language choice made before sign-in is kept
    with client.http.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
    token_before = client.token("/login")
    with client.http.session_transaction() as sess:
        assert sess["csrf_token"]
    before = client.http.get_cookie("session").value  # type: ignore[union-attr]

    client.login("a@test.id")
    after = client.http.get_cookie("session").value  # type: ignore[union-attr]
    assert after != before
    with client.http.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("csrf_token") in (None, "") or sess["csrf_token"] != token_before
        assert sess.get("lang") == "id"
    # The old token does not work in the new session.
    response = client.http.post(f"/batches/{world.batch_a.id}/submit",
                                data={"csrf_token": token_before})
    assert response.status_code == 400


def test_session_cookie_flags(client: Client, world: World) -> None:
    response = client.login("a@test.id")
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cookies
    flags = {part.strip().lower() for part in cookies[-1].split(";")[1:]}
    assert "httponly" in flags
    assert "samesite=lax" in flags


def test_disabled_user_loses_the_session_at_once(world: World, db: Session,
                                                 make_client: Callable[[], Client]) -> None:
    exporter = make_client()
    exporter.login("b@test.id")
    admin = make_client()
    admin.login("admin@test.id")
    assert admin.post(f"/accounts/users/{world.exporter_b.id}/disable", {}).status_code == 302
    assert exporter.get("/batches").status_code == 302


# ---------------------------------------------------------------- headers


def _check_headers(response: Any, what: str) -> None:
    headers = response.headers
    csp = {d.strip().split(" ")[0]: d.strip() for d in
           headers.get("Content-Security-Policy", "").split(";") if d.strip()}
    assert "script-src" in csp or "default-src" in csp, what
    script_src = csp.get("script-src", csp.get("default-src", ""))
    assert "'unsafe-inline'" not in script_src, what
    assert "'unsafe-eval'" not in script_src, what
    assert csp.get("frame-ancestors") == "frame-ancestors 'none'", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy"), what
    assert headers["Referrer-Policy"] not in ("unsafe-url", "no-referrer-when-downgrade"), what


@dataclass
class _Probe:
    label: str
    actor: str
    method: str
    path: Callable[[Scene], str]
    data: dict[str, Any] = field(default_factory=dict)
    csrf: bool = True


def test_security_headers_on_every_response(world: World, db: Session, app: Flask,
                                            make_client: Callable[[], Client]) -> None:
    # Approved: the label, print-shop and public pages render for real.
    scene = build_scene(world, db, app, state="approved")
    probes = [
        *[_Probe(f"{r.endpoint} {r.method} anonymous", "anonymous", r.method, r.path)
          for r in ROUTES],
        *[_Probe(f"{r.endpoint} GET {a}", a, "GET", r.path)
          for r in ROUTES if r.method == "GET"
          for a, status in r.expect.items() if a != "anonymous" and status == 200],
        _Probe("404 page", "anonymous", "GET", lambda s: "/no/such/page"),
        _Probe("405 page", "anonymous", "POST", lambda s: "/about"),
        _Probe("403 page", "printer", "GET", lambda s: "/batches"),
        _Probe("400 csrf page", "exporter_a", "POST",
               lambda s: f"/batches/{s.batch_a}/submit", csrf=False),
        _Probe("static file", "anonymous", "GET", lambda s: "/static/style.css"),
        _Probe("document download", "exporter_a", "GET",
               lambda s: f"/batches/{s.batch_a}/documents/{s.document_id}"),
        _Probe("photo", "officer_ntb", "GET", lambda s: f"/products/{s.product_a}/photo"),
    ]
    clients = {a: _sign_in(make_client, a) for a in ACTORS}
    for probe in probes:
        client = clients[probe.actor]
        path = probe.path(scene)
        if probe.method == "GET":
            response = client.get(path)
        elif probe.csrf:
            response = client.post(path, probe.data)
        else:
            response = client.http.post(path, data=probe.data)
        assert response.status_code < 500, probe.label
        _check_headers(response, probe.label)


def test_healthz(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json()["status"] == "ok"
