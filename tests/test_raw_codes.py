"""No raw internal code in any page or export, in Indonesian (issue 15, acceptance 3).

Every role signs in with the Indonesian UI and opens every page the access matrix lets it open
(``test_access.ROUTES``) and every page linked from those, on a registry with batches in every
state (an expired one too), a batch whose history holds many kinds of events, print jobs with
rendered files, a reprint and an allowance, buyers' reports and not-genuine scans, a pending
sign-up and an API token; and what issues 17 and 18 added: shipments of batch A in every status
(the hub's pages), certificates with their facts (origin forms, organic schemes, an expiring
one), required certificates, targets of every metric, plots. The visible text of each page
(HTML without markup, CSV and XLSX cells, PDF text) is cut into words, and no word may be a
code of a vocabulary (an enum value of a ``vocabulary`` module or an audit tag) whose
Indonesian label differs from it: an Indonesian officer must read "Disetujui", never
``approved``, "Pesanan label", never ``printjob.order``. The JSON API is for machines and
keeps its codes.

The mail the scene sent (decisions, hub passages, a certificate's expiry, print jobs, a buyer's
report, sign-ups), in its recipients' language (Indonesian, the default), is read the same way:
subject and plain text, without its links.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pypdfium2
import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import Session, select
from test_access import ACTORS, EMAILS, ROUTES, Scene, build_scene, make_png, shipment_input
from test_vocabulary import vocabularies

from conftest import (
    CSRF_RE,
    PASSWORD,
    Client,
    Inbox,
    World,
    batch_input,
    enrol_second_factor,
    evidence_pdf,
    mail_text,
)
from registry.accounts import second_factor
from registry.accounts.models import User
from registry.audit import tags as events
from registry.audit import vocabulary as words
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Document
from registry.catalog.rules import ProductInput
from registry.certificates import services as certificates
from registry.certificates.rules import CertificateInput, OrganicScheme, OriginForm, RuleInput
from registry.certificates.tasks import send_expiry_alerts
from registry.clock import today
from registry.desk import services as desk
from registry.files import store_for
from registry.mail.delivery import deliver
from registry.mail.kinds import MailKind, MailState
from registry.mail.models import Mail
from registry.notifications.tasks import send_fake_reports
from registry.plots.models import Plot
from registry.printing import services as printing
from registry.printing.models import PrintJob
from registry.reference import hs_codes
from registry.shipments import services as shipments
from registry.shipments.rules import ShipmentStatus
from registry.targets import services as targets
from registry.targets.rules import Metric
from registry.targets.services import TargetInput
from registry.verify import facts as verify_facts
from tests.integrity.scan_support import flush, phone, sign
from tests.verify.verify_support import path_of

# Pages per visitor at most: the scene has a few dozen; a link that multiplies pages (a
# query string that grows) should fail loudly, not crawl forever.
MAX_PAGES = 250
WORD = re.compile(r"[\w.-]+")
URL = re.compile(r"https?://\S+")
# The endpoints added by issues 17 (targets, figures' exports) and 18 (shipments and the hub,
# certificates, plots, the HS list).
ISSUES_17_18 = ("targets.", "figures.", "shipments.", "certificates.", "plots.",
                "catalog.hs_codes")


def raw_codes(app: Flask) -> dict[str, str]:
    """Each code whose Indonesian words differ from it, with those words."""
    codes: dict[str, str] = {}
    with app.test_request_context(), force_locale("id"):
        for enum, labels, _on_verify_page in vocabularies():
            for member in enum:
                codes[member.value] = str(labels[member])
        codes[events.SYSTEM_ACTOR] = words.actor_label(events.SYSTEM_ACTOR)
    return {code: label for code, label in codes.items() if label != code}


class _Text(HTMLParser):
    """The text a reader sees: text nodes outside script and style, and the attributes a
    browser shows (titles, alternative text, placeholders, labels, button values)."""

    SHOWN = ("title", "alt", "placeholder", "aria-label")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        self.parts += [v for k, v in attrs if k in self.SHOWN and v]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(response: Any) -> str | None:
    """What a person reads of a response; None for what is not for reading (JSON, images)."""
    kind = response.mimetype
    body = response.get_data()
    if kind == "text/html":
        parser = _Text()
        parser.feed(body.decode())
        return "\n".join(parser.parts)
    if kind == "text/csv":
        return body.decode("utf-8-sig")
    if kind.endswith("spreadsheetml.sheet"):
        sheet = load_workbook(io.BytesIO(body), read_only=True).active
        return "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row
                         if c is not None)
    if kind == "application/pdf":
        pdf = pypdfium2.PdfDocument(body)
        try:
            return "\n".join(page.get_textpage().get_text_range() for page in pdf)
        finally:
            pdf.close()
    return None


# The net quantity a label prints is written as typed, in these symbols ("250 g", "1 pcs"):
# the help that shows how names them as they are written.
NET_QUANTITY_SYNTAX = (
    "For example 250 g, 1 kg, 500 ml, 1 pcs.",
    "Write the net quantity like 250 g, 1 kg, 500 ml or 1 pcs.",
    "The net quantity must be in a unit comparable with the batch's quantity: g, kg or t for "
    "weight, ml or l for volume, pcs for pieces, head for livestock.",
)


def not_codes(app: Flask) -> list[str]:
    """Text that holds a code's letters without being a code, taken out before the words are
    read, longest first: the labels themselves ("Sertifikat halal" is the label of ``halal``),
    the net-quantity help, and the HS descriptions, in English as UN Comtrade publishes them
    ("Seaweeds and other algae") and in Indonesian where the registry has them."""
    with app.test_request_context(), force_locale("id"):
        texts = [str(label) for _enum, labels, _v in vocabularies() for label in labels.values()]
        texts += [gettext(message) for message in NET_QUANTITY_SYNTAX]
    texts += [text for hs in hs_codes().values() for text in (hs.description, hs.description_id)
              if text]
    return sorted(set(texts), key=len, reverse=True)


def raw_words(text: str, codes: dict[str, str], ignore: list[str]) -> list[str]:
    for harmless in ignore:
        text = text.replace(harmless, " ")
    found = []
    for match in WORD.finditer(text):
        word = match.group().strip(".-_")
        if word in codes:
            context = " ".join(text[max(0, match.start() - 40):match.end() + 40].split())
            found.append(f"{word!r} (id: {codes[word]!r}) in “{context}”")
    return found


def links(html: str) -> list[str]:
    """Same-site links to follow: never to another language, a static file or away."""
    found = []
    for href in re.findall(r'href="(/[^"]*)"', html):
        href = href.replace("&amp;", "&")
        parts = urlsplit(href)
        if parts.path.startswith("/static/") or parts.path.startswith("//"):
            continue
        if parse_qs(parts.query).get("lang", ["id"]) != ["id"]:
            continue
        found.append(href.split("#")[0])
    return found


# ---------------------------------------------------------------- the scene


def _batch(world: World, db: Session, lot: str, **overrides: Any) -> Batch:
    batch = catalog.create_batch(db, world.exporter_a,
                                 batch_input(world.product_a, lot, "52.04", **overrides))
    db.commit()
    return batch


def rich_scene(world: World, db: Session, app: Flask, make_client: Callable[[], Client]) -> Scene:
    """``test_access``'s scene with batch A certified, plus a registry in every state."""
    scene = build_scene(world, db, app, state="approved")
    store = store_for(app)
    limits = {"store": store, "max_bytes": app.config["MAX_UPLOAD_BYTES"],
              "max_pixels": app.config["MAX_IMAGE_PIXELS"]}
    officer, exporter = world.officer_ntb, world.exporter_a

    # Batch A's history and labels: allowance, a downloaded and reprinted job, a report
    # handled, not-genuine scans.
    printing.grant_allowance(db, officer, world.batch_a.id, amount=Decimal("50"),
                             reason="Timbang ulang di pelabuhan")
    db.commit()
    printer = make_client()
    printer.login(EMAILS["printer"])
    assert printer.download(f"/print-shop/jobs/{scene.job_id}.pdf").status_code == 200
    assert printer.post(f"/print-shop/jobs/{scene.job_id}/reprint", {
        "sheet_first": "1", "sheet_last": "1", "reason": "kertas macet"}).status_code == 200
    buyer = phone(app, "203.0.113.40")
    label = sign(app, world, "1")
    assert buyer.get(path_of(label), headers={"Accept-Language": "id"}).status_code == 200
    tampered = path_of(label).replace("/21/1?", "/21/2?")
    assert buyer.get(tampered, headers={"Accept-Language": "id"}).status_code == 200
    flush(app)
    # A buyer's report from a label's page: in the batch's history with no user as its actor.
    form = buyer.get(f"/verify/report?{urlencode({'uri': path_of(label)})}",
                     headers={"Accept-Language": "id"}).get_data(as_text=True)
    token, uri = CSRF_RE.search(form), re.search(r'name="uri" type="hidden" value="([^"]+)"', form)
    assert token and uri, form[:2000]
    assert buyer.post("/verify/report", data={
        "csrf_token": token.group(1), "uri": uri.group(1).replace("&amp;", "&"),
        "message": "Segelnya tampak difotokopi"}).status_code == 303
    desk.handle_report(db, officer, scene.report_id, note="Toko sudah diperingatkan")
    db.commit()

    # A product of another category and unit, and a batch in every other state, with the
    # edits and documents a history records.
    processed = catalog.create_product(db, exporter, ProductInput(
        name_id="Abon Tuna", name_en="Shredded Tuna", category="processed-food",
        hs_code="160414"))
    catalog.update_product(db, exporter, processed.id, ProductInput(
        name_id="Abon Tuna Flores", name_en="Flores Shredded Tuna", category="processed-food",
        hs_code="160414"))
    catalog.set_product_photo(db, exporter, processed.id, make_png(), **limits)
    db.commit()
    draft = catalog.create_batch(db, exporter, batch_input(processed, "DRAFT-T", "52.04",
                                                           unit="t", quantity=Decimal("2.5")))
    catalog.update_batch(db, exporter, draft.id, batch_input(
        processed, "DRAFT-T", "52.04", unit="t", quantity=Decimal("3"), hub="ngurah-rai"))
    for kind in ("halal", "lab_results", "organic", "certificate_of_origin", "other"):
        catalog.add_document(db, exporter, draft.id, kind=kind, filename=f"{kind}.pdf",
                             data=evidence_pdf(), is_public=False, **limits)
    removed, _stored = catalog.add_document(db, exporter, draft.id, kind="phytosanitary",
                                            filename="lama.pdf", data=evidence_pdf(),
                                            is_public=False, **limits)
    catalog.remove_document(db, exporter, draft.id, removed.id)
    db.commit()
    states = {
        "SUBMITTED-1": [],
        "REJECTED-1": [Action.REJECT],
        "SUSPENDED-1": [Action.APPROVE, Action.SUSPEND],
        "REVOKED-1": [Action.APPROVE, Action.SUSPEND, Action.REINSTATE, Action.REVOKE],
        "EXPIRED-1": [Action.APPROVE],
    }
    for lot, actions in states.items():
        batch = _batch(world, db, lot, unit="head" if lot == "REVOKED-1" else "kg")
        world.submit(batch, exporter)
        for action in actions:
            world.decide(batch, officer, action)
        if lot == "EXPIRED-1":
            db.exec(update(Batch).where(Batch.id == batch.id)  # type: ignore[call-overload]
                    .values(valid_until=today() - dt.timedelta(days=1)))
            db.commit()
    assert db.exec(select(PrintJob)).first() is not None
    scene.shipment_id = _issues_17_and_18(world, db, scene.document_id, limits)

    # People are named plainly: an e-mail "printer@…" would put a role's code on the page.
    for user in db.exec(select(User)).all():
        user.email = f"pengguna{user.id}@contoh.id"
        user.name = f"Pengguna {user.id}"
        # The tests' authenticator key follows the address (conftest.totp_secret): enrol the
        # renamed officers and admin again, as an operator's reset and a new enrolment would.
        if second_factor.reset(db, None, user):
            enrol_second_factor(db, user)
    db.commit()
    return scene


