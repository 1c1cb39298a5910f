"""A trade office declines a sign-up with a reason (issue 16 §6): the applicant is told by
mail, the account can never sign in, the decline is audited with the reason, and the company
may sign up again with the same e-mail address and NIB."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

from flask import Flask
from sqlmodel import Session, col, select

from conftest import Client, Inbox, World, mail_html, mail_text
from registry.accounts import services as accounts
from registry.accounts.models import Organisation, User, UserStatus
from registry.accounts.rules import MAX_DECLINE_REASON
from registry.audit.models import AuditEvent
from registry.exceptions import Conflict

SIGNUP = {"company_name": "CV Kelor Kupang", "nib": "9120300000001", "province_code": "53",
          "address": "Jl. Timor Raya 1, Kupang", "name": "Yuliana", "email": "yuli@kelor.id",
          "password": "kelor-kupang-ekspor-26", "confirm": "kelor-kupang-ekspor-26"}
REASON = "The NIB belongs to another company in OSS.\nPlease check it and apply again."


def signed_up(client: Client, db: Session) -> User:
    assert client.post("/signup", SIGNUP).status_code == 302
    return db.exec(select(User).where(User.email == SIGNUP["email"],
                                      User.status == UserStatus.PENDING)).one()


def officer(make_client: object, email: str) -> Client:
    client: Client = make_client()  # type: ignore[operator]
    client.login(email)
    return client


def test_an_officer_declines_with_a_reason_the_applicant_reads_and_may_apply_again(
        app: Flask, client: Client, make_client: object, world: World, db: Session,
        inbox: Inbox) -> None:
    user = signed_up(client, db)
    ntt = officer(make_client, "officer.ntt@test.id")
    page = ntt.get("/accounts/pending").get_data(as_text=True)
    assert f'action="/accounts/users/{user.id}/decline"' in page

    response = ntt.post(f"/accounts/users/{user.id}/decline", {"reason": REASON},
                        token_from="/accounts/pending")
    assert response.status_code == 302 and response.location.endswith("/accounts/pending")
    db.expire_all()
    declined = db.get(User, user.id)
    assert declined is not None and declined.status == UserStatus.DECLINED
    org = db.get(Organisation, declined.organisation_id)
    assert org is not None and org.nib is None  # free for the next sign-up
    assert "CV Kelor Kupang" not in ntt.get("/accounts/pending").get_data(as_text=True)

    # Told in Indonesian (never chose a language), with the reason and the way back.
    [message] = inbox.to(SIGNUP["email"])
    assert message["Subject"].strip() == (
        "Pendaftaran CV Kelor Kupang di registri Made in Bali–NTB–NTT ditolak")
    text, html = mail_text(message), mail_html(message)
    assert "The NIB belongs to another company in OSS." in text and "Nusa Tenggara Timur" in text
    # The office that declined, by its name (not the administrators).
    assert "Office 53 telah menolak pendaftaran CV Kelor Kupang" in text
    assert "Office 53 telah menolak" in html and "administrator" not in text
    assert "/signup" in text and "/signup" in html and "apply again." in html

    # Audited with the reason, on the account and on the organisation (which keeps the NIB).
    events = {e.action: e for e in db.exec(select(AuditEvent).where(
        col(AuditEvent.action).in_(["user.declined", "organisation.signup_declined"]))).all()}
    account = events["user.declined"]
    assert account.actor_label == "officer.ntt@test.id" and account.object_id == str(user.id)
    assert json.loads(account.after or "{}")["reason"] == REASON.strip()
    assert json.loads(account.before or "{}")["status"] == "pending"
    company = events["organisation.signup_declined"]
    assert json.loads(company.before or "{}") == {"nib": SIGNUP["nib"]}

    # The declined account never signs in.
    refused = client.post("/login", {"email": SIGNUP["email"], "password": SIGNUP["password"]})
    assert refused.status_code == 200 and "/logout" not in refused.get_data(as_text=True)

    # The same address and NIB sign up again: a new account waits for the office.
    again = signed_up(make_client(), db)  # type: ignore[operator]
    assert again.id != user.id
    assert ntt.get("/accounts/pending").get_data(as_text=True).count("CV Kelor Kupang") == 1
    assert ntt.post(f"/accounts/users/{again.id}/activate",
                    token_from="/accounts/pending").status_code == 302
    fresh = Client(app.test_client())
    fresh.login(SIGNUP["email"], SIGNUP["password"])


def test_the_reason_is_required_and_bounded(client: Client, make_client: object, world: World,
                                            db: Session, inbox: Inbox) -> None:
    user = signed_up(client, db)
    ntt = officer(make_client, "officer.ntt@test.id")
    for reason, words in (("   ", "This field is required."),
                          ("x" * (MAX_DECLINE_REASON + 1), "longer than 1000 characters")):
        response = ntt.post(f"/accounts/users/{user.id}/decline", {"reason": reason},
                            token_from="/accounts/pending")
        assert response.status_code == 400
        body = response.get_data(as_text=True)
        assert words in body and f'id="reason-{user.id}"' in body
    db.expire_all()
    assert db.get(User, user.id).status == UserStatus.PENDING  # type: ignore[union-attr]
    assert inbox.to(SIGNUP["email"]) == []


def test_only_the_applicants_office_or_an_admin_declines_and_only_a_waiting_signup(
        client: Client, make_client: object, world: World, db: Session) -> None:
    user = signed_up(client, db)
    ntb = officer(make_client, "officer.ntb@test.id")
    assert ntb.post(f"/accounts/users/{user.id}/decline", {"reason": "no"},
                    token_from="/accounts/pending").status_code == 404
    # An active exporter is no sign-up to decline.
    assert ntb.post(f"/accounts/users/{world.exporter_a.id}/decline", {"reason": "no"},
                    token_from="/accounts/pending").status_code == 409
    admin = officer(make_client, "admin@test.id")
    assert admin.post(f"/accounts/users/{user.id}/decline", {"reason": "Duplicate company"},
                      token_from="/accounts/pending").status_code == 302
    # Declined stays declined: neither the office nor the administrators turn it back.
    ntt = officer(make_client, "officer.ntt@test.id")
    assert ntt.post(f"/accounts/users/{user.id}/activate",
                    token_from="/accounts/pending").status_code == 409
    assert admin.post(f"/accounts/users/{user.id}/disable",
                      token_from="/accounts/pending").status_code == 409
    db.expire_all()
    assert db.get(User, user.id).status == UserStatus.DECLINED  # type: ignore[union-attr]
    users = admin.get("/admin/users").get_data(as_text=True)
    row = users.split(SIGNUP["email"])[1].split("</tr>")[0]
    assert "Sign-up declined" in row and "<form" not in row  # nothing to press


def _race(app: Flask, user_id: int, *moves: Callable[[Session], object]) -> list[str]:
    """Each move in its own thread and session, both having read the account before either
    writes (as two offices' clicks at once): what each ended in."""
    barrier = threading.Barrier(len(moves), timeout=20)
    results: dict[int, str] = {}

    def run(n: int, move: Callable[[Session], object]) -> None:
        with Session(app.extensions["engine"], expire_on_commit=False) as session:
            # Read, and kept: the session's identity map holds objects weakly, so an account
            # nobody refers to may be collected and read again, fresh, by the service (then
            # the race is not the one meant: a CI run got NotPending instead of
            # StatusChanged).
            read = session.get_one(User, user_id)
            barrier.wait()
            try:
                move(session)
                session.commit()
                results[n] = "done"
            except Conflict as exc:
                session.rollback()
                results[n] = type(exc).__name__
            del read

    threads = [threading.Thread(target=run, args=(n, move)) for n, move in enumerate(moves)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return [results.get(n, "hung") for n in range(len(moves))]


def test_an_activation_racing_a_decline_is_told_not_overwriting_it(
        app: Flask, client: Client, world: World, db: Session, inbox: Inbox) -> None:
    """Today the activation was an unconditional write: a decline that committed between its
    read and its write was overwritten, and the declined applicant was active."""
    user = signed_up(client, db)
    officer, admin = world.officer_ntt, world.admin

    def activate(session: Session) -> object:
        return accounts.set_user_status(session, session.get_one(User, officer.id),
                                        user_id=user.id, status=UserStatus.ACTIVE)

    def decline(session: Session) -> object:
        return accounts.decline_signup(session, session.get_one(User, admin.id),
                                       user_id=user.id, reason="Duplicate company")

    outcomes = _race(app, user.id, activate, decline)
    assert sorted(outcomes) in (["Declined", "done"], ["NotPending", "done"]), outcomes
    db.expire_all()
    final = db.get_one(User, user.id).status
    assert final == (UserStatus.ACTIVE if outcomes[0] == "done" else UserStatus.DECLINED)
    decided = db.exec(select(AuditEvent.action).where(
        AuditEvent.object_type == "user", AuditEvent.object_id == str(user.id),
        col(AuditEvent.action).in_(["user.active", "user.declined"]))).all()
    assert decided == ["user.active" if final == UserStatus.ACTIVE else "user.declined"]


def test_two_activations_at_once_write_one(app: Flask, client: Client, world: World,
                                           db: Session) -> None:
    user = signed_up(client, db)

    def activate_as(actor_id: int) -> Callable[[Session], object]:
        return lambda session: accounts.set_user_status(
            session, session.get_one(User, actor_id), user_id=user.id,
            status=UserStatus.ACTIVE)

    outcomes = _race(app, user.id, activate_as(world.officer_ntt.id),
                     activate_as(world.admin.id))
    assert sorted(outcomes) == ["StatusChanged", "done"], outcomes
    activations = db.exec(select(AuditEvent.action).where(
        AuditEvent.object_id == str(user.id), AuditEvent.action == "user.active")).all()
    assert len(activations) == 1


def test_an_admins_decline_is_signed_by_the_administrators_not_the_trade_office(
        client: Client, make_client: object, world: World, db: Session, inbox: Inbox) -> None:
    """Today an admin's decline told the applicant "the trade office has declined"."""
    user = signed_up(client, db)
    user.locale = "en"
    db.add(user)
    db.commit()
    admin = officer(make_client, "admin@test.id")
    assert admin.post(f"/accounts/users/{user.id}/decline", {"reason": "Duplicate company"},
                      token_from="/accounts/pending").status_code == 302
    [message] = inbox.to(SIGNUP["email"])
    text, html = mail_text(message), mail_html(message)
    assert ("The registry's administrators have declined the sign-up of CV Kelor Kupang "
            "(Nusa Tenggara Timur)") in text
    assert "administrators have declined" in html
    assert "trade office" not in text.lower() and "trade office" not in html.lower()
