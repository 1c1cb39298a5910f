"""Notifications (issue 16 §5, acceptance 4): each reaches its recipient through a real SMTP
server, in the recipient's language (their saved choice, else Indonesian), with a link to the
page where they act on the registry's public host; a kind switched off does not arrive, a
security mail always does; the digest goes once a day and copy signals once a batch a day."""

from __future__ import annotations

import datetime as dt
import re
import threading
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlmodel import Session, select

from conftest import CHEAP_HASHING, Client, Inbox, World, mail_html, mail_text, order_and_download
from registry.accounts import services as accounts
from registry.accounts.models import Role, User, UserStatus
from registry.audit.models import AuditEvent
from registry.catalog.certification import Action
from registry.clock import REGION_TZ, today, utcnow
from registry.mail.kinds import MailKind
from registry.mail.models import MailOnce, MailOptOut
from registry.notifications.tasks import send_copy_signals, send_daily_digests, send_fake_reports
from registry.printing import services as printing
from registry.printing.models import PrintJob
from registry.signing.keys import signer
from registry.verify.models import FakeReport, Scan

HOST = "cek.example.id"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
BOX = re.compile(r'<input( checked)? id="wanted-\d" name="wanted" type="checkbox" value="(\w+)">')


def boxes(page: str) -> dict[str, bool]:
    """The settings page's checkboxes: kind → ticked."""
    return {kind: bool(ticked) for ticked, kind in BOX.findall(page)}


@pytest.fixture(autouse=True)
def public_host(app: Flask) -> None:
    app.config["PUBLIC_HOST"] = HOST


def signed_in(app: Flask, email: str) -> Client:
    client = Client(app.test_client())
    client.login(email)
    return client


def speaks(db: Session, user: User, locale: str | None) -> User:
    user.locale = locale
    db.add(user)
    db.commit()
    return user


def colleague(db: Session, world: World, email: str, locale: str | None) -> User:
    """A second exporter user of company A."""
    user = accounts.create_user(db, None, email=email, name="Ketut", role=Role.EXPORTER,
                                organisation_id=world.company_a.id, password="x" * 16,
                                hashing=CHEAP_HASHING)
    return speaks(db, user, locale)


def subject(message: EmailMessage) -> str:
    return str(message["Subject"]).strip()


def only(inbox: Inbox, address: str) -> EmailMessage:
    messages = inbox.to(address)
    assert len(messages) == 1, [subject(m) for m in messages]
    return messages[0]


def decide(app: Flask, world: World, db: Session, action: Action, reason: str = "") -> None:
    db.refresh(world.batch_a)
    officer = signed_in(app, world.officer_ntb.email)
    data = {"action": action.value, "version": str(world.batch_a.version), "reason": reason,
            "valid_until": (today() + dt.timedelta(days=200)).isoformat()}
    path = f"/review/batches/{world.batch_a.id}"
    response = officer.post(f"{path}/decide", data, token_from=path)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


# ---------------------------------------------------------------- exporters