def _issues_17_and_18(world: World, db: Session, document_id: int, limits: dict[str, Any]) -> int:
    """What issues 17 and 18 added, with a code of each of their vocabularies on some page:
    shipments of batch A in every status (the confirmed one's id is returned, for the hub's
    shipment page), certificates with their facts (a certificate of origin's form, an organic
    scheme, a halal number on the public verification page, one expiring), a required
    certificate per destination, and targets of every metric (ahead and behind)."""
    officer, exporter, bali = world.officer_ntb, world.exporter_a, world.officer_bali
    declared = {status: shipments.declare(db, exporter, world.batch_a.id, shipment_input())
                for status in ShipmentStatus}
    shipments.confirm(db, bali, declared[ShipmentStatus.CONFIRMED].id, passage_date=today(),
                      remarks="Segel diperiksa")
    shipments.refuse(db, bali, declared[ShipmentStatus.REFUSED].id, reason="Segel rusak")
    shipments.cancel(db, exporter, world.batch_a.id, declared[ShipmentStatus.CANCELLED].id)
    db.commit()

    # Batch A's public phytosanitary certificate gets its facts (it was certified as a scan):
    # its number and issuer on the verification page, its expiry on the batch page.
    db.exec(update(Document).where(Document.id == document_id)  # type: ignore[call-overload]
            .values(number="2026.1.0500.0.K21.E.000123", issuer="Badan Karantina Indonesia",
                    issued_on=today() - dt.timedelta(days=300),
                    expires_on=today() + dt.timedelta(days=10))
            .execution_options(**{verify_facts.FACTS_REFRESHED: True}))
    verify_facts.refresh(db.connection(), [world.batch_a.id])
    # A submitted batch with a certificate of origin and an organic certificate, for the
    # exporter's and the office's batch pages.
    certified = _batch(world, db, "CERT-1")
    for kind, facts in (
            ("certificate_of_origin", CertificateInput(
                number="0001/SKA/D/2026", form_type=OriginForm.FORM_AJCEP,
                issued_on=today() - dt.timedelta(days=5))),
            ("organic", CertificateInput(number="ORG-2026-17", issuer="LeSOS",
                                         scheme=OrganicScheme.USDA_NOP,
                                         expires_on=today() + dt.timedelta(days=400))),
            ("halal", CertificateInput(number="ID35110000123450722",
                                       expires_on=today() - dt.timedelta(days=1)))):
        catalog.add_document(db, exporter, certified.id, kind=kind, filename=f"{kind}.pdf",
                             data=evidence_pdf(), is_public=True, certificate=facts, **limits)
    db.commit()
    world.submit(certified, exporter)
    certificates.add_rule(db, world.admin, RuleInput(category="agriculture", kind="halal",
                                                      destination="SA"))
    certificates.add_rule(db, world.admin, RuleInput(category="agriculture",
                                                      kind="certificate_of_origin"))
    db.commit()

    year = today().year
    for actor, data in (
            (officer, TargetInput(year, "52", Metric.BATCHES, "1")),  # ahead
            (officer, TargetInput(year, "52", Metric.VALUE, "900000000000000")),  # behind
            (officer, TargetInput(year, "52", Metric.VOLUME, "5000", category="agriculture",
                                  unit="kg", destination="NL")),
            (world.admin, TargetInput(year, None, Metric.ACTIVE_EXPORTERS, "40"))):
        targets.set_target(db, actor, data, today=today())
    db.commit()
    assert len(db.exec(select(Plot)).all()) >= 2
    return declared[ShipmentStatus.CONFIRMED].id  # type: ignore[return-value]


