"""Issue 11 §6: evidence of fakes reaches someone. A buyer's report or a scan of a code that
fails verification, but names a product the registry knows, reaches that product's exporter
and the origin province's trade office on their suspicious-activity desk (``/desk``); a code
naming no known product reaches the administrators. Nothing shows on another province's or
company's desk; an office's figures count the not-genuine scans of its province."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from scan_support import certified_labels, desk_page, flush, path_of, phone, sign, verdict
from sqlmodel import Session, select

from conftest import World
from registry.audit.models import AuditEvent
from registry.verify.models import FakeReport

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
URI = re.compile(r'name="uri" type="hidden" value="([^"]+)"')
ACTION = re.compile(r'<form method="post" action="([^"]+)"')
REPORT_LINK = re.compile(r'<p class="report"><a href="([^"]+)"')


def _send_report(client: Any, path: str, message: str) -> None:
    """Open the verification page, follow its report link, send the form: as a buyer does."""
    page = client.get(path_of(path), headers={"Accept-Language": "en"}).get_data(as_text=True)
    link = REPORT_LINK.search(page)
    assert link, page[:2000]
    html = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    token, uri, action = TOKEN.search(html), URI.search(html), ACTION.search(html)
    assert token and uri and action, html[:2000]
    response = client.post(action.group(1).replace("&amp;", "&"), data={
        "csrf_token": token.group(1), "uri": uri.group(1).replace("&amp;", "&"),
        "message": message})
    assert response.status_code == 303


def _tampered(label: str) -> str:
    """The label's code with another serial: the signature no longer fits."""
    return path_of(label).replace("/21/1?", "/21/2?")


def test_a_report_from_a_not_genuine_page_reaches_the_office_and_the_exporter(
        app: Flask, world: World, db: Session, make_client: Any) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    buyer = phone(app, "203.0.113.40")
    assert verdict(buyer, _tampered(label)) == "not_genuine"
    _send_report(buyer, _tampered(label), "Bought in Osaka, the seal looks photocopied")

    for email in ("officer.ntb@test.id", "a@test.id"):
        html = desk_page(make_client, email)
        assert "Bought in Osaka, the seal looks photocopied" in html, email
        assert "Not a genuine label" in html and "Sumbawa Honey" in html and "Bad signature" in html
    for email in ("officer.ntt@test.id", "officer.bali@test.id", "b@test.id"):
        assert "Bought in Osaka" not in desk_page(make_client, email), email
    # The administrators' desk lists what nobody else sees; all of it on request.
    assert "Bought in Osaka" not in desk_page(make_client, "admin@test.id")
    assert "Bought in Osaka" in desk_page(make_client, "admin@test.id", "&all=1")


def test_a_report_on_an_unknown_product_reaches_the_administrators(
        app: Flask, world: World, db: Session, make_client: Any) -> None:
    certified_labels(app, world, db, quantity=1)
    buyer = phone(app, "203.0.113.41")
    forged = f"/01/08991234567891/10/X1/21/7?s={'A' * 96}"
    assert verdict(buyer, forged) == "not_genuine"
    _send_report(buyer, forged, "A coffee brand I never heard of")
    assert "A coffee brand I never heard of" in desk_page(make_client, "admin@test.id")
    for email in ("officer.ntb@test.id", "officer.ntt@test.id", "a@test.id", "b@test.id"):
        assert "A coffee brand" not in desk_page(make_client, email), email


def test_not_genuine_scans_reach_the_desk_and_the_office_figures(
        app: Flask, world: World, db: Session, make_client: Any) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    never_printed = sign(app, world, "999")  # validly signed, outside every print job
    assert verdict(phone(app, "198.51.1.10"), never_printed) == "not_genuine"
    assert verdict(phone(app, "198.51.2.10"), never_printed) == "not_genuine"
    assert verdict(phone(app, "198.51.3.10"), _tampered(label)) == "not_genuine"
    unknown_lot = sign(app, world, "5", lot="NO-SUCH-LOT")
    assert verdict(phone(app, "198.51.4.10"), unknown_lot) == "not_genuine"
    flush(app)

    for email in ("officer.ntb@test.id", "a@test.id"):
        html = desk_page(make_client, email, "&show=scans")
        rows = re.findall(r'<tr class="group">(.*?)</tr>', html, re.S)
        text = [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in rows]
        assert any("Sumbawa Honey" in t and "Serial never printed" in t and " 2 " in f" {t} "
                   for t in text), text
        assert any("Bad signature" in t and " 1 " in f" {t} " for t in text), text
        assert any("Unknown lot" in t for t in text), text
    for email in ("officer.ntt@test.id", "b@test.id", "officer.bali@test.id"):
        html = desk_page(make_client, email, "&show=scans")
        assert "Sumbawa Honey" not in html, email

    officer = make_client()
    officer.login("officer.ntb@test.id")
    figures = officer.get("/figures/?lang=en&province=52").get_data(as_text=True)
    assert "<dt>Not genuine</dt><dd>4</dd>" in figures
    other = make_client()
    other.login("officer.ntt@test.id")
    figures = other.get("/figures/?lang=en&province=53").get_data(as_text=True)
    assert "<dt>Not genuine</dt><dd>0</dd>" in figures


