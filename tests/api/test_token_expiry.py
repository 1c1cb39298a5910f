"""API tokens expire (issue 16 §6): a lifetime chosen at creation (90 days unless chosen),
shown in the list; an expired token answers 401 with a problem that says it expired, told
apart from an unknown one; tokens from before the expiry were given 90 days by migration
0021."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import Api, assert_problem, token_for
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from conftest import Client, World, database_at
from registry.api import tokens
from registry.api.models import ApiToken
from registry.api.vocabulary import LIFETIME_LABELS
from registry.clock import utcnow
from registry.db import migrate
from registry.exceptions import ValidationError

TOKEN_RE = re.compile(r"mbr_[A-Za-z0-9_-]{43}")


def expire(db: Session, token_id: int, ago: dt.timedelta = dt.timedelta(seconds=1)) -> None:
    token = db.get(ApiToken, token_id)
    assert token is not None
    token.expires_at = utcnow() - ago
    db.add(token)
    db.commit()


def test_the_lifetimes_offered_are_the_lifetimes_allowed() -> None:
    assert set(LIFETIME_LABELS) == set(tokens.LIFETIMES)
    assert tokens.DEFAULT_LIFETIME in tokens.LIFETIMES


def test_a_token_lives_the_days_chosen_and_90_unless_chosen(db: Session, world: World) -> None:
    before = utcnow()
    default = tokens.create_token(db, world.exporter_a, name="ERP", access="read").token
    short = tokens.create_token(db, world.exporter_a, name="Test", access="read",
                                lifetime_days=30).token
    db.commit()
    assert default.expires_at - before >= dt.timedelta(days=90)
    assert default.expires_at - utcnow() <= dt.timedelta(days=90)
    assert dt.timedelta(days=30) <= short.expires_at - before <= dt.timedelta(days=30, minutes=1)
    with pytest.raises(ValidationError) as refused:
        tokens.create_token(db, world.exporter_a, name="Forever", access="read",
                            lifetime_days=36500)
    assert refused.value.fields == {"expires_in": "unknown"}


def test_the_page_offers_lifetimes_and_lists_expiry_and_state(
        app: Flask, db: Session, world: World, make_client: object) -> None:
    client: Client = make_client()  # type: ignore[operator]
    client.login(world.exporter_a.email)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert '<option selected value="90">' in page or '<option value="90" selected>' in page
    created = client.post("/account/tokens", {"name": "Warehouse", "access": "read",
                                              "expires_in": "180"}, token_from="/account/tokens")
    assert created.status_code == 200 and TOKEN_RE.search(created.get_data(as_text=True))
    token = db.exec(select(ApiToken).where(ApiToken.name == "Warehouse")).one()
    assert dt.timedelta(days=179) < token.expires_at - utcnow() <= dt.timedelta(days=180)
    refused = client.post("/account/tokens", {"name": "Forever", "access": "read",
                                              "expires_in": "100000"},
                          token_from="/account/tokens")
    assert refused.status_code == 422 and not TOKEN_RE.search(refused.get_data(as_text=True))

    expire(db, token.id)
    page = client.get("/account/tokens").get_data(as_text=True)
    row = page.split('data-state="expired"')[1].split("</tr>")[0]
    assert "Warehouse" in row and "WITA" in row and "Expired" in row
    assert "/revoke" not in row  # nothing to revoke


def test_an_expired_token_answers_401_saying_it_expired(app: Flask, db: Session,
                                                       world: World) -> None:
    secret = token_for(db, world.exporter_a)
    api = Api(app, secret)
    me = api.get("/me")
    assert me.status_code == 200
    token = db.exec(select(ApiToken)).one()
    assert dt.datetime.fromisoformat(me.json["token"]["expires_at"]) == token.expires_at
    used = token.last_used_at

    expire(db, token.id)
    response = api.get("/products")
    body = assert_problem(response, 401)
    assert body["expired"] is True and "expired" in body["detail"]
    assert dt.datetime.fromisoformat(body["expired_at"]) == db.get(ApiToken, token.id).expires_at
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge and "expired" in challenge
    db.expire_all()
    assert db.get(ApiToken, token.id).last_used_at == used  # not "used" by a refusal

    # An unknown token is not said to be expired.
    unknown = assert_problem(Api(app, "mbr_" + "x" * 43).get("/products"), 401)
    assert "expired" not in unknown and "expired" not in unknown["detail"]
    # A revoked one that also expired is revoked, not expired: nothing to renew.
    db.get(ApiToken, token.id).revoked_at = utcnow()  # type: ignore[union-attr]
    db.commit()
    assert "expired" not in assert_problem(api.get("/products"), 401)


def test_expired_tokens_do_not_count_against_the_limit(db: Session, world: World) -> None:
    for n in range(tokens.MAX_ACTIVE_TOKENS):
        token = tokens.create_token(db, world.exporter_a, name=f"t{n}", access="read").token
        db.commit()
        expire(db, token.id)
    assert tokens.create_token(db, world.exporter_a, name="fresh", access="read").token.id


def test_the_openapi_document_tells_the_expiry(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert "expires_at" in schemas["TokenInfo"]["required"]
    assert {"expired", "expired_at"} <= set(schemas["Problem"]["properties"])
    assert "expire" in document["components"]["securitySchemes"]["bearerAuth"]["description"]


# ---------------------------------------------------------------- migration 0021

SCHEMA = "migration_0021"


@pytest.fixture
def registry_at_0017(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with database_at(database_url, tmp_path, "0017", SCHEMA) as registry:
        yield registry


def test_tokens_from_before_get_90_days_from_the_upgrade(
        registry_at_0017: tuple[str, Engine]) -> None:
    url, engine = registry_at_0017
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organisation (id, kind, name, address, created_at) "
                          "VALUES (1, 'exporter', 'A', '', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO \"user\" (id, email, name, password_hash, role, status, "
            "organisation_id, session_nonce, created_at) VALUES (1, 'a@test.id', 'A', :h, "
            "'exporter', 'active', 1, 'n', CURRENT_TIMESTAMP)"), {"h": "h"})
        conn.execute(text(
            "INSERT INTO api_token (id, user_id, name, prefix, token_hash, scopes, created_at) "
            "VALUES (1, 1, 'ERP', 'mbr_abcdefgh', :hash, 'read', CURRENT_TIMESTAMP)"),
            {"hash": "0" * 64})
    before = utcnow().replace(microsecond=0)
    migrate.upgrade(url, "0021")
    with Session(engine) as session:
        token = session.get(ApiToken, 1)
        assert token is not None
        assert before + dt.timedelta(days=90) <= token.expires_at
        assert token.expires_at <= utcnow() + dt.timedelta(days=90)
    # A declined account's address is free again; two live ones still clash.
    with engine.begin() as conn:
        conn.execute(text("UPDATE \"user\" SET status = 'declined' WHERE id = 1"))
        conn.execute(text(
            "INSERT INTO \"user\" (id, email, name, password_hash, role, status, "
            "organisation_id, session_nonce, created_at) VALUES (2, 'a@test.id', 'A', 'h', "
            "'exporter', 'pending', 1, 'n', CURRENT_TIMESTAMP)"))
    with pytest.raises(Exception, match=r"(?i)unique"), engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO \"user\" (id, email, name, password_hash, role, status, "
            "organisation_id, session_nonce, created_at) VALUES (3, 'a@test.id', 'A', 'h', "
            "'exporter', 'active', 1, 'n', CURRENT_TIMESTAMP)"))