def _emails(db: Session, world: World) -> dict[str, str]:
    ids = {"exporter_a": world.exporter_a, "exporter_b": world.exporter_b,
           "officer_bali": world.officer_bali, "officer_ntt": world.officer_ntt,
           "officer_ntb": world.officer_ntb, "printer": world.printer, "admin": world.admin}
    return {actor: f"pengguna{user.id}@contoh.id" for actor, user in ids.items()}


def crawl(client: Client, starts: list[str], codes: dict[str, str],
          ignore: list[str]) -> tuple[list[str], set[str]]:
    """Open ``starts`` and every page linked from them; the raw codes found, and the pages
    read (answered 200)."""
    problems: list[str] = []
    seen: set[str] = set()
    read: set[str] = set()
    queue = deque(starts)
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        assert len(seen) <= MAX_PAGES, f"more than {MAX_PAGES} pages: {sorted(seen)[:40]}"
        response = client.get(path, headers={"Accept-Language": "id"})
        if response.status_code != 200:
            continue
        read.add(path)
        text = visible_text(response)
        if text is None:
            continue
        problems += [f"{path}: {p}" for p in raw_words(text, codes, ignore)]
        if response.mimetype == "text/html":
            queue.extend(links(response.get_data(as_text=True)))
    return problems, read


