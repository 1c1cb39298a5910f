"""Personal API tokens: shown once, stored hashed, scoped, revocable, audited; cookies ignored."""

from __future__ import annotations

import hashlib
import re

from api_helpers import Api, api_for, assert_problem, token_for
from flask import Flask
from sqlalchemy import text
from sqlmodel import Session, select

from conftest import Client, World
from registry.accounts.models import UserStatus
from registry.api.models import ApiToken
from registry.audit.models import AuditEvent

TOKEN_RE = re.compile(r"mbr_[A-Za-z0-9_-]{43}")


def _signed_in(make_client: object, email: str) -> Client:
    client: Client = make_client()  # type: ignore[operator]
    client.login(email)
    return client


def _create_on_page(client: Client, name: str = "ERP", access: str = "write") -> str:
    response = client.post("/account/tokens", {"name": name, "access": access},
                           token_from="/account/tokens")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    found = TOKEN_RE.findall(response.get_data(as_text=True))
    assert len(found) == 1
    return found[0]


def test_token_is_shown_once_and_stored_only_as_its_hash(
    app: Flask, db: Session, world: World, make_client: object
) -> None:
    client = _signed_in(make_client, world.exporter_a.email)
    secret = _create_on_page(client)

    # Shown once: the next visit lists the token by its prefix only.
    page = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in page and secret[:12] in page
    row = db.exec(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:12] and row.scopes == "read write"
    # No column of any row in the database holds the secret.
    with app.extensions["engine"].connect() as conn:
        for table in ("api_token", "audit_event"):
            for record in conn.execute(text(f"SELECT * FROM {table}")):
                assert not any(secret in str(v) for v in record)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "token.create")).one()
    assert event.actor_id == world.exporter_a.id and event.object_id == str(row.id)

    me = Api(app, secret).get("/me")
    assert me.status_code == 200
    assert me.json["email"] == world.exporter_a.email
    assert me.json["token"]["scopes"] == ["read", "write"]


def test_revoked_token_gets_401_and_revocation_is_audited(
    app: Flask, db: Session, world: World, make_client: object
) -> None:
    client = _signed_in(make_client, world.exporter_a.email)
    secret = _create_on_page(client)
    api = Api(app, secret)
    assert api.get("/products").status_code == 200
    token = db.exec(select(ApiToken)).one()
    response = client.post(f"/account/tokens/{token.id}/revoke", token_from="/account/tokens")
    assert response.status_code == 302
    body = assert_problem(api.get("/products"), 401)
    assert "revoked" in body["detail"]
    assert 'error="invalid_token"' in api.get("/products").headers["WWW-Authenticate"]
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "token.revoke")).one()
    assert "Revoked" in client.get("/account/tokens").get_data(as_text=True)


def test_nobody_revokes_another_users_token(
    app: Flask, db: Session, world: World, make_client: object
) -> None:
    secret = token_for(db, world.exporter_a)
    token = db.exec(select(ApiToken)).one()
    other = _signed_in(make_client, world.exporter_b.email)
    response = other.post(f"/account/tokens/{token.id}/revoke", token_from="/account/tokens")
    assert response.status_code == 404
    huge = other.post("/account/tokens/99999999999999999999/revoke", token_from="/account/tokens")
    assert huge.status_code == 404
    assert Api(app, secret).get("/me").status_code == 200


def test_printers_and_admins_get_no_tokens(world: World, make_client: object) -> None:
    for email in (world.printer.email, world.admin.email):
        client = _signed_in(make_client, email)
        assert client.get("/account/tokens").status_code == 403


def test_token_page_validates_and_needs_csrf(world: World, make_client: object) -> None:
    client = _signed_in(make_client, world.officer_ntb.email)
    bad = client.post("/account/tokens", {"name": "", "access": "write"},
                      token_from="/account/tokens")
    assert bad.status_code == 422 and not TOKEN_RE.search(bad.get_data(as_text=True))
    no_csrf = client.http.post("/account/tokens", data={"name": "x", "access": "read"})
    assert no_csrf.status_code == 400
    assert "API tokens" in client.get("/review/").get_data(as_text=True)  # in the navigation


def test_missing_malformed_and_unknown_tokens_get_401_with_a_challenge(
    app: Flask, world: World
) -> None:
    for headers in ({}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer"},
                    {"Authorization": "Bearer mbr_not-a-real-token"},
                    {"Authorization": "Bearer " + "x" * 5000}):
        response = app.test_client().get("/api/v1/products", headers=headers)
        body = assert_problem(response, 401)
        assert body["title"] == "Unauthorized"
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="registry"')


def test_read_token_cannot_write(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a, "read")
    assert api.get("/products").status_code == 200
    response = api.post("/products", json={"name_id": "Kelor", "name_en": "Moringa",
                                           "category": "agriculture", "hs_code": "090111"})
    assert_problem(response, 403)
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert_problem(api.post(f"/batches/{world.batch_a.id}/submit"), 403)


def test_disabled_users_tokens_stop_working(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    assert api.get("/me").status_code == 200
    world.exporter_a.status = UserStatus.DISABLED
    db.add(world.exporter_a)
    db.commit()
    assert_problem(api.get("/me"), 401)


def test_the_api_ignores_the_session_cookie(app: Flask, world: World, make_client: object) -> None:
    browser = _signed_in(make_client, world.exporter_a.email)
    assert browser.get("/batches").status_code == 200  # signed in on the web
    response = browser.http.get("/api/v1/products")
    assert_problem(response, 401)
    # A cross-site form post with the cookie and no token: 401, not a CSRF page, nothing done.
    response = browser.http.post("/api/v1/products", json={"name_id": "x"})
    assert_problem(response, 401)


def test_last_used_is_recorded(app: Flask, db: Session, world: World) -> None:
    api = api_for(app, db, world.exporter_a)
    assert db.exec(select(ApiToken)).one().last_used_at is None
    api.get("/me")
    db.expire_all()
    assert db.exec(select(ApiToken)).one().last_used_at is not None


def test_requests_are_rate_limited_per_token(app: Flask, db: Session, world: World) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    api = api_for(app, db, world.exporter_a)
    other = api_for(app, db, world.exporter_b)
    for _ in range(3):
        assert api.get("/me").status_code == 200
    assert_problem(api.get("/me"), 429)
    assert other.get("/me").status_code == 200  # another token has its own budget
