"""Password change and recovery; sessions that end (issue 16 §2), over real HTTP and a real
SMTP server: a copied session cookie stops working once the password changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlmodel import Session, select

from conftest import PASSWORD, Browser, Client, Inbox, World, mail_text
from registry import create_app
from registry.accounts import reset, tasks
from registry.accounts import services as accounts
from registry.accounts.models import PasswordResetRequest, User, UserStatus
from registry.accounts.tasks import reset_request_sweep
from registry.audit.models import AuditEvent
from registry.mail.delivery import sweep as mail_sweep
from tests.accounts.live import reset_path, served

NEW = "sumbawa-madu-hutan-2026"


@pytest.fixture
def live(app: Flask, world: World) -> Iterator[str]:
    with served(app) as base:
        yield base


def _actions(db: Session, user_id: int) -> list[str]:
    db.expire_all()
    return list(db.exec(select(AuditEvent.action).where(AuditEvent.object_type == "user",
                                                        AuditEvent.object_id == user_id)))


def test_change_password_ends_every_other_session(live: str, world: World, db: Session,
                                                  inbox: Inbox) -> None:
    """Today: no page to change a password, and a copied session cookie stayed valid until
    logout."""
    elsewhere, here = Browser(live), Browser(live)
    assert elsewhere.login("a@test.id", PASSWORD).status_code == 302
    assert here.login("a@test.id", PASSWORD).status_code == 302
    copied = dict(elsewhere.http.cookies)

    wrong = here.post("/account/password", {"current_password": "not-my-password",
                                            "password": NEW, "confirm": NEW})
    assert wrong.status_code == 200 and "not your current password" in wrong.text
    weak = here.post("/account/password", {"current_password": PASSWORD,
                                           "password": "password1", "confirm": "password1"})
    assert weak.status_code == 200 and "too common" in weak.text
    assert inbox.to("a@test.id") == []

    done = here.post("/account/password", {"current_password": PASSWORD, "password": NEW,
                                           "confirm": NEW})
    assert done.status_code == 302
    assert here.signed_in()
    assert not elsewhere.signed_in()
    thief = Browser(live)
    thief.http.cookies.update(copied)
    assert not thief.signed_in()

    assert Browser(live).login("a@test.id", PASSWORD).status_code == 200
    assert Browser(live).login("a@test.id", NEW).status_code == 302
    [changed] = inbox.to("a@test.id")
    text = mail_text(changed)
    assert "API tokens keep working" in text and "/account/tokens" in text
    assert "user.password_change" in _actions(db, world.exporter_a.id)


def test_change_password_needs_sign_in(live: str) -> None:
    response = Browser(live).get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_forgot_link_reset_ends_old_sessions_and_works_once(live: str, world: World,
                                                            db: Session, inbox: Inbox) -> None:
    old = Browser(live)
    assert old.login("officer.ntb@test.id", PASSWORD).status_code == 302

    visitor = Browser(live)
    sent = visitor.post("/password/forgot", {"email": "Officer.NTB@test.id"})
    assert sent.status_code == 200 and "Check your mail" in sent.text
    [mail] = inbox.to("officer.ntb@test.id")
    link = reset_path(mail_text(mail))
    assert reset_path(mail_text(mail)) in mail.get_body(("html",)).get_content()  # type: ignore[union-attr]

    page = visitor.get(link)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    weak = visitor.post(link, {"password": "short", "confirm": "short"})
    assert weak.status_code == 200 and "at least 8 characters" in weak.text
    done = visitor.post(link, {"password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")

    assert not old.signed_in()
    assert Browser(live).login("officer.ntb@test.id", PASSWORD).status_code == 200
    assert Browser(live).login("officer.ntb@test.id", NEW).status_code == 302
    changed = inbox.to("officer.ntb@test.id")[1]
    assert "set anew through a link" in mail_text(changed)

    again = visitor.get(link)
    assert again.status_code == 410 and "used already" in again.text
    replay = visitor.post(link, {"password": "another-new-pass-77", "confirm":
                                 "another-new-pass-77"}, token_from="/password/forgot")
    assert replay.status_code == 410
    assert Browser(live).login("officer.ntb@test.id", NEW).status_code == 302
    actions = _actions(db, world.officer_ntb.id)
    assert "user.password_reset_request" in actions and "user.password_reset" in actions


def test_an_expired_link_is_refused(live: str, world: World, inbox: Inbox,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    visitor = Browser(live)
    visitor.post("/password/forgot", {"email": "b@test.id"})
    link = reset_path(mail_text(inbox.to("b@test.id")[0]))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    monkeypatch.setattr(reset, "utcnow", lambda: later)
    refused = visitor.get(link)
    assert refused.status_code == 410 and "expired" in refused.text
    assert visitor.get(link.replace("/reset/", "/reset/x")).status_code == 410


def test_forgot_answers_the_same_for_unknown_and_disabled_addresses(
        live: str, world: World, db: Session, inbox: Inbox) -> None:
    user = db.get(User, world.exporter_b.id)
    user.status = UserStatus.DISABLED
    db.add(user)
    db.commit()
    answers = {email: Browser(live).post("/password/forgot", {"email": email}).text
               for email in ("a@test.id", "nobody@test.id", "b@test.id")}
    assert len(set(answers.values())) == 1
    assert len(inbox.to("a@test.id")) == 1
    assert inbox.to("nobody@test.id") == [] and inbox.to("b@test.id") == []


def test_the_locked_mail_link_sets_a_new_password_and_unlocks(live: str, world: World,
                                                             inbox: Inbox) -> None:
    guesser = Browser(live)
    for i in range(10):
        guesser.login("a@test.id", f"wrong-guess-{i}")
    assert Browser(live).login("a@test.id", PASSWORD).status_code == 429
    [locked] = inbox.to("a@test.id")
    # In the owner's language (never chosen: Indonesian), not that of the guesser's page.
    assert "dijeda" in mail_text(locked)
    owner = Browser(live)
    assert owner.post(reset_path(mail_text(locked)),
                      {"password": NEW, "confirm": NEW}).status_code == 302
    assert owner.login("a@test.id", NEW).status_code == 302


def test_the_link_comes_in_the_language_of_the_page(live: str, world: World,
                                                    inbox: Inbox) -> None:
    visitor = Browser(live)
    visitor.get("/login?lang=id")
    visitor.post("/password/forgot", {"email": "a@test.id"})
    [mail] = inbox.to("a@test.id")
    assert "Buat kata sandi baru untuk registri" in str(mail["Subject"])
    assert "berlaku sekali, selama satu jam" in mail_text(mail)


def test_reset_links_are_throttled_per_address_typed(app: Flask, world: World,
                                                     inbox: Inbox) -> None:
    """From many client addresses, one mailbox still gets at most the limit's links."""
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "3 per hour"

    def ask(i: int, email: str) -> int:
        client = Client(app.test_client())
        client.http.environ_base["REMOTE_ADDR"] = f"198.51.100.{i}"
        return int(client.post("/password/forgot", {"email": email}).status_code)

    answers = [ask(i, email) for i, email in enumerate(["a@test.id"] * 4 + ["nobody@test.id"] * 4)]
    assert answers == [200, 200, 200, 429] * 2
    assert len(inbox.to("a@test.id")) == 3


