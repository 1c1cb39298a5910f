"""What an office reads of the audit trail, checked event by event against the rules of
``registry.audit.listing``'s module doc, evaluated here in Python on the objects themselves:
the SQL asks each event about its object's kind by primary key (session 17), and must agree
with the rules for every kind, on both databases, including events whose object id is no
number, not written as the key is, or names no object."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlmodel import Session, select
from test_audit_hub_events import _declare
from test_audit_log_page import busy_world

from conftest import World
from registry.accounts.models import Organisation, OrgKind, User
from registry.api.models import ApiToken
from registry.audit import listing
from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.audit.tags import EventTag
from registry.catalog.certification import Status
from registry.catalog.models import Batch, Product
from registry.clock import today
from registry.db import MAX_ID
from registry.db.paging import Page, Window
from registry.printing import services as printing
from registry.printing.models import PrintJob
from registry.shipments import services as shipments
from registry.targets.models import Target
from registry.verify.models import FakeReport

OFFICE_KINDS = (OrgKind.EXPORTER, OrgKind.TRADE_OFFICE)


def reads(db: Session, event: AuditEvent, province: str) -> bool:
    """The module doc's rules, one object at a time."""
    officers = {u.id for u in db.exec(select(User).join(
        Organisation, Organisation.id == User.organisation_id).where(
        Organisation.province_code == province,
        Organisation.kind == OrgKind.TRADE_OFFICE)).all()}
    if event.actor_id in officers:
        return True
    key = event.object_id or ""
    if not key.isascii() or not key.isdigit() or str(int(key)) != key:
        return False  # the trail writes a key as str(id): anything else names no object
    number = int(key)
    if number > MAX_ID:
        return False  # no table's key is that large

    def reviewed(batch: Batch | None) -> bool:
        return (batch is not None and batch.origin_province_code == province
                and batch.status != Status.DRAFT)

    def own(org_id: int | None, kinds: tuple[OrgKind, ...] = OFFICE_KINDS) -> bool:
        org = db.get(Organisation, org_id) if org_id is not None else None
        return org is not None and org.province_code == province and org.kind in kinds

    match event.object_type:
        case "batch":
            return reviewed(db.get(Batch, number))
        case "print_job":
            job = db.get(PrintJob, number)
            return job is not None and reviewed(db.get(Batch, job.batch_id))
        case "product":
            product = db.get(Product, number)
            with_batch = any(reviewed(b) for b in db.exec(
                select(Batch).where(Batch.product_id == number)).all())
            return with_batch or (product is not None
                                  and own(product.organisation_id, (OrgKind.EXPORTER,)))
        case "organisation":
            return own(number)
        case "user":
            user = db.get(User, number)
            return user is not None and own(user.organisation_id)
        case "api_token":
            token = db.get(ApiToken, number)
            user = db.get(User, token.user_id) if token else None
            return user is not None and own(user.organisation_id)
        case "fake_report":
            report = db.get(FakeReport, number)
            return report is not None and report.province_code == province
        case "target":
            target = db.get(Target, number)
            return target is not None and target.province_code == province
    return False


def test_each_office_reads_exactly_the_events_the_rules_give_it(db: Session,
                                                                 world: World) -> None:
    busy_world(db, world)  # both provinces' objects, a draft, a token, a report, keys
    # The hub office's own events on an NTB batch, which NTB reads too.
    shipments.confirm(db, world.officer_bali, _declare(db, world), passage_date=today(),
                      remarks="Seals intact")
    shipments.refuse(db, world.officer_bali, _declare(db, world), reason="Seal differs")
    batch = db.get(Batch, world.batch_a.id)
    assert batch is not None and batch.status == Status.APPROVED
    printing.order_job(db, world.exporter_a, batch.id, printer_org_id=world.print_org.id,
                       stock="a4-3x7", quantity=3, net_quantity="500 g")
    # Object ids the services never write: no number, a number written otherwise than a key
    # is, a key of no object, and none. None may fail a query or be read as an object.
    for object_type, object_id in (("batch", "abc"), ("batch", f"0{world.batch_a.id}"),
                                   ("print_job", "99999999"), ("product", "-1"),
                                   ("user", "99999999999999999999"), ("target", None),
                                   ("batch", f" {world.batch_a.id}")):
        audit.record(db, actor=None, action=EventTag.Account.LOGIN_FAILED,
                     object_type=object_type, object_id=object_id)
    db.commit()

    everything = db.exec(select(AuditEvent)).all()
    kinds = {e.object_type for e in everything}
    assert {"batch", "print_job", "product", "organisation", "user", "api_token",
            "fake_report"} <= kinds, kinds
    for province in ("51", "52", "53"):
        scope = listing.LogScope(province=province)
        page = listing.event_page(db, scope, listing.LogFilter(), Window(1, 10_000))
        listed = {e.seq for e in page.items}
        expected = {e.seq for e in everything if reads(db, e, province)}
        assert expected, province  # each office has something to read here
        assert listed == expected, (province, sorted(listed ^ expected))
        assert page.total == len(expected)


def test_an_offices_log_is_counted_only_so_far_ahead(db: Session, world: World,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Counting every event an office reads costs a visibility test an event: at 3 million
    # events it took 10–13 s a page on PostgreSQL (bench/audit_log.py). So an office's log
    # is counted only so far past the page ("1–50 of more than 10,000"); the administrator's
    # count stays exact.
    busy_world(db, world)
    scope = listing.LogScope(province="52")
    everything = listing.event_page(db, scope, listing.LogFilter(), Window(1, 1000))
    assert not everything.more and everything.total == len(everything.items) >= 5
    newest = [e.seq for e in everything.items]
    monkeypatch.setattr(listing, "OFFICE_COUNT_AHEAD", 3)
    first = listing.event_page(db, scope, listing.LogFilter(), Window(1, 2))
    assert (first.total, first.more, first.last, first.next) == (3, True, 2, 2)
    assert [e.seq for e in first.items] == newest[:2]
    # Each later page counts as far again past its own start, so every page stays reachable.
    second = listing.event_page(db, scope, listing.LogFilter(), Window(2, 2))
    assert [e.seq for e in second.items] == newest[2:4]
    assert second.next == 3
    # Near the end the count is exact again.
    end = listing.event_page(db, scope, listing.LogFilter(), Window(len(newest) // 2, 2))
    assert end.total == len(newest) and not end.more
    admin = listing.event_page(db, listing.LogScope(), listing.LogFilter(), Window(1, 2))
    assert not admin.more and admin.total == len(db.exec(select(AuditEvent)).all())


def test_the_pager_says_when_a_list_was_counted_only_so_far(app: Flask) -> None:
    page = Page(list(range(50)), 10_000, Window(1, 50), more=True)
    exact = Page(list(range(50)), 10_000, Window(1, 50))
    for lang, more, of in (("en", "1–50 of more than 10,000", "1–50 of 10,000"),
                           ("id", "1–50 dari lebih dari 10.000", "1–50 dari 10.000")):
        with app.test_request_context(f"/audit?lang={lang}"), force_locale(lang):
            pager = app.jinja_env.get_template("_pager.html").module.pager
            assert more in str(pager(page, "audit.log"))
            assert of in str(pager(exact, "audit.log"))
            assert "more" not in str(pager(exact, "audit.log"))
