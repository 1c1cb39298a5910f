"""Throttles that lock out attackers, not offices (issue 16 §3): failed sign-ins are counted
per account (10 per 5 minutes, from any address) and per address with a higher ceiling (100),
unknown accounts too; the locked account's owner is told by mail with a reset link."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from conftest import CHEAP_PASSWORD_HASHING, PASSWORD, Client, Inbox, World, mail_text


@pytest.fixture
def proxied(app: Flask) -> Iterator[Flask]:
    """The registry behind one reverse proxy (``PROXY_HOPS=1``): the address is the one the
    proxy forwards, as in production."""
    from registry import create_app

    behind = create_app({
        **{k: app.config[k] for k in (
            "DATABASE_URL", "TESTING", "SECRET_KEY", "UPLOAD_DIR", "KEY_DIR", "KEY_ENCRYPTION_KEY",
            "RATELIMIT_STORAGE_URI", "FILE_STORE", "S3_BUCKET", "S3_ENDPOINT_URL", "MAIL_SERVER",
            "MAIL_PORT", "MAIL_USE_TLS", "MAIL_DEFAULT_SENDER")},
        "MAIL_BACKEND": "smtp", "INSTANCE_PATH": app.instance_path, "PROXY_HOPS": 1,
        **CHEAP_PASSWORD_HASHING})
    yield behind
    behind.extensions["engine"].dispose()


def _from(app: Flask, address: str) -> Client:
    client = Client(app.test_client())
    client.http.environ_base["HTTP_X_FORWARDED_FOR"] = address
    return client


def _attempt(client: Client, email: str, password: str) -> Any:
    return client.post("/login", {"email": email, "password": password}, token_from="/login")


def test_one_account_is_limited_across_forwarded_addresses(proxied: Flask, world: World,
                                                           inbox: Inbox) -> None:
    """Today: 100 wrong passwords for one account from 10 forwarded addresses all got
    through. Now the eleventh is refused, whatever the address, even with the right password,
    and the owner gets one mail with a reset link (not one per attempt)."""
    clients = [_from(proxied, f"198.51.100.{i}") for i in range(10)]
    answers = [_attempt(clients[i % 10], "a@test.id", f"wrong-guess-{i}").status_code
               for i in range(30)]
    assert answers[:10] == [200] * 10
    assert answers[10:] == [429] * 20
    assert _attempt(_from(proxied, "203.0.113.9"), "a@test.id", PASSWORD).status_code == 429
    locked = inbox.to("a@test.id")
    assert len(locked) == 1, [m["Subject"] for m in locked]
    assert "/password/reset/" in mail_text(locked[0])
    # Another account from the same addresses is not affected.
    assert _attempt(clients[0], "b@test.id", PASSWORD).status_code == 302


def test_unknown_accounts_are_counted_too(proxied: Flask, world: World, inbox: Inbox) -> None:
    client = _from(proxied, "198.51.100.7")
    answers = [_attempt(client, "nobody@test.id", "wrong-guess").status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]
    assert inbox.messages == []


def test_an_officer_is_not_locked_out_by_another_users_failures(proxied: Flask,
                                                                world: World) -> None:
    """Today: after 10 failures from one office address, an officer typing the right password
    from that address got 429."""
    office = "203.0.113.50"
    for i in range(12):
        _attempt(_from(proxied, office), "a@test.id", f"wrong-guess-{i}")
    assert _attempt(_from(proxied, office), "officer.ntb@test.id", PASSWORD).status_code == 302


def test_one_address_has_a_higher_ceiling(app: Flask, world: World) -> None:
    app.config["LOGIN_ADDRESS_LIMIT"] = "15 per 5 minutes"
    client = Client(app.test_client())
    answers = [_attempt(client, f"user{i}@test.id", "wrong-guess").status_code for i in range(15)]
    assert answers == [200] * 15
    # The address is spent: even a right password from it waits (an attacker spraying
    # accounts), while the accounts themselves are not locked elsewhere.
    assert _attempt(client, "officer.ntb@test.id", PASSWORD).status_code == 429


def test_successful_logins_are_not_counted(app: Flask, world: World) -> None:
    for _ in range(12):
        client = Client(app.test_client())
        assert _attempt(client, "officer.ntb@test.id", PASSWORD).status_code == 302


@pytest.mark.parametrize("name", ["LOGIN_ACCOUNT_LIMIT", "LOGIN_ADDRESS_LIMIT",
                                  "PASSWORD_RESET_RATE_LIMIT", "SIGNUP_RATE_LIMIT"])
def test_a_limit_that_is_not_one_is_refused_at_start(tmp_path: Any, name: str) -> None:
    from registry.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=name):
        load_config(tmp_path, {name: "ten a minute"})


def test_with_rate_limits_switched_off_sign_ins_are_answered_without_errors(
        app: Flask, world: World, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``RATELIMIT_ENABLED=false`` (Flask-Limiter's switch for every limit) turns the login
    throttle off too: wrong passwords are answered as wrong, never 429, and the log holds no
    error (before: in an app built so, each sign-in logged "the rate-limit store did not
    answer" with an AssertionError from a limiter that was never set up). The switch is set
    on the test's app, not by building another: Flask-Limiter's extension is one object per
    process, and an app built with the switch off would turn it off for every later test."""
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)
    client = Client(app.test_client())
    with caplog.at_level("WARNING"):
        answers = [_attempt(client, "a@test.id", f"wrong-{i}").status_code for i in range(12)]
        assert _attempt(client, "a@test.id", PASSWORD).status_code == 302
    assert answers == [200] * 12
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
