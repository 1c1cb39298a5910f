"""Certificates as facts (issue 18 §2): structured evidence with numbers checked per kind, the
administrators' required certificates refusing an approval while one is missing or expired,
expiry alerts to the exporter and the office (mail, once per threshold) and a notice on the
batch page, and the public claims on the verification page and in its JSON."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from typing import Any

import jsonschema
import pytest
from flask import Flask
from sqlmodel import Session, select

from conftest import Client, Inbox, World, evidence_pdf, mail_text
from registry.audit.models import AuditEvent
from registry.catalog import services as catalog
from registry.catalog.certification import Action, Status
from registry.catalog.models import Batch, Document
from registry.certificates.models import CertificateAlert, CertificateRule
from registry.certificates.rules import CertificateInput
from registry.certificates.tasks import send_expiry_alerts
from registry.clock import REGION_TZ, today, utcnow
from registry.exceptions import ValidationError
from tests.api.api_helpers import api_for, assert_problem
from tests.verify.verify_support import path_of, schema, signed_labels

HALAL = "ID35110000123450722"
HOST = "cek.example.id"


@pytest.fixture(autouse=True)
def public_host(app: Flask) -> None:
    app.config["PUBLIC_HOST"] = HOST


def english(db: Session, *users: Any) -> None:
    for user in users:
        user.locale = "en"
        db.add(user)
    db.commit()


def signed_in(app: Flask, email: str) -> Client:
    client = Client(app.test_client())
    client.login(email)
    return client


def text_of(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def attach(world: World, batch: Batch, kind: str, *, public: bool = False,
           **facts: Any) -> Document:
    doc, _stored = catalog.add_document(
        world.session, world.exporter_a, batch.id, kind=kind, filename=f"{kind}.pdf",
        data=evidence_pdf(), is_public=public, store=world.store, max_bytes=10 * 1024 * 1024,
        max_pixels=40_000_000, certificate=CertificateInput(**facts) if facts else None)
    world.session.commit()
    return doc


def decide_on_page(officer: Client, batch: Batch, db: Session) -> Any:
    db.refresh(batch)
    path = f"/review/batches/{batch.id}"
    return officer.post(f"{path}/decide", {
        "action": "approve", "version": str(batch.version),
        "valid_until": (today() + dt.timedelta(days=200)).isoformat()}, token_from=path)


# The rules alone: tests/certificates/test_certificate_rules.py.


# ---------------------------------------------------------------- the exporter's upload


def upload(client: Client, batch_id: int, **fields: str) -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(evidence_pdf()), "halal.pdf"), **fields}
    return client.post(f"/batches/{batch_id}/documents", form,
                       content_type="multipart/form-data")


def test_the_exporter_gives_a_certificates_facts_and_the_office_sees_them(
        app: Flask, world: World, db: Session) -> None:
    english(db, world.exporter_a, world.officer_ntb)
    exporter = signed_in(app, world.exporter_a.email)
    before = db.exec(select(Document)).all()

    refused = upload(exporter, world.batch_a.id, kind="halal", number="MUI-123")
    assert refused.status_code == 422
    assert "A BPJPH halal certificate number is ID followed by 17 digits" in text_of(refused)
    assert db.exec(select(Document)).all() == before  # nothing written

    done = upload(exporter, world.batch_a.id, kind="halal", number="id 3511 0000 1234 5072 2",
                  issued_on="2026-01-05", expires_on="2030-01-04", is_public="y")
    assert done.status_code == 302, text_of(done)[:2000]
    doc = db.exec(select(Document).where(Document.kind == "halal")).one()
    assert (doc.number, doc.issuer, doc.expires_on) == (HALAL, None, dt.date(2030, 1, 4))
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "document.add")).all()[-1]
    assert HALAL in str(event.after)

    page = text_of(exporter.get(f"/batches/{world.batch_a.id}"))
    assert HALAL in page and "BPJPH" in page and "Jan 4, 2030" in page
    assert 'href="https://bpjph.halal.go.id/search/sertifikat"' in page

    world.submit(world.batch_a, world.exporter_a)
    officer = signed_in(app, world.officer_ntb.email)
    review = text_of(officer.get(f"/review/batches/{world.batch_a.id}"))
    assert HALAL in review and "The issuer's public check page" in review


# ---------------------------------------------------------------- required certificates


def test_the_admin_sets_a_rule_and_an_approval_is_refused_on_an_expired_certificate(
        app: Flask, world: World, db: Session) -> None:
    english(db, world.admin, world.officer_ntb)
    admin = signed_in(app, world.admin.email)
    added = admin.post("/admin/certificate-rules/", {
        "category": "agriculture", "destination": "NL", "kind": "halal"},
        token_from="/admin/certificate-rules/")
    assert added.status_code == 302
    rule = db.exec(select(CertificateRule)).one()
    assert (rule.category, rule.destination_country, rule.kind) == ("agriculture", "NL",
                                                                      "halal")
    assert json.loads(db.exec(select(AuditEvent).where(
        AuditEvent.action == "certificate_rule.create")).one().after).get("kind") == "halal"
    again = admin.post("/admin/certificate-rules/", {
        "category": "agriculture", "destination": "NL", "kind": "halal"},
        token_from="/admin/certificate-rules/")
    assert again.status_code == 422
    assert "This value is already registered." in text_of(again)

    # Batch A (farm produce to the Netherlands) holds a halal certificate that expired
    # yesterday (WITA): the office cannot approve it.
    attach(world, world.batch_a, "halal", number=HALAL, issued_on=today() - dt.timedelta(days=400),
           expires_on=today() - dt.timedelta(days=1))
    world.submit(world.batch_a, world.exporter_a)
    officer = signed_in(app, world.officer_ntb.email)
    page = text_of(officer.get(f"/review/batches/{world.batch_a.id}"))
    assert "Missing or expired: Halal certificate; the batch cannot be approved." in page
    refused = decide_on_page(officer, world.batch_a, db)
    assert refused.status_code == 422
    assert ("Not approved: this batch needs certificates it does not have (expired: Halal "
            "certificate)") in text_of(refused)
    db.refresh(world.batch_a)
    assert world.batch_a.status == Status.SUBMITTED
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "batch.approve")).all() == []


def test_a_missing_required_certificate_refuses_the_approval_until_the_rule_goes(
        app: Flask, world: World, db: Session) -> None:
    english(db, world.admin, world.officer_ntb)
    db.add(CertificateRule(category="agriculture", kind="phytosanitary"))
    db.add(CertificateRule(category="agriculture", kind="sni"))
    db.commit()
    world.submit(world.batch_a, world.exporter_a)  # with a phytosanitary scan only
    officer = signed_in(app, world.officer_ntb.email)
    refused = decide_on_page(officer, world.batch_a, db)
    assert refused.status_code == 422
    assert "(missing: SNI certificate)" in text_of(refused)

    sni = db.exec(select(CertificateRule).where(CertificateRule.kind == "sni")).one()
    admin = signed_in(app, world.admin.email)
    removed = admin.post(f"/admin/certificate-rules/{sni.id}/delete", {},
                         token_from="/admin/certificate-rules/")
    assert removed.status_code == 302
    assert json.loads(db.exec(select(AuditEvent).where(
        AuditEvent.action == "certificate_rule.remove")).one().before).get("kind") == "sni"
    assert decide_on_page(officer, world.batch_a, db).status_code == 302
    db.refresh(world.batch_a)
    assert world.batch_a.status == Status.APPROVED


def test_the_exporter_is_told_of_missing_or_expired_required_certificates_before_approval(
        app: Flask, world: World, db: Session) -> None:
    english(db, world.exporter_a)
    exporter = signed_in(app, world.exporter_a.email)
    path = f"/batches/{world.batch_a.id}"
    told = "The trade office cannot approve this batch without these required certificates"
    assert told not in text_of(exporter.get(path))  # no rule, no notice
    db.add(CertificateRule(category="agriculture", kind="sni"))
    db.add(CertificateRule(category="agriculture", destination_country="NL", kind="halal"))
    db.commit()
    attach(world, world.batch_a, "halal", number=HALAL,
           issued_on=today() - dt.timedelta(days=400), expires_on=today() - dt.timedelta(days=1))
    # The draft's page says it beside the submit button, which stays.
    page = text_of(exporter.get(path))
    assert f"{told} (missing: SNI certificate; expired: Halal certificate)" in page
    assert "Submit for certification" in page
    # Submitted all the same (the approval enforces them), and told again.
    answer = exporter.post(f"{path}/submit", {}, token_from=path)
    assert answer.status_code == 302
    db.refresh(world.batch_a)
    assert world.batch_a.status == Status.SUBMITTED
    after = text_of(exporter.get(path))
    assert "Submitted." in after and f"{told} (missing: SNI certificate; expired" in after
    # Once submitted, the page no longer offers the notice with the submit button.
    assert text_of(exporter.get(path)).count(told) == 0
    # In Indonesian too.
    world.exporter_a.locale = "id"
    db.add(world.exporter_a)
    db.commit()
    world.decide(world.batch_a, world.officer_ntb, Action.REJECT, reason="SNI missing")
    indonesian = text_of(signed_in(app, world.exporter_a.email).get(path))
    assert "Kantor perdagangan tidak dapat menyetujui batch ini" in indonesian


def test_the_service_refuses_the_approval_too(world: World, db: Session) -> None:
    db.add(CertificateRule(category="agriculture", kind="organic"))
    db.commit()
    world.submit(world.batch_a, world.exporter_a)
    with pytest.raises(ValidationError) as refused:
        world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    assert refused.value.fields == {"certificates": "certificate_missing"}


# ---------------------------------------------------------------- expiry alerts


def test_a_certificate_expiring_while_certified_alerts_exporter_and_office_once_each(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    english(db, world.exporter_a, world.officer_ntb)
    now = utcnow()
    day = now.astimezone(REGION_TZ).date()
    doc = attach(world, world.batch_a, "halal", number=HALAL,
                 expires_on=day + dt.timedelta(days=30))
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    inbox.clear()  # the decision's mail

    with app.app_context():
        assert send_expiry_alerts(now - dt.timedelta(days=1)) == 0  # 31 days ahead
        assert send_expiry_alerts(now) == 1
        assert send_expiry_alerts(now + dt.timedelta(minutes=1)) == 0  # once
        assert send_expiry_alerts(now + dt.timedelta(days=10)) == 0  # still the 30-day one
    for address, link in ((world.exporter_a.email, f"/batches/{world.batch_a.id}"),
                          (world.officer_ntb.email, f"/review/batches/{world.batch_a.id}")):
        [message] = inbox.to(address)
        assert str(message["Subject"]).strip() == (
            "A certificate of batch A-LOT-1 is about to expire")
        body = re.sub(r"\s+", " ", mail_text(message))
        assert f"The Halal certificate {HALAL} of batch A-LOT-1" in body
        assert f"http://{HOST}{link}" in body
    # Nobody else: not company B, not the other provinces' offices.
    assert sorted(str(m["To"]) for m in inbox.messages) == [world.exporter_a.email,
                                                            world.officer_ntb.email]

    # The batch page says it, in the reader's language, while the batch is certified.
    exporter = signed_in(app, world.exporter_a.email)
    page = text_of(exporter.get(f"/batches/{world.batch_a.id}"))
    assert f"The Halal certificate {HALAL} expires on" in page
    assert "in 30 days." in page

    with app.app_context():
        assert send_expiry_alerts(now + dt.timedelta(days=30)) == 1  # on the day
        assert send_expiry_alerts(now + dt.timedelta(days=30, minutes=1)) == 0
    assert len(inbox.to(world.exporter_a.email)) == 2
    assert len(inbox.to(world.officer_ntb.email)) == 2
    assert sorted(a.days for a in db.exec(select(CertificateAlert).where(
        CertificateAlert.document_id == doc.id)).all()) == [0, 30]


def test_no_alert_for_a_batch_that_is_not_certified(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    attach(world, world.batch_a, "halal", number=HALAL,
           expires_on=today() + dt.timedelta(days=5))
    world.submit(world.batch_a, world.exporter_a)  # submitted, never approved
    with app.app_context():
        assert send_expiry_alerts() == 0
    assert inbox.to(world.exporter_a.email) == []


# ---------------------------------------------------------------- the verification page


def test_the_verification_page_and_json_list_public_certificates_as_claims(
        app: Flask, world: World, db: Session) -> None:
    attach(world, world.batch_a, "halal", public=True, number=HALAL,
           issued_on=today() - dt.timedelta(days=10), expires_on=dt.date(2030, 1, 4))
    attach(world, world.batch_a, "organic", public=True, number="NOP-8812", scheme="usda_nop",
           issuer="Control Union")
    attach(world, world.batch_a, "certificate_of_origin", number="SKA-0001",
           form_type="form_d")  # not public: not a claim
    uri = signed_labels(app, world, db, quantity=1)[0]
    http = app.test_client()

    page = text_of(http.get(path_of(uri), headers={"Accept-Language": "en"}))
    assert f"Halal certificate, \u2068BPJPH\u2069 {HALAL}, valid until Jan 4, 2030" in page
    assert "checked by \u2068Office 52\u2069 on" in page
    assert 'href="https://bpjph.halal.go.id/search/sertifikat"' in page
    assert "(USDA Organic (NOP))" in page
    assert 'href="https://organic.ams.usda.gov/integrity/"' in page
    assert "SKA-0001" not in page
    assert "<script" not in page

    # The lot's page (where the linkset's gs1:certificationInfo leads) says the same.
    lot_page = text_of(http.get(path_of(uri).split("/21/")[0],
                                headers={"Accept-Language": "en"}))
    assert f"Halal certificate, \u2068BPJPH\u2069 {HALAL}, valid until Jan 4, 2030" in lot_page
    assert 'href="https://organic.ams.usda.gov/integrity/"' in lot_page
    assert "SKA-0001" not in lot_page

    japanese = text_of(http.get(path_of(uri) + "&lang=ja"))
    assert "証明書" in japanese and "発行機関で確認する" in japanese

    body = http.get(path_of(uri), headers={"Accept": "application/json"}).get_json()
    jsonschema.validate(body, schema("verification.schema.json"))
    claims = body["batch"]["gs1:certificationInfo"]
    assert claims[0] == {
        "@type": "gs1:CertificationDetails", "gs1:certificationAgency": "BPJPH",
        "gs1:certificationStandard": "Indonesian halal certification (Law 33/2014, BPJPH)",
        "gs1:certificationIdentification": HALAL,
        "gs1:certificationStartDate": (today() - dt.timedelta(days=10)).isoformat(),
        "gs1:certificationEndDate": "2030-01-04",
        "gs1:certificationURI": "https://bpjph.halal.go.id/search/sertifikat"}
    assert claims[1]["gs1:certificationAgency"] == "Control Union"
    assert claims[1]["gs1:certificationStandard"] == "Organic certification: USDA NOP"
    assert len(claims) == 2


# ---------------------------------------------------------------- the API


def test_the_api_takes_a_certificates_facts_and_refuses_the_approval_as_a_problem(
        app: Flask, world: World, db: Session) -> None:
    api = api_for(app, db, world.exporter_a)
    path = f"/batches/{world.batch_a.id}/documents"
    bad = api.post(path, data={"kind": "bpom", "number": "MD 12",
                               "file": (io.BytesIO(evidence_pdf()), "bpom.pdf")},
                   content_type="multipart/form-data")
    assert assert_problem(bad, 422)["codes"] == {"number": "bad_format"}
    done = api.post(path, data={"kind": "bpom", "number": "BPOM RI MD 224510001234",
                                "expires_on": (today() - dt.timedelta(days=2)).isoformat(),
                                "file": (io.BytesIO(evidence_pdf()), "bpom.pdf")},
                    content_type="multipart/form-data")
    assert done.status_code == 201, done.json
    assert (done.json["number"], done.json["issuer"]) == ("MD224510001234", None)

    db.add(CertificateRule(category="agriculture", kind="bpom"))
    db.commit()
    world.submit(world.batch_a, world.exporter_a)
    db.refresh(world.batch_a)
    officer = api_for(app, db, world.officer_ntb)
    refused = officer.post(f"/batches/{world.batch_a.id}/decisions", json={
        "action": "approve", "expected_version": world.batch_a.version,
        "valid_until": (today() + dt.timedelta(days=100)).isoformat()})
    assert assert_problem(refused, 422)["codes"] == {"certificates": "certificate_expired"}
    db.refresh(world.batch_a)
    assert world.batch_a.status == Status.SUBMITTED


def _valid_as_documented(app: Flask, body: dict[str, Any], model: str) -> None:
    """``body`` against the API's own OpenAPI 3.1 document (its schemas are JSON Schema
    2020-12)."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{model}", "components": document["components"]}
    ).validate(body)


