"""'Report a suspected fake': CSRF-protected, rate-limited, stored with an audit event, and
seen by the exporter and the trade office of the batch (and by nobody else)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select
from verify_support import path_of, printed_labels

from conftest import World
from registry.audit.models import AuditEvent
from registry.verify.models import FakeReport

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
URI = re.compile(r'name="uri" type="hidden" value="([^"]+)"')
ACTION = re.compile(r'<form method="post" action="([^"]+)"')
REPORT_LINK = re.compile(r'<p class="report"><a href="([^"]+)"')


@pytest.fixture
def labels(make_client: Any, world: World, db: Session) -> list[str]:
    return printed_labels(make_client, world, db, quantity=2)


def _form(phone: FlaskClient, path: str, **headers: str) -> dict[str, str]:
    """Follow the verification page's report link and read the form it leads to."""
    page = phone.get(path, headers=headers).get_data(as_text=True)
    link = REPORT_LINK.search(page)
    assert link, page[:3000]
    html = phone.get(link.group(1).replace("&amp;", "&"), headers=headers).get_data(as_text=True)
    token, uri, action = TOKEN.search(html), URI.search(html), ACTION.search(html)
    assert token and uri and action, html[:3000]
    return {"csrf_token": token.group(1), "uri": uri.group(1).replace("&amp;", "&"),
            "action": action.group(1).replace("&amp;", "&")}


def _report(phone: FlaskClient, form: dict[str, str], message: str = "The seal was broken",
            **extra: str) -> Any:
    data = {"csrf_token": form["csrf_token"], "uri": form["uri"], "message": message, **extra}
    return phone.post(form["action"], data=data)


def test_report_is_stored_audited_and_thanked(app: Flask, labels: list[str], db: Session,
                                              world: World) -> None:
    phone = app.test_client()
    phone.environ_base.update(REMOTE_ADDR="203.0.113.5")
    form = _form(phone, path_of(labels[1]), **{"Accept-Language": "en"})
    response = _report(phone, form, "Label printed on plain paper, no hologram",
                       where_bought="Toko Oleh-Oleh, Osaka", contact="buyer@example.jp")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/verify/report?")
    page = phone.get(response.headers["Location"], headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert ("Thank you. Your report reached the registry, which passes it on to those who "
            "must act on it.") in html
    # ... with the way back to the label's verification page
    assert f'href="{path_of(labels[1]).replace("&", "&amp;")}"' in html
    db.expire_all()
    report = db.exec(select(FakeReport)).one()
    assert report.batch_id == world.batch_a.id
    assert (report.serial, report.lot, report.verdict) == ("2", "A-LOT-1", "genuine")
    assert report.message == "Label printed on plain paper, no hologram"
    assert report.where_bought == "Toko Oleh-Oleh, Osaka"
    assert report.contact == "buyer@example.jp"
    assert report.language == "en"
    assert "203.0.113.5" not in repr(report.model_dump())
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "fake.report")).one()
    assert event.object_id == str(world.batch_a.id)


def test_report_without_csrf_token_is_refused(app: Flask, labels: list[str],
                                              db: Session) -> None:
    phone = app.test_client()
    form = _form(phone, path_of(labels[0]))
    response = phone.post("/verify/report", data={"uri": form["uri"], "message": "fake!"})
    assert response.status_code == 400
    # A token from another browser's session does not do either.
    stranger = app.test_client()
    response = stranger.post("/verify/report", data={**form, "message": "fake!"})
    assert response.status_code == 400
    assert db.exec(select(FakeReport)).all() == []


def test_empty_report_is_sent_back(app: Flask, labels: list[str], db: Session) -> None:
    phone = app.test_client()
    form = _form(phone, path_of(labels[0]))
    response = _report(phone, form, message="", where_bought="Pasar Badung")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Please describe what looks wrong (at most 4,000 characters)." in html
    assert 'value="Pasar Badung"' in html  # what the buyer typed is kept
    assert db.exec(select(FakeReport)).all() == []
    garbage = phone.post("/verify/report", data={**form, "uri": "/01/nonsense",
                                                 "message": "x"})
    assert garbage.status_code == 400


def test_reports_are_rate_limited(app: Flask, labels: list[str], db: Session) -> None:
    phone = app.test_client()
    form = _form(phone, path_of(labels[0]))
    statuses = [_report(phone, form, f"report {n}").status_code for n in range(6)]
    assert statuses == [303] * 5 + [429]
    db.expire_all()
    assert len(db.exec(select(FakeReport)).all()) == 5


def test_report_keeps_the_chosen_language(app: Flask, labels: list[str], db: Session) -> None:
    phone = app.test_client()
    form = _form(phone, path_of(labels[0]) + "&lang=ja", **{"Accept-Language": "en"})
    assert form["action"] == "/verify/report?lang=ja"
    assert form["uri"] == path_of(labels[0]) + "&lang=ja"
    response = _report(phone, form, "ラベルが違います")
    assert "lang=ja" in response.headers["Location"]
    page = phone.get(response.headers["Location"], headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert "Thank you." not in html  # the thanks are in Japanese too
    assert "報告" in html or "ありがとう" in html
    db.expire_all()
    assert db.exec(select(FakeReport)).one().language == "ja"


def test_fake_label_reports_reach_no_exporter(app: Flask, labels: list[str], db: Session) -> (
    None
):
    phone = app.test_client()
    tampered = path_of(labels[0]).replace("/21/1?", "/21/2?")
    form = _form(phone, tampered)
    assert _report(phone, form, "Looks fake").status_code == 303
    report = db.exec(select(FakeReport)).one()
    assert report.batch_id is None and report.verdict == "not_genuine"


def test_exporter_and_office_see_reports_other_exporter_does_not(
    app: Flask, labels: list[str], make_client: Any, world: World,
) -> None:
    phone = app.test_client()
    form = _form(phone, path_of(labels[0]))
    _report(phone, form, "Different colour of the lid <b>bold</b>",
            where_bought="Pasar Badung")
    app.extensions["scan_buffer"].flush()
    exporter = make_client()
    exporter.login("a@test.id")
    officer = make_client()
    officer.login("officer.ntb@test.id")
    pages = [exporter.get(f"/batches/{world.batch_a.id}?lang=en").get_data(as_text=True),
             officer.get(f"/review/batches/{world.batch_a.id}?lang=en").get_data(as_text=True)]
    for html in pages:
        assert "Reports of suspected fakes" in html
        # The buyer's text is shown as text, never as markup.
        assert "Different colour of the lid &lt;b&gt;bold&lt;/b&gt;" in html
        assert "Pasar Badung" in html
        assert "<dt>Scans</dt><dd>1</dd>" in html
    other = make_client()
    other.login("b@test.id")
    assert other.get(f"/batches/{world.batch_a.id}").status_code == 404
    assert "Different colour" not in other.get("/batches").get_data(as_text=True)
    assert "Different colour" not in other.get(
        f"/batches/{world.batch_b.id}").get_data(as_text=True)