@pytest.fixture
def queue_down(app: Flask) -> Iterator[Flask]:
    """The test's app with its task queue in a Redis that does not answer (nothing listens
    on the port): every send to the queue fails, as in an outage."""
    made = create_app({**app.config, "QUEUE_URL": "redis://127.0.0.1:1/0",
                       "INSTANCE_PATH": app.instance_path})
    yield made
    made.extensions["engine"].dispose()


def _worker_sweeps(app: Flask) -> None:
    """What the worker's minute sweep does once the queue (or the worker) is back."""
    with app.app_context():
        reset_request_sweep()
        mail_sweep()


def test_a_reset_asked_for_while_the_queue_is_down_is_mailed_by_the_sweep(
        queue_down: Flask, world: World, db: Session, inbox: Inbox,
        caplog: pytest.LogCaptureFixture) -> None:
    """Today the mail was written by a queue task sent after the answer: with the queue down
    at that moment the request was lost (logged; the user had to ask again)."""
    queue_down.config["PASSWORD_RESET_RATE_LIMIT"] = "3 per hour"

    def ask(i: int, email: str) -> int:
        visitor = Client(queue_down.test_client())
        visitor.http.environ_base["REMOTE_ADDR"] = f"198.51.100.{i}"
        return int(visitor.post("/password/forgot", {"email": email}).status_code)

    emails = ["A@test.id", "nobody@test.id"] + ["b@test.id"] * 4
    assert [ask(i, email) for i, email in enumerate(emails)] == [200] * 5 + [429]
    assert "could not send" in caplog.text  # the queue did not answer
    assert inbox.messages == []
    # Written in the requests' transactions, the addresses normalised; the fourth request
    # for b@test.id was refused by the per-address limit before anything was written.
    assert sorted(r.email for r in db.exec(select(PasswordResetRequest))) == [
        "a@test.id", "b@test.id", "b@test.id", "b@test.id", "nobody@test.id"]

    _worker_sweeps(queue_down)
    [mail] = inbox.to("a@test.id")
    link = reset_path(mail_text(mail))
    assert len(inbox.to("b@test.id")) == 3
    assert inbox.to("nobody@test.id") == []
    db.expire_all()
    assert db.exec(select(PasswordResetRequest)).all() == []  # nothing typed is kept
    # The link works as any other.
    done = Client(queue_down.test_client()).post(link, {"password": NEW, "confirm": NEW},
                                                  token_from=link)
    assert done.status_code == 302
    # A second sweep mails nothing again.
    _worker_sweeps(queue_down)
    assert len(inbox.messages) == 1 + 3 + 1  # and the "password changed" mail


def test_the_task_and_the_sweep_never_both_mail_one_request(
        app: Flask, world: World, db: Session, inbox: Inbox) -> None:
    request_id = accounts.request_password_reset(db, email="a@test.id")
    db.commit()
    with app.app_context():
        assert tasks.send_reset_link(request_id) is True
        assert tasks.send_reset_link(request_id) is False  # a second delivery of the task
        reset_request_sweep()
        mail_sweep()
    assert len(inbox.to("a@test.id")) == 1