def test_each_decision_reaches_the_exporters_in_their_language_with_the_reason(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    english = colleague(db, world, "ketut@test.id", "en")
    world.submit(world.batch_a, world.exporter_a)
    decide(app, world, db, Action.REJECT, "Sertifikat fitosanitari sudah kedaluwarsa")
    batch_link = f"http://{HOST}/batches/{world.batch_a.id}"

    indonesian = only(inbox, world.exporter_a.email)  # never chose: Indonesian
    assert subject(indonesian) == "Batch A-LOT-1 ditolak"
    text = mail_text(indonesian)
    assert "Alasan petugas: Sertifikat fitosanitari sudah kedaluwarsa" in text
    assert "Madu Sumbawa" in text and batch_link in text
    assert f'href="{batch_link}"' in mail_html(indonesian)
    assert f"http://{HOST}/account/notifications" in text  # where to switch it off

    message = only(inbox, english.email)
    assert subject(message) == "Batch A-LOT-1 was rejected"
    assert "The officer's reason: Sertifikat fitosanitari" in mail_text(message)
    assert "Sumbawa Honey" in mail_text(message) and batch_link in mail_text(message)
    assert inbox.to(world.exporter_b.email) == []  # another company hears nothing
    assert inbox.to(world.officer_ntb.email) == []

    inbox.clear()
    world.submit(world.batch_a, world.exporter_a)
    decide(app, world, db, Action.APPROVE)
    decide(app, world, db, Action.SUSPEND, "Lab retest pending")
    decide(app, world, db, Action.REINSTATE)
    decide(app, world, db, Action.REVOKE, "Retest failed")
    assert [subject(m) for m in inbox.to(english.email)] == [
        "Batch A-LOT-1 is certified",
        "The certification of batch A-LOT-1 is suspended",
        "The certification of batch A-LOT-1 is reinstated",
        "The certification of batch A-LOT-1 is revoked",
    ]
    assert [subject(m) for m in inbox.to(world.exporter_a.email)] == [
        "Batch A-LOT-1 telah disertifikasi",
        "Sertifikasi batch A-LOT-1 ditangguhkan",
        "Sertifikasi batch A-LOT-1 dipulihkan",
        "Sertifikasi batch A-LOT-1 dicabut",
    ]
    approved, suspended = inbox.to(english.email)[:2]
    valid_until = today() + dt.timedelta(days=200)
    assert f"Valid until: {valid_until:%b} {valid_until.day}, {valid_until.year}" in mail_text(
        approved)
    assert "The officer's reason: Lab retest pending" in mail_text(suspended)
    assert all(batch_link in mail_text(m) for m in inbox.to(english.email))


def _label_path(world: World, db: Session, app: Flask) -> str:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    job = printing.order_job(db, world.exporter_a, world.batch_a.id,
                             printer_org_id=world.print_org.id, stock="roll-50x30",
                             quantity=3, net_quantity="500 g")
    db.commit()
    with app.app_context():
        source = printing.label_source(world.batch_a, world.product_a, net_quantity="500 g",
                                       host="registry.test", scheme="https")
        uri = next(source.labels(signer(), job.serial_first, job.serial_first)).qr_uri
    parts = urlsplit(uri)
    return parts.path + "?" + parts.query


def test_a_buyers_report_reaches_the_exporter_without_the_strangers_words(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    speaks(db, world.exporter_a, "en")
    path = _label_path(world, db, app)
    phone = app.test_client()
    page = phone.get("/verify/report", query_string={"uri": path}).get_data(as_text=True)
    token = TOKEN.search(page)
    assert token, page[:2000]
    response = phone.post("/verify/report", data={
        "csrf_token": token.group(1), "uri": path,
        "message": "Call +1 555 0100 to claim your prize http://phish.example"})
    assert response.status_code == 303
    assert db.exec(select(FakeReport)).one().organisation_id == world.company_a.id
    with app.app_context():
        assert send_fake_reports() == 1  # the minute sweep tells the exporter

    message = only(inbox, world.exporter_a.email)
    assert subject(message) == "A buyer reported a suspected fake of A-LOT-1"
    text = mail_text(message)
    assert "A buyer reported a label of Sumbawa Honey (lot A-LOT-1, serial 1)" in text
    assert f"http://{HOST}/desk" in text
    assert "phish" not in text and "phish" not in mail_html(message)
    assert inbox.to(world.exporter_b.email) == []


def _report(app: Flask, path: str) -> None:
    phone = app.test_client()
    page = phone.get("/verify/report", query_string={"uri": path}).get_data(as_text=True)
    token = TOKEN.search(page)
    assert token, page[:2000]
    response = phone.post("/verify/report", data={"csrf_token": token.group(1), "uri": path,
                                                  "message": "The seal looks wrong"})
    assert response.status_code == 303


def test_reports_of_fakes_make_one_mail_a_batch_a_day_not_one_a_report(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    """Today each report mailed the exporter at once, with no cap: a burst of reports (or a
    prankster) was a burst of mails."""
    speaks(db, world.exporter_a, "en")
    path = _label_path(world, db, app)
    for _n in range(3):
        _report(app, path)
    assert inbox.to(world.exporter_a.email) == []  # nothing per report
    now = utcnow()
    with app.app_context():
        assert send_fake_reports(now) == 1
        assert send_fake_reports(now + dt.timedelta(seconds=1)) == 0  # nothing new
    message = only(inbox, world.exporter_a.email)
    assert subject(message) == "Buyers reported 3 suspected fakes of A-LOT-1"
    assert ("Buyers reported 3 labels of Sumbawa Honey (lot A-LOT-1) as suspected fakes, "
            "on the serials 1.") in mail_text(message)
    assert "The seal looks wrong" not in mail_text(message)

    # A report later the same day waits for tomorrow's mail; none is left untold.
    _report(app, path)
    with app.app_context():
        assert send_fake_reports(now + dt.timedelta(seconds=2)) == 0
    assert len(inbox.to(world.exporter_a.email)) == 1
    tomorrow = now + dt.timedelta(days=1)
    with app.app_context():
        assert send_fake_reports(tomorrow) == 1
        assert send_fake_reports(tomorrow + dt.timedelta(seconds=1)) == 0
    later = inbox.to(world.exporter_a.email)[1]
    assert subject(later) == "A buyer reported a suspected fake of A-LOT-1"
    db.expire_all()
    assert all(r.notified_at is not None for r in db.exec(select(FakeReport)))


def _copy_scans(db: Session, world: World, serials: range, at: dt.datetime) -> None:
    for n in serials:
        db.add(Scan(created_at=at, batch_id=world.batch_a.id, gtin="0", lot="A-LOT-1",
                    serial=str(n), serial_number=n, verdict="possible_copy", language="en",
                    client=f"{n:016x}"))
    db.commit()


def test_possible_copies_make_one_mail_a_batch_a_day_not_one_a_scan(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    now = utcnow()
    _copy_scans(db, world, range(1, 4), now)
    _copy_scans(db, world, range(1, 3), now)
    with app.app_context():
        assert send_copy_signals(now + dt.timedelta(seconds=1)) == 1
        _copy_scans(db, world, range(4, 9), now + dt.timedelta(seconds=2))
        assert send_copy_signals(now + dt.timedelta(seconds=3)) == 0  # same batch, same day
        assert send_copy_signals(now + dt.timedelta(seconds=4)) == 0
    message = only(inbox, world.exporter_a.email)  # Indonesian: never chose
    assert subject(message) == "Kemungkinan salinan label batch A-LOT-1"
    text = mail_text(message)
    assert "5 kali, pada 3 nomor seri" in text
    assert f"http://{HOST}/batches/{world.batch_a.id}" in text
    assert inbox.to(world.exporter_b.email) == []

    tomorrow = now + dt.timedelta(days=1)
    _copy_scans(db, world, range(1, 2), tomorrow)
    with app.app_context():
        assert send_copy_signals(tomorrow + dt.timedelta(seconds=1)) == 1
    assert len(inbox.to(world.exporter_a.email)) == 2


# ---------------------------------------------------------------- print shops


def test_the_print_shop_hears_of_its_job_and_of_the_file_it_asked_for(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    speaks(db, world.printer, "en")
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    inbox.clear()
    exporter = signed_in(app, world.exporter_a.email)
    printer = signed_in(app, world.printer.email)
    order_and_download(exporter, printer, world, db, world.batch_a, quantity=4)
    job_id = db.exec(select(PrintJob)).one().id
    job_link = f"http://{HOST}/print-shop/jobs/{job_id}"

    ordered, ready = inbox.to(world.printer.email)
    assert subject(ordered) == f"New print job {job_id}: 4 labels of batch A-LOT-1"
    assert "Company A ordered 4 labels of Sumbawa Honey (lot A-LOT-1)" in mail_text(ordered)
    assert job_link in mail_text(ordered) and f'href="{job_link}"' in mail_html(ordered)
    assert subject(ready) == f"Labels of job {job_id} are ready to download"
    assert job_link in mail_text(ready)


def test_the_job_mail_in_indonesian(app: Flask, world: World, db: Session,
                                    inbox: Inbox) -> None:
    _label_path(world, db, app)  # ordered through the service, in a session that commits
    from registry.mail.delivery import sweep

    with app.app_context():
        sweep()  # a mail a script wrote goes out with the worker's sweep
    message = only(inbox, world.printer.email)
    assert subject(message).startswith("Pekerjaan cetak baru")
    assert "/print-shop/jobs/" in mail_text(message)


# ---------------------------------------------------------------- officers


def test_a_new_exporter_waiting_is_announced_to_the_provinces_officers(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    speaks(db, world.officer_ntt, "en")
    response = Client(app.test_client()).post("/signup", {
        "company_name": "CV Tenun Sumba", "nib": "9876543210123", "province_code": "53",
        "address": "Waingapu", "name": "Rambu", "email": "rambu@tenun.id",
        "password": "tenun-ikat-sumba-77", "confirm": "tenun-ikat-sumba-77"},
        token_from="/signup")
    assert response.status_code == 302
    message = only(inbox, world.officer_ntt.email)
    assert subject(message) == "CV Tenun Sumba waits for activation"
    assert "CV Tenun Sumba (NIB 9876543210123, Nusa Tenggara Timur) signed up" in mail_text(
        message)
    assert f"http://{HOST}/accounts/pending" in mail_text(message)
    assert inbox.to(world.officer_ntb.email) == inbox.to(world.officer_bali.email) == []
    assert inbox.to("rambu@tenun.id") == []


def wita(hour: int, day: dt.date | None = None) -> dt.datetime:
    return dt.datetime.combine(day or today(), dt.time(hour), tzinfo=REGION_TZ).astimezone(
        dt.UTC)


def test_the_daily_digest_goes_once_a_day_and_not_when_there_is_nothing(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    speaks(db, world.officer_ntb, "en")
    world.submit(world.batch_a, world.exporter_a)  # NTB: one submission waiting
    morning = wita(8)
    db.add(FakeReport(created_at=morning - dt.timedelta(hours=2), gtin="0", lot="A-LOT-1",
                      serial="9", verdict="not_genuine", message="x", language="en",
                      client="0" * 16, province_code="52", organisation_id=world.company_a.id))
    db.add(Scan(created_at=morning - dt.timedelta(hours=1), gtin="0", lot="X", serial="1",
                verdict="not_genuine", language="en", client="1" * 16, province_code="52"))
    db.commit()
    with app.app_context():
        assert send_daily_digests(wita(6)) == 0  # before the digest's hour
        assert send_daily_digests(morning) == 1  # NTB only: Bali and NTT have nothing
        assert send_daily_digests(morning + dt.timedelta(minutes=1)) == 0
        assert send_daily_digests(wita(23)) == 0
    message = only(inbox, world.officer_ntb.email)
    assert subject(message) == "Nusa Tenggara Barat: today at the registry"
    text = mail_text(message)
    assert "Submissions waiting for review: 1" in text
    assert "Buyers' reports of suspected fakes: 1" in text
    assert "Scans of codes that are not genuine: 1" in text
    assert f"http://{HOST}/review/" in text and f"http://{HOST}/desk" in text
    assert inbox.to(world.officer_ntt.email) == inbox.to(world.officer_bali.email) == []
    assert inbox.to(world.exporter_a.email) == []
    # Every province's day is taken, told or not: the sweep asks once a day.
    assert len(db.exec(select(MailOnce).where(MailOnce.kind == "daily_digest")).all()) == 3

    # The next day's news start where today's digest ended; the waiting batch is still there.
    tomorrow = today() + dt.timedelta(days=1)
    with app.app_context():
        assert send_daily_digests(wita(7, tomorrow)) == 1
    second = inbox.to(world.officer_ntb.email)[1]
    assert "Buyers' reports of suspected fakes: 0" in mail_text(second)
    assert "Submissions waiting for review: 1" in mail_text(second)


def test_two_workers_sweeping_at_once_send_one_digest(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    world.submit(world.batch_a, world.exporter_a)
    start = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        with app.app_context():
            start.wait()
            results.append(send_daily_digests(wita(9)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    message = only(inbox, world.officer_ntb.email)  # Indonesian: never chose
    assert subject(message) == "Nusa Tenggara Barat: hari ini di registri"
    assert "Pengajuan menunggu pemeriksaan: 1" in mail_text(message)


# ---------------------------------------------------------------- settings and language


def test_a_kind_switched_off_does_not_arrive_but_security_mails_do(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    exporter = signed_in(app, world.exporter_a.email)
    page = exporter.get("/account/notifications").get_data(as_text=True)
    assert boxes(page) == {"batch_decision": True, "fake_report": True, "copy_signal": True,
                           "certificate_expiry": True}
    response = exporter.post("/account/notifications",
                             {"wanted": ["fake_report", "copy_signal", "certificate_expiry"]},
                             token_from="/account/notifications")
    assert response.status_code == 302
    assert db.exec(select(MailOptOut.kind).where(
        MailOptOut.user_id == world.exporter_a.id)).all() == ["batch_decision"]
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "user.notifications")).one()
    page = exporter.get("/account/notifications").get_data(as_text=True)
    assert boxes(page) == {"batch_decision": False, "fake_report": True, "copy_signal": True,
                           "certificate_expiry": True}

    world.submit(world.batch_a, world.exporter_a)
    decide(app, world, db, Action.REJECT, "Missing certificate")
    assert inbox.to(world.exporter_a.email) == []

    # A security kind cannot be switched off: not offered, refused when posted, and sent even
    # with a row that says otherwise.
    refused = exporter.post("/account/notifications", {"wanted": ["account_activated"]},
                            token_from="/account/notifications")
    assert refused.status_code == 200
    db.add(MailOptOut(user_id=world.exporter_b.id, kind=MailKind.ACCOUNT_ACTIVATED.value))
    world.exporter_b.status = UserStatus.PENDING
    db.add(world.exporter_b)
    db.commit()
    officer = signed_in(app, world.officer_ntt.email)
    assert officer.post(f"/accounts/users/{world.exporter_b.id}/activate").status_code == 302
    assert len(inbox.to(world.exporter_b.email)) == 1


def test_switching_everything_off_and_on_again(app: Flask, world: World, db: Session,
                                               inbox: Inbox) -> None:
    printer = signed_in(app, world.printer.email)
    assert printer.post("/account/notifications", {},
                        token_from="/account/notifications").status_code == 302
    _label_path(world, db, app)
    assert db.exec(select(MailOptOut.kind).where(MailOptOut.user_id == world.printer.id)
                   .order_by(MailOptOut.kind)).all() == ["label_file_ready", "print_job_assigned"]
    assert printer.post("/account/notifications",
                        {"wanted": ["label_file_ready", "print_job_assigned"]},
                        token_from="/account/notifications").status_code == 302
    assert db.exec(select(MailOptOut).where(MailOptOut.user_id == world.printer.id)).all() == []


def test_a_signed_in_users_language_choice_is_saved_for_their_mails(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    exporter = signed_in(app, world.exporter_a.email)
    assert exporter.get("/batches?lang=en").status_code == 200
    db.expire_all()
    assert db.get(User, world.exporter_a.id).locale == "en"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "user.locale")).one()
    assert event.actor_id == world.exporter_a.id
    # The page follows too, and asking again changes nothing.
    assert exporter.get("/batches?lang=en").status_code == 200
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "user.locale")).all()) == 1
    # A language the staff pages do not offer, or a visitor without an account: nothing saved.
    assert exporter.get("/batches?lang=ja").status_code == 200
    assert Client(app.test_client()).get("/about?lang=id").status_code == 200
    db.expire_all()
    assert db.get(User, world.exporter_a.id).locale == "en"

    world.submit(world.batch_a, world.exporter_a)
    decide(app, world, db, Action.REJECT, "Missing certificate")
    assert subject(only(inbox, world.exporter_a.email)) == "Batch A-LOT-1 was rejected"

    exporter.get("/batches?lang=id")
    inbox.clear()
    world.submit(world.batch_a, world.exporter_a)
    decide(app, world, db, Action.REJECT, "Still missing")
    assert subject(only(inbox, world.exporter_a.email)) == "Batch A-LOT-1 ditolak"