@pytest.mark.slow
def test_no_raw_code_on_any_page_in_indonesian(world: World, db: Session, app: Flask,
                                              make_client: Callable[[], Client],
                                              inbox: Inbox) -> None:
    scene = rich_scene(world, db, app, make_client)
    with app.app_context():
        assert send_expiry_alerts() == 1  # batch A's phytosanitary certificate, in 10 days
        assert send_fake_reports() >= 1  # the minute sweep's summary of the buyers' reports
        # The services the scene called wrote their mail without a queue to hand it to.
        for mail_id in db.exec(select(Mail.id).where(Mail.state == MailState.QUEUED)).all():
            deliver(mail_id)
    codes, ignore = raw_codes(app), not_codes(app)
    # The audit log names who acted by the address they had then ("printer@test.id", before
    # the scene renamed everyone below): a recorded name, not a code that leaked.
    ignore = [*EMAILS.values(), "pending@test.id", *ignore]
    assert {"approved", "expired", "printjob.order", "fake.report", "exporter",
            "system"} <= set(codes)
    emails = _emails(db, world)
    problems: list[str] = []
    for actor in ACTORS:
        client = make_client()
        client.get("/?lang=id")
        if actor != "anonymous":
            client.login(emails[actor], PASSWORD)
        starts = ["/", *(route.path(scene) for route in ROUTES
                         if route.method == "GET" and route.expected(actor) == 200)]
        found, read = crawl(client, starts, codes, ignore)
        # The pages of issues 17 and 18 the matrix opens to this role were read: one whose
        # scene lacked its data (a shipment, say) would answer 404 and be skipped unread.
        newer = {route.path(scene) for route in ROUTES
                 if route.method == "GET" and route.expected(actor) == 200
                 and route.endpoint.startswith(ISSUES_17_18)}
        assert newer <= read, (actor, sorted(newer - read))
        if actor in ("officer_bali", "admin"):
            assert f"/hub/shipments/{scene.shipment_id}" in read, actor
        if actor == "exporter_a":
            assert {f"/batches/{scene.batch_a}/plots",
                    f"/batches/{scene.batch_a}/shipments"} <= read
        problems += [f"{actor} {p}" for p in found]
    # The mail the scene sent (decisions, passages through the hub, a certificate expiring,
    # print jobs, reports), each in its recipient's language: Indonesian, the default.
    sent = set(db.exec(select(Mail.kind).where(Mail.state == MailState.SENT)).all())
    assert {MailKind.BATCH_DECISION, MailKind.CERTIFICATE_EXPIRY, MailKind.FAKE_REPORT,
            MailKind.PRINT_JOB_ASSIGNED, MailKind.LABEL_FILE_READY} <= sent
    for message in inbox.messages:
        # Links hold paths ("/batches/1"), not words.
        text = URL.sub(" ", "\n".join([str(message["Subject"]), mail_text(message)]))
        problems += [f"mail to {message['To']} {p}" for p in raw_words(text, codes, ignore)]
    assert problems == [], "\n".join(problems)
