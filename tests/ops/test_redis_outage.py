"""Issue 12 §3: a Redis outage degrades rate limits to per-process counts, never a 500, and
/readyz says Redis is down. Against a real redis-server that the test stops and starts."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from servers import RedisServer
from sqlmodel import Session

from conftest import Client, World
from registry import create_app
from registry.api import tokens
from registry.web.extensions import limiter


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def shared_app(app: Flask, redis_server: RedisServer) -> Iterator[Flask]:
    """The test database (emptied by ``app``), with rate limits in the real Redis."""
    config = {name: app.config[name] for name in (
        "DATABASE_URL", "TESTING", "SECRET_KEY", "UPLOAD_DIR", "KEY_DIR")}
    shared = create_app({**config, "INSTANCE_PATH": app.instance_path,
                         "REDIS_URL": redis_server.url, "LOGIN_ACCOUNT_LIMIT": "3 per minute"})
    yield shared
    shared.extensions["engine"].dispose()
    # The limiter is one object per process: a test that failed mid-outage must not leave
    # the next test's app counting in the fallback store.
    limiter._storage_dead = False


def wrong_login(client: Client) -> int:
    response = client.post("/login", {"email": "a@test.id", "password": "not-the-password"},
                           token_from="/login")
    return int(response.status_code)


def counters(server: RedisServer) -> list[bytes]:
    return list(redis.Redis.from_url(server.url).scan_iter("*registry*"))


def test_redis_outage_degrades_to_per_process_limits_and_readiness_says_so(
        shared_app: Flask, redis_server: RedisServer, world: World, db: Session,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    client = Client(shared_app.test_client())
    secret = tokens.create_token(db, world.exporter_a, name="ERP", access="read").secret
    db.commit()
    api = shared_app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}

    # Redis up: the login limit is counted in Redis, shared by every process.
    assert wrong_login(client) == 200
    assert counters(redis_server)
    ready = shared_app.test_client().get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    body = ready.get_json()
    assert body["status"] == "ready" and set(body["checks"].values()) == {"ok"}
    assert {"database", "redis"} <= set(body["checks"])

    redis_server.stop()

    # Login, the API, sign-up and reports keep answering.
    assert wrong_login(client) == 200
    Client(shared_app.test_client()).login("b@test.id")
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    assert client.post("/signup", {"email": "new@exporter.id"}).status_code == 200
    assert client.post("/verify/report", {"message": "x"}).status_code < 500
    # … with the login limit still counted, in this process: 3 per minute.
    assert [wrong_login(client) for _ in range(3)] == [200, 200, 429]
    unreachable = [r for r in caplog.records
                   if r.levelno == logging.WARNING and "unreachable" in r.getMessage()]
    assert len(unreachable) == 1, [r.getMessage() for r in caplog.records]

    down = shared_app.test_client().get("/readyz")
    assert down.status_code == 503
    checks = down.get_json()["checks"]
    assert checks["database"] == "ok"
    assert "REDIS_URL" in checks["redis"] and "no answer" in checks["redis"]

    redis_server.start()
    assert shared_app.test_client().get("/readyz").status_code == 200
    # Limits go back to Redis (the limiter retries it with a growing back-off, a few s here).
    deadline = time.monotonic() + 40
    while not counters(redis_server):
        assert time.monotonic() < deadline, "rate limits never went back to Redis"
        assert wrong_login(client) in (200, 429)
        time.sleep(0.5)
