"""Issue 12 §3: production refuses a configuration that would break sharing or print a wrong
address into labels for good; each refusal names the variable."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from conftest import PRODUCTION_CONFIG
from registry import create_app
from registry.config import ConfigError

SETTINGS = ("REGISTRY_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PUBLIC_HOST",
            "KEY_ENCRYPTION_KEY", "KEY_ENCRYPTION_KEY_FILE", "FILE_STORE", "S3_BUCKET",
            "PROXY_HOPS", "QUEUE_URL", "MAIL_BACKEND", "MAIL_DEFAULT_SENDER")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGISTRY_INSTANCE", str(tmp_path / "instance"))


def refusal(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as refused:
        create_app(config)
    return str(refused.value)


def without(name: str) -> dict[str, Any]:
    return {k: v for k, v in PRODUCTION_CONFIG.items() if k != name}


def test_a_full_production_configuration_starts(tmp_path: Path) -> None:
    app = create_app(dict(PRODUCTION_CONFIG))
    assert app.config["PRODUCTION"] and app.config["PUBLIC_HOST"] == "cek.example.id"
    # Rate limits are counted in the shared Redis, not per process.
    assert app.config["RATELIMIT_STORAGE_URI"] == PRODUCTION_CONFIG["REDIS_URL"]


def test_only_a_secret_key_is_refused_naming_every_missing_part(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Today's failure: this started on SQLite, per-process limits and 127.0.0.1:5000 labels.
    monkeypatch.setenv("REGISTRY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", PRODUCTION_CONFIG["SECRET_KEY"])
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    for name in ("DATABASE_URL", "REDIS_URL", "PUBLIC_HOST", "KEY_ENCRYPTION_KEY", "FILE_STORE",
                 "PROXY_HOPS", "QUEUE_URL", "MAIL_BACKEND", "MAIL_DEFAULT_SENDER"):
        assert name in message
    assert "SECRET_KEY" not in message


@pytest.mark.parametrize(("name", "value"), [
    ("DATABASE_URL", None),
    ("DATABASE_URL", "sqlite:////srv/registry/registry.sqlite3"),
    ("DATABASE_URL", "mysql://registry@db/registry"),
    ("REDIS_URL", None),
    ("REDIS_URL", "cache.internal:6379"),
    ("PUBLIC_HOST", None),
    ("KEY_ENCRYPTION_KEY", None),
    ("FILE_STORE", None),
    ("FILE_STORE", "local"),
    ("S3_BUCKET", None),
    ("PROXY_HOPS", None),
    ("QUEUE_URL", None),
    ("QUEUE_URL", "sqlite:////srv/registry/queue.sqlite3"),
    ("MAIL_BACKEND", None),
    ("MAIL_BACKEND", "outbox"),
    ("MAIL_DEFAULT_SENDER", None),
    ("SECRET_KEY", "short"),
])
def test_each_missing_or_wrong_variable_is_refused_by_name(name: str, value: str | None) -> None:
    config = without(name) if value is None else {**PRODUCTION_CONFIG, name: value}
    message = refusal(config)
    assert name in message
    # Only that one: the operator is told exactly what to fix.
    assert message.count("\n- ") == 1, message


def test_a_key_encryption_key_file_is_enough(tmp_path: Path) -> None:
    config = {**without("KEY_ENCRYPTION_KEY"), "KEY_ENCRYPTION_KEY_FILE": "/run/secrets/kek"}
    assert create_app(config).config["PRODUCTION"]


def test_database_password_is_not_repeated_in_the_refusal() -> None:
    message = refusal({**PRODUCTION_CONFIG, "DATABASE_URL": "mysql://u:hunter2-secret@db/r"})
    assert "hunter2" not in message


@pytest.mark.parametrize("host", [
    "127.0.0.1:5000", "localhost:5000", "localhost", "0.0.0.0", "10.1.2.3", "192.168.1.20:8000",
    "172.16.0.4", "100.64.0.1", "169.254.1.1", "registry", "registry.local", "cek.internal",
    "app.localhost", "Cek.Example.ID", "https://cek.example.id", "cek.example.id/verify",
    "a-host-name-far-too-long-for-the-label.example.id",
])
def test_public_host_must_be_a_public_name_buyers_can_reach(host: str) -> None:
    assert "PUBLIC_HOST" in refusal({**PRODUCTION_CONFIG, "PUBLIC_HOST": host})


@pytest.mark.parametrize("host", ["cek.example.id", "cek.example.id:8443", "203.0.114.7"])
def test_public_names_and_addresses_pass(host: str) -> None:
    assert create_app({**PRODUCTION_CONFIG, "PUBLIC_HOST": host}).config["PUBLIC_HOST"] == host


def test_public_host_left_at_its_default_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The development default must be chosen on purpose, not inherited.
    assert "PUBLIC_HOST" in refusal(without("PUBLIC_HOST"))


def test_proxy_hops_zero_is_an_explicit_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROXY_HOPS", "0")
    app = create_app(without("PROXY_HOPS"))
    assert app.config["PROXY_HOPS"] == 0


@pytest.mark.parametrize("value", ["two", "1.5", "-1"])
def test_proxy_hops_must_be_a_whole_number(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PROXY_HOPS", value)
    assert "PROXY_HOPS" in refusal(without("PROXY_HOPS"))


def test_a_number_setting_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "10MB")
    with pytest.raises(ConfigError, match="MAX_UPLOAD_BYTES must be a whole number"):
        create_app({})


def test_development_still_needs_nothing(tmp_path: Path) -> None:
    app = create_app({})
    assert app.config["DATABASE_URL"].startswith("sqlite:")
    assert app.config["PUBLIC_HOST"] == "127.0.0.1:5000"


def test_forwarded_requests_without_proxy_hops_are_warned_once(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="registry.web.proxy")
    http = app.test_client()
    http.get("/about")
    assert not caplog.records  # a direct client is no sign of a proxy
    for _ in range(3):
        http.get("/about", headers={"X-Forwarded-For": "203.0.114.9"})
    warnings = [r.getMessage() for r in caplog.records if r.name == "registry.web.proxy"]
    assert len(warnings) == 1 and "PROXY_HOPS" in warnings[0]
