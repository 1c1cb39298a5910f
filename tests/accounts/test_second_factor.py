"""The second factor (issue 16 §4, acceptance 3): enrolment with a QR code, a code accepted
once (also by two racing requests), single-use recovery codes, officers and admins without one
cannot decide or manage (web and API), re-authentication after 30 minutes, the CLI reset."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import zxingcpp
from flask import Flask
from sqlmodel import Session, select

from conftest import (
    Client,
    Inbox,
    World,
    fresh_code,
    mail_text,
    recovery_codes,
    totp_secret,
    world_kek,
)
from registry.accounts import second_factor
from registry.accounts.auth import AUTH_AT
from registry.accounts.models import RecoveryCode, SecondFactor, User
from registry.api import tokens
from registry.audit.models import AuditEvent
from registry.audit.tags import EventTag
from registry.catalog.models import Batch
from registry.clock import today, utcnow

SECRET_RE = re.compile(r'<code class="secret" id="totp-secret">([A-Z2-7]+)</code>')
QR_RE = re.compile(r'<img class="qr" src="data:image/svg\+xml;base64,([^"]+)"')


def _events(db: Session, tag: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == tag)
                        .order_by(AuditEvent.seq)).all())  # type: ignore[arg-type]


def _password_step(client: Client, email: str) -> Any:
    response = client.post("/login", {"email": email, "password": "correct-horse-battery-7"},
                           token_from="/login")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login/second-factor"
    return response


def _code_step(client: Client, code: str) -> Any:
    return client.post("/login/second-factor", {"code": code}, token_from="/login/second-factor")


def test_enrolment_shows_a_qr_code_and_needs_a_current_code(
        world: World, db: Session, client: Client) -> None:
    client.login("a@test.id")  # an exporter: may enrol, need not
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    secret = SECRET_RE.search(html).group(1)  # type: ignore[union-attr]
    # The QR code is the otpauth:// URI of that key, as an image the CSP allows (no script).
    svg = base64.b64decode(QR_RE.search(html).group(1)).decode()  # type: ignore[union-attr]
    uri = second_factor.provisioning_uri(secret, "a@test.id")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert svg == zxingcpp.create_barcode(uri, zxingcpp.BarcodeFormat.QRCode).to_svg(scale=6)
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]
    # A reload shows the same key; the key is stored sealed, never as typed.
    assert secret in client.get("/account/two-factor").get_data(as_text=True)
    row = db.get(SecondFactor, world.exporter_a.id)
    assert row is not None and row.enrolled_at is None
    assert secret.encode() not in row.secret and row.kek_id == world_kek().id
    # Not on until a current code confirms it.
    wrong = client.post("/account/two-factor", {"code": "000000"}, token_from="/account/two-factor")
    assert wrong.status_code == 422 and "wrong" in wrong.get_data(as_text=True)
    right = client.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()},
                        token_from="/account/two-factor")
    assert right.status_code == 200 and right.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", right.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    db.expire_all()
    assert db.get(SecondFactor, world.exporter_a.id).enrolled_at is not None  # type: ignore[union-attr]
    stored = {r.code_hash for r in db.exec(select(RecoveryCode).where(
        RecoveryCode.user_id == world.exporter_a.id))}
    assert len(stored) == 10 and not stored & set(codes)  # hashes only
    assert [e.object_id for e in _events(db, EventTag.Account.SECOND_FACTOR_ENROL)
            if e.object_id == str(world.exporter_a.id)]
    # From now on the password alone does not sign in.
    client.post("/logout", {})
    _password_step(client, "a@test.id")
    assert urlsplit(client.get("/products").headers["Location"]).path == "/login"
    later = _code_step(client, pyotp.TOTP(secret).at(utcnow() + dt.timedelta(seconds=30)))
    assert later.status_code == 302
    assert client.get("/products").status_code == 200


def test_a_code_is_accepted_once(world: World, db: Session, client: Client,
                                 make_client: Any) -> None:
    now = utcnow()
    code = pyotp.TOTP(totp_secret("officer.ntb@test.id")).at(now)
    _password_step(client, "officer.ntb@test.id")
    assert _code_step(client, code).status_code == 302
    assert client.get("/review/").status_code == 200
    # The same code again, from another browser (an eavesdropper): refused, and audited.
    thief = make_client()
    _password_step(thief, "officer.ntb@test.id")
    replay = _code_step(thief, code)
    assert replay.status_code == 200 and "already used" in replay.get_data(as_text=True)
    assert urlsplit(thief.get("/review/").headers["Location"]).path == "/login"
    failed = _events(db, EventTag.Account.SECOND_FACTOR_FAILED)
    assert [e.object_id for e in failed] == [str(world.officer_ntb.id)]
    # An older code still inside the ±1 window is refused too: steps only move forward.
    older = pyotp.TOTP(totp_secret("officer.ntb@test.id")).at(now - dt.timedelta(seconds=30))
    assert _code_step(thief, older).status_code == 200
    # The next step's code passes.
    newer = pyotp.TOTP(totp_secret("officer.ntb@test.id")).at(now + dt.timedelta(seconds=30))
    assert _code_step(thief, newer).status_code == 302


def test_two_racing_requests_with_one_code_one_passes(app: Flask, world: World) -> None:
    """Two servers receive the same code at once: the conditional UPDATE lets one through."""
    at = utcnow()
    code = pyotp.TOTP(totp_secret("officer.ntb@test.id")).at(at)
    barrier = threading.Barrier(2, timeout=20)
    results: list[Any] = []

    def attempt() -> None:
        with Session(app.extensions["engine"], expire_on_commit=False) as session:
            user = session.get_one(User, world.officer_ntb.id)
            second_factor.factor_of(session, user)  # both have read the row
            barrier.wait()
            results.append(second_factor.verify(session, user, world_kek(), code, at))
            session.commit()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(map(str, results)) == ["None", "totp"]


def test_recovery_code_signs_in_once(world: World, db: Session, client: Client,
                                     make_client: Any) -> None:
    code = recovery_codes("admin@test.id")[3]
    _password_step(client, "admin@test.id")
    signed = _code_step(client, code.upper().replace("-", " "))  # as typed from paper
    assert signed.status_code == 302
    assert "9 are left" in client.get("/").get_data(as_text=True) + \
        client.get("/admin/users").get_data(as_text=True)
    used = _events(db, EventTag.Account.RECOVERY_CODE_USED)
    assert [(e.object_id, json.loads(e.after or "")) for e in used] == [
        (str(world.admin.id), {"left": 9})]
    again = make_client()
    _password_step(again, "admin@test.id")
    assert _code_step(again, code).status_code == 200
    assert urlsplit(again.get("/admin/users").headers["Location"]).path == "/login"
    assert second_factor.recovery_codes_left(db, world.admin) == 9


def test_the_pending_sign_in_expires(world: World, client: Client) -> None:
    _password_step(client, "officer.ntb@test.id")
    with client.http.session_transaction() as session:
        session["second_factor_pending"] = {**session["second_factor_pending"],
                                            "until": int(utcnow().timestamp()) - 1}
    late = client.post("/login/second-factor", {"code": fresh_code(
        client.http.application.extensions["engine"], "officer.ntb@test.id")})
    assert late.status_code == 302 and urlsplit(late.headers["Location"]).path == "/login"
    assert urlsplit(client.get("/review/").headers["Location"]).path == "/login"


def _reset(db: Session, user: User) -> None:
    assert second_factor.reset(db, None, user)
    db.commit()


def test_officer_without_second_factor_cannot_decide_on_the_web(
        world: World, db: Session, client: Client) -> None:
    world.submit(world.batch_a, world.exporter_a)
    _reset(db, world.officer_ntb)
    client.login("officer.ntb@test.id")  # the password alone, as nothing else is enrolled
    version = db.get(Batch, world.batch_a.id).version  # type: ignore[union-attr]
    response = client.post(f"/review/batches/{world.batch_a.id}/decide", {
        "action": "approve", "version": str(version),
        "valid_until": (today() + dt.timedelta(days=90)).isoformat()},
        headers={"Referer": f"http://localhost/review/batches/{world.batch_a.id}"})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/account/two-factor"
    assert parse_qs(target.query)["next"] == [f"/review/batches/{world.batch_a.id}"]
    db.expire_all()
    assert db.get(Batch, world.batch_a.id).status == "submitted"  # type: ignore[union-attr]
    # Reading the queue is allowed; managing accounts is not.
    assert client.get("/review/").status_code == 200
    assert urlsplit(client.get("/accounts/pending").headers["Location"]).path == \
        "/account/two-factor"
    # Enrolling on that page, the officer continues where they were going.
    html = client.get(target.path + "?" + target.query).get_data(as_text=True)
    secret = SECRET_RE.search(html).group(1)  # type: ignore[union-attr]
    done = client.post(target.path + "?" + target.query, {"code": pyotp.TOTP(secret).now()},
                       token_from=target.path)
    assert f'href="/review/batches/{world.batch_a.id}"' in done.get_data(as_text=True)
    ok = client.post(f"/review/batches/{world.batch_a.id}/decide", {
        "action": "approve", "version": str(version),
        "valid_until": (today() + dt.timedelta(days=90)).isoformat()})
    assert urlsplit(ok.headers["Location"]).path == f"/review/batches/{world.batch_a.id}"
    db.expire_all()
    assert db.get(Batch, world.batch_a.id).status == "approved"  # type: ignore[union-attr]


def test_admin_without_second_factor_cannot_manage_users(world: World, db: Session,
                                                          client: Client) -> None:
    _reset(db, world.admin)
    client.login("admin@test.id")
    for path in ("/admin/users", "/admin/organisations", "/accounts/pending"):
        response = client.get(path)
        assert urlsplit(response.headers["Location"]).path == "/account/two-factor", path


def test_officer_without_second_factor_cannot_decide_through_the_api(
        app: Flask, world: World, db: Session) -> None:
    world.submit(world.batch_a, world.exporter_a)
    secret = tokens.create_token(db, world.officer_ntb, name="ERP", access="write").secret
    db.commit()
    _reset(db, world.officer_ntb)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"action": "approve", "expected_version": 2,
            "valid_until": (today() + dt.timedelta(days=90)).isoformat()}
    refused = api.post(f"/api/v1/batches/{world.batch_a.id}/decisions", json=body,
                       headers=headers)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert "second factor" in refused.get_json(force=True)["detail"]
    db.expire_all()
    assert db.get(Batch, world.batch_a.id).status == "submitted"  # type: ignore[union-attr]
    # Reading still works; with an authenticator again, deciding does.
    assert api.get("/api/v1/review/queue", headers=headers).status_code == 200
    second_factor.enrol_with_secret(db, None, db.get_one(User, world.officer_ntb.id),
                                    world_kek(), pyotp.random_base32(), utcnow())
    db.commit()
    assert api.post(f"/api/v1/batches/{world.batch_a.id}/decisions", json=body,
                    headers=headers).status_code == 201


def _age_sign_in(client: Client, minutes: int) -> None:
    with client.http.session_transaction() as session:
        session[AUTH_AT] = int(utcnow().timestamp()) - minutes * 60


@pytest.mark.parametrize("how", ["password", "code"])
def test_user_management_asks_again_after_30_minutes(world: World, db: Session, client: Client,
                                                     how: str) -> None:
    client.login("admin@test.id")
    _age_sign_in(client, 29)
    assert client.get("/admin/users").status_code == 200
    _age_sign_in(client, 31)
    asked = client.get("/admin/users")
    target = urlsplit(asked.headers["Location"])
    assert target.path == "/account/confirm" and parse_qs(target.query)["next"] == ["/admin/users"]
    # A form post that finds the sign-in too old is not carried out.
    before = len(db.exec(select(User)).all())
    post = client.post("/admin/users", {"name": "X", "email": "x@test.id", "role": "printer",
                                        "organisation_id": str(world.print_org.id),
                                        "password": "a-long-printer-passphrase-5"},
                       headers={"Referer": "http://localhost/admin/users"})
    assert urlsplit(post.headers["Location"]).path == "/account/confirm"
    assert len(db.exec(select(User)).all()) == before
    page = f"{target.path}?{target.query}"
    wrong = client.post(page, {"password": "not-the-password-1"}, token_from=page)
    assert wrong.status_code == 200
    proof = {"password": "correct-horse-battery-7"} if how == "password" else {
        "code": fresh_code(client.http.application.extensions["engine"], "admin@test.id")}
    confirmed = client.post(page, proof, token_from=page)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/admin/users"
    assert client.get("/admin/users").status_code == 200
    assert [e.object_id for e in _events(db, EventTag.Account.REAUTHENTICATE)] == \
        [str(world.admin.id)]
    assert len(_events(db, EventTag.Account.REAUTHENTICATE_FAILED)) == 1


def test_api_token_creation_asks_again_after_30_minutes(world: World, client: Client) -> None:
    client.login("a@test.id")
    assert client.get("/account/tokens").status_code == 200
    _age_sign_in(client, 31)
    assert urlsplit(client.get("/account/tokens").headers["Location"]).path == "/account/confirm"


def test_cli_reset_is_audited_and_told_by_mail(app: Flask, world: World, db: Session,
                                               inbox: Inbox, client: Client) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-2fa", "Officer.NTB@test.id"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert db.get(SecondFactor, world.officer_ntb.id) is None
    assert not db.exec(select(RecoveryCode).where(
        RecoveryCode.user_id == world.officer_ntb.id)).all()
    [event] = _events(db, EventTag.Account.SECOND_FACTOR_RESET)
    assert event.object_id == str(world.officer_ntb.id) and event.actor_id is None
    [mail] = inbox.to("officer.ntb@test.id")
    assert "second factor" in str(mail["Subject"]).lower() or "faktor" in \
        str(mail["Subject"]).lower()
    assert "/account/two-factor" in mail_text(mail)
    # Nothing left to reset; an unknown address is an error.
    assert "nothing to reset" in runner.invoke(
        args=["users", "reset-2fa", "officer.ntb@test.id"]).output
    assert runner.invoke(args=["users", "reset-2fa", "nobody@test.id"]).exit_code != 0
    # The officer signs in with the password alone, and must enrol again to decide.
    client.login("officer.ntb@test.id")
    assert client.get("/review/").status_code == 200


def test_second_factor_forms_need_their_csrf_token(world: World, db: Session,
                                                   client: Client, make_client: Any) -> None:
    _password_step(client, "officer.ntb@test.id")
    code = fresh_code(client.http.application.extensions["engine"], "officer.ntb@test.id")
    refused = client.http.post("/login/second-factor", data={"code": code})
    assert refused.status_code == 400
    assert _code_step(client, code).status_code == 302  # the code was not spent
    exporter = make_client()
    exporter.login("a@test.id")
    html = exporter.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_RE.search(html).group(1)  # type: ignore[union-attr]
    assert exporter.http.post("/account/two-factor", data={
        "code": pyotp.TOTP(secret).now()}).status_code == 400
    assert not second_factor.is_enrolled(db, world.exporter_a)
    assert exporter.http.post("/account/confirm",
                              data={"password": "correct-horse-battery-7"}).status_code == 400


def test_guessing_codes_is_throttled_per_account(world: World, db: Session,
                                                 make_client: Any) -> None:
    """Six digits are few: wrong codes count per account (whatever the address), like the
    login's wrong passwords (LOGIN_ACCOUNT_LIMIT, 10 per 5 minutes)."""
    statuses = []
    for i in range(11):
        guesser = make_client()  # a new session each time: the budget follows the account
        _password_step(guesser, "officer.ntb@test.id")
        statuses.append(guesser.post("/login/second-factor", {"code": f"{i:06d}"},
                                     token_from="/login/second-factor",
                                     environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"}).status_code)
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


def test_the_sign_in_is_recorded_after_the_second_step_not_at_the_password(
        world: World, db: Session, client: Client) -> None:
    """Today the "login" event was written when the password passed, before the code: the log
    said "signed in" for someone who never got past the second step."""
    officer = str(world.officer_ntb.id)
    _password_step(client, "officer.ntb@test.id")
    assert [e.object_id for e in _events(db, EventTag.Account.LOGIN)] == []
    assert [e.object_id for e in _events(db, EventTag.Account.LOGIN_PASSWORD)] == [officer]
    db.expire_all()
    assert db.get(User, world.officer_ntb.id).last_login_at is None  # type: ignore[union-attr]

    code = pyotp.TOTP(totp_secret("officer.ntb@test.id")).now()
    assert _code_step(client, code).status_code == 302
    [login] = _events(db, EventTag.Account.LOGIN)
    assert login.object_id == officer and json.loads(login.after or "{}") == {
        "second_factor": "totp"}
    assert db.get(User, world.officer_ntb.id).last_login_at is not None  # type: ignore[union-attr]