def test_the_api_tells_the_exporter_of_missing_or_expired_required_certificates(
        app: Flask, world: World, db: Session) -> None:
    # As the web page does (README "Certificates"): a notice while the batch waits for the
    # office's approval, never a refusal of the submission.
    api = api_for(app, db, world.exporter_a)
    path = f"/batches/{world.batch_a.id}"
    assert api.get(path).json["certificate_notices"] == []  # no rule, no notice
    db.add(CertificateRule(category="agriculture", kind="sni"))
    db.add(CertificateRule(category="agriculture", destination_country="NL", kind="halal"))
    db.commit()
    attach(world, world.batch_a, "halal", number=HALAL,
           issued_on=today() - dt.timedelta(days=400), expires_on=today() - dt.timedelta(days=1))
    told = [{"kind": "sni", "problem": "missing"}, {"kind": "halal", "problem": "expired"}]
    draft = api.get(path)
    assert draft.status_code == 200 and draft.json["certificate_notices"] == told
    _valid_as_documented(app, draft.json, "BatchRead")

    world.attach_evidence(world.batch_a, world.exporter_a)  # the evidence submission needs
    db.commit()
    submitted = api.post(f"{path}/submit")
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == "submitted"
    assert submitted.json["certificate_notices"] == told
    _valid_as_documented(app, submitted.json, "BatchRead")
    # The office reads the same while it decides, and the approval still refuses.
    officer = api_for(app, db, world.officer_ntb)
    assert officer.get(path).json["certificate_notices"] == told
    db.refresh(world.batch_a)
    refused = officer.post(f"{path}/decisions", json={
        "action": "approve", "expected_version": world.batch_a.version,
        "valid_until": (today() + dt.timedelta(days=100)).isoformat()})
    assert assert_problem(refused, 422)["codes"] == {"certificates": "certificate_missing"}

    document = app.test_client().get("/api/v1/openapi.json").get_json()
    notice = document["components"]["schemas"]["CertificateNotice"]
    assert notice["properties"]["problem"]["enum"] == ["missing", "expired"]
    assert "certificate_notices" in document["components"]["schemas"]["BatchRead"]["required"]


def test_a_decided_batch_carries_no_certificate_notice(
        app: Flask, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    # A rule added after the approval concerns the next batches, not this certified one.
    db.add(CertificateRule(category="agriculture", kind="sni"))
    db.commit()
    answer = api_for(app, db, world.exporter_a).get(f"/batches/{world.batch_a.id}")
    assert answer.json["status"] == "approved" and answer.json["certificate_notices"] == []
