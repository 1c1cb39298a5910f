"""Issue 12 §3: /readyz checks every shared part; /healthz stays liveness; a production server
(gunicorn, as deployed) refuses to start with a part down, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from servers import free_port

from conftest import PRODUCTION_CONFIG
from registry import ROOT, create_app
from registry.ops import readiness


def test_readyz_is_ready_with_every_part_answering(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ready" and body["checks"]["database"] == "ok"
    assert set(body["checks"].values()) == {"ok"}
    assert "redis" not in body["checks"]  # no REDIS_URL: limits are per process by design


def test_readyz_names_the_database_when_it_is_down_without_its_password(tmp_path: Path) -> None:
    broken = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s" * 40,
                         "DATABASE_URL": "postgresql://registry:hunter2@127.0.0.1:1/none"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready" and "DATABASE_URL" in body["checks"]["database"]
    assert "hunter2" not in response.get_data(as_text=True)
    # Liveness is another question: the process answers, with its scan buffer.
    assert "scan_buffer" in broken.test_client().get("/healthz").get_json()


def test_a_part_that_hangs_is_reported_down_within_the_timeout(app: Flask) -> None:
    readiness.register(app, "files", lambda: time.sleep(8) or None)
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert time.monotonic() - started < readiness.CHECK_TIMEOUT + 2
    assert response.status_code == 503
    assert response.get_json()["checks"]["files"].startswith("no answer within")
    assert response.get_json()["checks"]["database"] == "ok"


def test_require_ready_names_each_part_down(app: Flask) -> None:
    readiness.require_ready(app)  # all up: nothing to say
    readiness.register(app, "keys", lambda: "no active signing key")
    with pytest.raises(readiness.NotReady, match="keys: no active signing key"):
        readiness.require_ready(app)


@pytest.mark.slow
def test_gunicorn_refuses_to_start_in_production_with_redis_down(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens here
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "DATABASE_"))}
    env.update({name: str(value) for name, value in PRODUCTION_CONFIG.items() if name != "ENV"})
    env.update({
        "REGISTRY_ENV": "production",
        "REGISTRY_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": os.environ.get("TEST_DATABASE_URL",
                                       "postgresql://postgres@127.0.0.1:5432/postgres"),
        "REDIS_URL": f"redis://127.0.0.1:{closed}/0",
    })
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.run(
        [str(gunicorn), "--bind", f"127.0.0.1:{free_port()}", "--workers", "1",
         "--timeout", "60", "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "REDIS_URL" in proc.stderr and "redis:" in proc.stderr, proc.stderr[-3000:]
    assert "Refusing to start" in proc.stderr
