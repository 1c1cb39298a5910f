"""Configuration, schema migrations, the demo command and the health check."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

from conftest import PRODUCTION_CONFIG, Client
from registry import create_app
from registry.accounts import auth
from registry.accounts.models import User
from registry.accounts.passwords import check_password, hash_password
from registry.catalog.models import Batch
from registry.config import ConfigError
from registry.demo import DEMO_TOTP_SECRETS


def test_production_refuses_to_start_without_a_real_secret(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    for secret in (None, "dev", "short-secret"):
        config = {"ENV": "production", "INSTANCE_PATH": str(tmp_path)}
        if secret:
            config["SECRET_KEY"] = secret
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app(config)


def test_development_creates_and_keeps_a_secret(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    second = create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_cookies_are_secure(tmp_path: Path) -> None:
    app = create_app({**PRODUCTION_CONFIG, "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_passwords_are_hashed_at_the_production_cost_unless_the_app_says(
        tmp_path: Path, app: Flask) -> None:
    production = create_app({**PRODUCTION_CONFIG, "INSTANCE_PATH": str(tmp_path)})
    with production.app_context():
        strong = hash_password(auth.password_hashing(), "correct-horse-battery-7")
    # argon2-cffi's defaults (RFC 9106, low memory): 64 MiB, three passes, four lanes.
    assert strong.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    no_app = hash_password(auth.password_hashing(), "x")
    assert no_app.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    with app.app_context():  # the tests' cheap cost (conftest.CHEAP_PASSWORD_HASHING)
        cheap = hash_password(auth.password_hashing(), "correct-horse-battery-7")
        assert cheap.startswith("$argon2id$v=19$m=64,t=1,p=1$")
        # Verifying reads the cost from the stored hash: a change of cost keeps every password.
        user = User(email="a@test.id", name="A", password_hash=strong)
        hashing = auth.password_hashing()
        assert check_password(hashing, user, "correct-horse-battery-7")
        assert not check_password(hashing, user, "correct-horse-battery-8")
        assert not check_password(hashing, None, "correct-horse-battery-7")
    with production.app_context():
        user = User(email="a@test.id", name="A", password_hash=cheap)
        assert check_password(auth.password_hashing(), user, "correct-horse-battery-7")
        # An unknown e-mail is checked against a dummy hash at the app's own cost.
        assert production.extensions["password_hashing"].dummy.startswith(
            "$argon2id$v=19$m=65536,t=3,p=4$")


def test_migrations_create_exactly_the_models_schema(app: Flask) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import registry.db.models  # noqa: F401

    with app.extensions["engine"].connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == [], diff
    assert {"batch", "product", "organisation", "user", "audit_event", "decision"} <= tables


def test_demo_fills_every_state_and_the_documented_accounts(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    emails = set(db.exec(select(User.email)).all())
    assert {"exporter.ntb@demo.test", "exporter.ntt@demo.test", "officer.ntb@demo.test",
            "officer.ntt@demo.test", "officer.bali@demo.test", "printer@demo.test",
            "admin@demo.test"} <= emails
    statuses = set(db.exec(select(Batch.status)).all())
    assert statuses == {"draft", "submitted", "approved", "rejected", "suspended", "revoked"}
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0 and "not loaded" in again.output
    client = app.test_client()
    page = client.post("/login", data={"email": "officer.ntt@demo.test",
                                       "password": "demo-password-2026"})
    # CSRF is on, so a bare post is refused; the real login is covered elsewhere.
    assert page.status_code == 400
    # The officers and the admin come with the authenticator the README prints: a script
    # signs in with the documented password and a code computed from the documented key.
    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    for email, secret in DEMO_TOTP_SECRETS.items():
        assert f"| `{email}` | `{secret}` |" in readme
        officer = Client(app.test_client())
        second = officer.post("/login", {"email": email, "password": "demo-password-2026"},
                              token_from="/login")
        assert second.headers["Location"] == "/login/second-factor"
        signed = officer.post("/login/second-factor", {"code": pyotp.TOTP(secret).now()},
                              token_from="/login/second-factor")
        assert signed.status_code == 302 and signed.headers["Location"] == "/"
    verify = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_demo_refuses_production(tmp_path: Path) -> None:
    app = create_app({**PRODUCTION_CONFIG, "INSTANCE_PATH": str(tmp_path)})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "production" in result.output


def test_healthz_checks_the_database(app: Flask, tmp_path: Path) -> None:
    health = app.test_client().get("/healthz").get_json()
    assert (health["status"], health["database"]) == ("ok", "ok")
    assert health["scan_buffer"]["pending"] == 0  # the scan buffer's state: tests/integrity
    broken = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s" * 40,
                         "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"