def test_serials_told_possible_copy_are_on_thedesk_page(
        app: Flask, world: World, db: Session, make_client: Any) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    seen = [verdict(phone(app, f"198.51.{n}.10"), label, **{"CF-IPCountry": "JP"})
            for n in range(7)]
    assert seen[-1] == "possible_copy"
    flush(app)
    html = desk_page(make_client, "officer.ntb@test.id", "&show=copies")
    rows = re.findall(r'<tr class="copy">(.*?)</tr>', html, re.S)
    assert len(rows) == 1 and "A-LOT-1" in rows[0] and ">1<" in rows[0]
    assert "A-LOT-1" not in desk_page(make_client, "officer.ntt@test.id", "&show=copies")
    assert "A-LOT-1" in desk_page(make_client, "a@test.id", "&show=copies")
    assert "A-LOT-1" not in desk_page(make_client, "b@test.id", "&show=copies")


def test_a_report_is_marked_handled_with_a_note_once_and_audited(
        app: Flask, world: World, db: Session, make_client: Any) -> None:
    label = certified_labels(app, world, db, quantity=1)[0]
    _send_report(phone(app, "203.0.113.42"), _tampered(label), "Fake in Nagoya")
    report = db.exec(select(FakeReport)).one()

    stranger = make_client()
    stranger.login("officer.ntt@test.id")
    assert stranger.post(f"/desk/reports/{report.id}/handle", {"note": "mine"},
                         token_from="/desk").status_code == 404
    officer = make_client()
    officer.login("officer.ntb@test.id")
    empty = officer.post(f"/desk/reports/{report.id}/handle?lang=en", {"note": " "},
                         token_from="/desk")
    assert empty.status_code == 400
    assert "Say what was done" in empty.get_data(as_text=True)
    db.expire_all()
    assert db.get(FakeReport, report.id).handled_at is None
    done = officer.post(f"/desk/reports/{report.id}/handle", {"note": "Shop in Nagoya warned"},
                        token_from="/desk")
    assert done.status_code == 302
    db.expire_all()
    stored = db.get(FakeReport, report.id)
    assert stored.handled_at is not None and stored.handled_note == "Shop in Nagoya warned"
    assert stored.handled_by_id == world.officer_ntb.id
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "fake.handled")).one()
    assert event.object_id == str(report.id)
    html = desk_page(make_client, "a@test.id")
    assert "Shop in Nagoya warned" in html and "Handled" in html


def test_the_desk_pages_newest_first(app: Flask, world: World, db: Session,
                                     make_client: Any) -> None:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    for n in range(55):
        db.add(FakeReport(created_at=now - dt.timedelta(minutes=n), gtin="00490000000016",
                          lot="A-LOT-1", serial=str(n + 1), verdict="not_genuine",
                          message=f"report number {n + 1:02d}.", language="en",
                          client="0" * 16, product_id=world.product_a.id,
                          organisation_id=world.company_a.id, province_code="52",
                          kind="bad_signature"))
    db.commit()
    first = desk_page(make_client, "officer.ntb@test.id")
    shown = re.findall(r"report number (\d+)\.", first)
    assert shown == [f"{n:02d}" for n in range(1, 51)]
    assert "1–50 of 55" in first and 'rel="next"' in first
    second = desk_page(make_client, "officer.ntb@test.id", "&page=2")
    assert re.findall(r"report number (\d+)\.", second) == [f"{n}" for n in range(51, 56)]
