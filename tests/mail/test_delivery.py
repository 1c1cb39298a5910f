"""Outgoing mail (issue 16 §1): written in the transaction of what it reports, sent after the
commit through a real SMTP server on loopback, in the recipient's language, with links on the
public host; a mail server that does not answer never fails the request, and the mail is sent
once it answers again."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session, select

from conftest import Client, Inbox, SmtpServer, World, mail_html, mail_text
from registry import create_app
from registry.accounts.models import User, UserStatus
from registry.mail import services as mail
from registry.mail.delivery import sweep
from registry.mail.kinds import MAX_ATTEMPTS, MailKind, MailState
from registry.mail.models import Mail


def pending_exporter(db: Session, world: World, locale: str | None = None) -> User:
    user = world.exporter_b
    user.status, user.locale = UserStatus.PENDING, locale
    db.add(user)
    db.commit()
    return user


def activate(app: Flask, world: World, user: User) -> int:
    officer = Client(app.test_client())
    officer.login(world.officer_ntt.email)
    return int(officer.post(f"/accounts/users/{user.id}/activate").status_code)


def test_an_activated_exporter_is_told_in_indonesian_with_a_link_on_the_public_host(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    app.config["PUBLIC_HOST"] = "cek.example.id"
    user = pending_exporter(db, world)
    assert activate(app, world, user) == 302
    [message] = inbox.to(user.email)
    assert message["Subject"].strip() == "Akun Anda di registri Made in Bali–NTB–NTT sudah aktif"
    assert message["From"] == "Registry <registry@example.id>"
    text, html = mail_text(message), mail_html(message)
    assert "Company B" in text and "mengaktifkan akun Anda" in text
    assert "http://cek.example.id/login" in text
    assert 'href="http://cek.example.id/login"' in html
    row = db.exec(select(Mail).where(Mail.to_address == user.email)).one()
    assert (row.state, row.attempts, row.params) == (MailState.SENT, 1, {})


def test_the_language_the_recipient_chose(app: Flask, world: World, db: Session,
                                          inbox: Inbox) -> None:
    user = pending_exporter(db, world, locale="en")
    assert activate(app, world, user) == 302
    [message] = inbox.to(user.email)
    assert message["Subject"].strip() == (
        "Your account on the Made in Bali–NTB–NTT registry is active")
    assert "activated your account for Company B" in mail_text(message)


def test_markup_in_names_is_text_in_the_html_part(app: Flask, world: World, db: Session,
                                                   inbox: Inbox) -> None:
    user = pending_exporter(db, world)
    user.name = '<img src=x onerror="alert(1)">'
    db.add(user)
    db.commit()
    assert activate(app, world, user) == 302
    [message] = inbox.to(user.email)
    assert "<img" not in mail_html(message)
    assert "&lt;img src=x" in mail_html(message)


def test_a_change_that_does_not_commit_sends_nothing(app: Flask, world: World, db: Session,
                                                     inbox: Inbox) -> None:
    from registry.web.database import open_session

    with app.app_context():
        session = open_session(app)
        mail.queue_mail(session, MailKind.ACCOUNT_ACTIVATED, to=world.exporter_a,
                        params={"name": "A", "company": "Company A"})
        session.rollback()
        session.close()
    assert inbox.to(world.exporter_a.email) == []
    assert db.exec(select(Mail)).all() == []


def test_a_mail_server_that_does_not_answer_fails_nothing_and_the_mail_follows(
        app: Flask, world: World, db: Session, inbox: Inbox, smtp_server: SmtpServer) -> None:
    user = pending_exporter(db, world)
    with smtp_server.down():
        assert activate(app, world, user) == 302  # the officer's action stands
    db.expire_all()
    assert db.get(User, user.id).status == UserStatus.ACTIVE
    row = db.exec(select(Mail).where(Mail.to_address == user.email)).one()
    assert (row.state, row.attempts) == (MailState.QUEUED, 1)
    assert "ConnectionRefusedError" in (row.error or "")
    assert row.next_attempt_at > row.created_at + dt.timedelta(seconds=50)
    assert inbox.to(user.email) == []

    with app.app_context():
        sweep()  # not yet due: the back-off holds
    assert inbox.to(user.email) == []
    row.next_attempt_at = row.created_at
    db.add(row)
    db.commit()
    with app.app_context():
        sweep()
    assert len(inbox.to(user.email)) == 1
    db.expire_all()
    assert db.get(Mail, row.id).state == MailState.SENT


def test_a_mail_is_given_up_after_its_attempts(app: Flask, world: World, db: Session,
                                               smtp_server: SmtpServer) -> None:
    user = pending_exporter(db, world)
    with smtp_server.down():
        activate(app, world, user)
        row = db.exec(select(Mail).where(Mail.to_address == user.email)).one()
        for _attempt in range(MAX_ATTEMPTS):
            row.next_attempt_at = row.created_at
            db.add(row)
            db.commit()
            with app.app_context():
                sweep()
            db.refresh(row)
    assert (row.state, row.attempts) == (MailState.FAILED, MAX_ATTEMPTS)
    with app.app_context():
        assert mail.due(db) == []


def test_two_senders_never_both_send_a_mail(app: Flask, world: World, db: Session) -> None:
    ids = []
    for n in range(20):
        row = mail.queue_mail(db, MailKind.ACCOUNT_ACTIVATED, to=f"x{n}@example.id")
        assert row is not None
        ids.append(row.id)
    db.commit()
    engine = app.extensions["engine"]
    claimed: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def sender(n: int) -> None:
        start.wait()
        for mail_id in ids:
            with Session(engine) as session:
                if mail.claim(session, mail_id, lease_seconds=60) is not None:
                    claimed[n].append(mail_id)
                session.commit()

    threads = [threading.Thread(target=sender, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed[0] + claimed[1]) == ids


def test_the_outbox_keeps_each_mail_as_a_file(tmp_path: Path, database_url: str,
                                              world: World, db: Session) -> None:
    from conftest import CHEAP_PASSWORD_HASHING, TEST_KEK

    outbox = tmp_path / "outbox"
    app = create_app({"DATABASE_URL": database_url, "TESTING": True,
                      "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
                      "INSTANCE_PATH": str(tmp_path / "instance"),
                      "UPLOAD_DIR": str(tmp_path / "uploads"), "KEY_ENCRYPTION_KEY": TEST_KEK,
                      "RATELIMIT_STORAGE_URI": "memory://", "MAIL_OUTBOX_DIR": str(outbox),
                      **CHEAP_PASSWORD_HASHING})
    try:
        user = pending_exporter(db, world)
        assert activate(app, world, user) == 302
        [eml] = sorted(outbox.glob("*.eml"))
        content = eml.read_bytes()
        assert b"To: b@test.id" in content and b"Company B" in content
        assert list(outbox.glob(".*")) == []
    finally:
        app.extensions["engine"].dispose()


@pytest.mark.parametrize("setting", [{"MAIL_BACKEND": "carrier-pigeon"},
                                     {"MAIL_USE_TLS": True, "MAIL_USE_SSL": True}])
def test_a_wrong_mail_setting_refuses_to_start_naming_it(tmp_path: Path,
                                                         setting: dict[str, object]) -> None:
    from registry.config import ConfigError

    with pytest.raises(ConfigError, match="MAIL_"):
        create_app({"INSTANCE_PATH": str(tmp_path), **setting})

