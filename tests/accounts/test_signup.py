"""Exporters sign up with their company and are activated by an officer of their province."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlmodel import Session, select

from conftest import Client, Inbox, World, mail_text
from registry.accounts.models import Organisation, User, UserStatus


def _signup(**overrides: str) -> dict[str, str]:
    data = {"company_name": "CV Kelor Kupang", "nib": "9120300000001", "province_code": "53",
            "address": "Jl. Timor Raya 1, Kupang", "name": "Yuliana", "email": "Yuli@Kelor.id",
            "password": "kelor-kupang-ekspor-26", "confirm": "kelor-kupang-ekspor-26"}
    data.update(overrides)
    return data


def test_signup_then_activation_by_own_province(client: Client, make_client, world: World,
                                                db: Session) -> None:
    response = client.post("/signup", _signup())
    assert response.status_code == 302
    user = db.exec(select(User).where(User.email == "yuli@kelor.id")).one()
    assert user.status == UserStatus.PENDING
    org = db.get(Organisation, user.organisation_id)
    assert (org.kind, org.nib, org.province_code) == ("exporter", "9120300000001", "53")

    refused = client.post("/login", {"email": "yuli@kelor.id",
                                     "password": "kelor-kupang-ekspor-26"})
    assert refused.status_code == 200
    assert "waits for activation" in refused.get_data(as_text=True)

    ntb = make_client()
    ntb.login("officer.ntb@test.id")
    assert "CV Kelor Kupang" not in ntb.get("/accounts/pending").get_data(as_text=True)
    assert ntb.post(f"/accounts/users/{user.id}/activate").status_code == 404

    ntt = make_client()
    ntt.login("officer.ntt@test.id")
    assert "CV Kelor Kupang" in ntt.get("/accounts/pending").get_data(as_text=True)
    assert ntt.post(f"/accounts/users/{user.id}/activate").status_code == 302
    db.expire_all()
    assert db.get(User, user.id).status == UserStatus.ACTIVE
    client.login("yuli@kelor.id", "kelor-kupang-ekspor-26")
    assert client.get("/batches").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password": "short1", "confirm": "short1"}, "at least 8 characters"),
        ({"password": "password123", "confirm": "password123"}, "too common"),
        ({"password": "x" * 129, "confirm": "x" * 129}, "at most 128"),
        ({"confirm": "something-else-99"}, "do not match"),
        ({"nib": "12345"}, "13-digit business number"),
        ({"email": "not-an-email"}, "Invalid email"),
        ({"province_code": "99"}, "Not a valid choice"),
    ],
)
def test_signup_refusals_are_explained(client: Client, world: World, db: Session,
                                       overrides: dict[str, str], message: str) -> None:
    response = client.post("/signup", _signup(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.exec(select(Organisation).where(Organisation.name == "CV Kelor Kupang")).first() is (
        None
    )


SAME_ANSWER = "If the e-mail address and the company are new to the registry"


@pytest.mark.parametrize(("overrides", "told"), [
    ({}, []),
    ({"email": "A@test.id"}, ["a@test.id"]),
    ({"nib": "1234567890123"}, ["a@test.id"]),
    ({"email": "b@test.id", "nib": "1234567890123"}, ["b@test.id"]),
])
def test_signup_answers_the_same_whether_or_not_email_or_nib_exist(
        client: Client, world: World, db: Session, inbox: Inbox,
        overrides: dict[str, str], told: list[str]) -> None:
    """Today: "already registered" for existing addresses and NIBs. Now the same answer, and
    the holders of the address (or the company's users) are told by mail instead."""
    response = client.post("/signup", _signup(**overrides))
    assert response.status_code == 302 and response.location.endswith("/login")
    assert SAME_ANSWER in client.get("/login").get_data(as_text=True)
    created = db.exec(select(Organisation).where(Organisation.name == "CV Kelor Kupang")).first()
    assert (created is None) == bool(told)
    mails = [m for m in inbox.messages if "sign-up" in str(m["Subject"]).lower()
             or "pendaftaran" in str(m["Subject"]).lower()]
    assert sorted(str(m["To"]) for m in mails) == told
    for m in mails:
        text = mail_text(m)
        if overrides.get("email"):
            assert "/password/forgot" in text
        else:
            assert "yuli@kelor.id" in text and "1234567890123" in text
    assert inbox.to("yuli@kelor.id") == []


def test_sign_ups_are_throttled_also_when_the_address_exists(client: Client, world: World,
                                                             app: Flask) -> None:
    app.config["SIGNUP_RATE_LIMIT"] = "3 per hour"
    answers = [client.post("/signup", _signup(email="a@test.id")).status_code for _ in range(4)]
    assert answers == [302, 302, 302, 429]


def test_admin_creates_officer_and_disables_user(client: Client, world: World,
                                                 db: Session) -> None:
    client.login("admin@test.id")
    response = client.post("/admin/users", {
        "name": "Ni Luh", "email": "niluh@bali.go.id", "role": "officer",
        "organisation_id": str(world.offices["51"].id), "password": "balidwipa-ekspor-1"})
    assert response.status_code == 302
    # An officer must belong to a trade office, not to an exporter company.
    response = client.post("/admin/users", {
        "name": "Wrong", "email": "wrong@bali.go.id", "role": "officer",
        "organisation_id": str(world.company_a.id), "password": "balidwipa-ekspor-1"})
    assert "does not belong" in response.get_data(as_text=True)
    assert client.post(f"/accounts/users/{world.exporter_b.id}/disable").status_code == 302
    db.expire_all()
    assert db.get(User, world.exporter_b.id).status == UserStatus.DISABLED
    assert db.exec(select(User).where(User.email == "wrong@bali.go.id")).first() is None


def test_users_cli_creates_an_officer(app, world: World, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "cli.officer@ntb.go.id", "--name", "CLI", "--role",
        "officer", "--organisation", "Dinas Perdagangan NTB", "--province", "52",
        "--password", "lombok-sumbawa-2026"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    user = db.exec(select(User).where(User.email == "cli.officer@ntb.go.id")).one()
    assert user.status == UserStatus.ACTIVE and user.role == "officer"
    weak = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "weak@ntb.go.id", "--name", "W", "--role", "admin",
        "--organisation", "Admin", "--password", "password"])
    assert weak.exit_code != 0 and "password refused" in weak.output
