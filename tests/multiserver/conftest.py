"""Real servers for the multi-server test: two gunicorn "machines" with their own instance
folders, one PostgreSQL database, a Redis the test can stop, and an S3 API (moto's standalone
server) on loopback. Nothing here is mocked: the test talks HTTP to real processes."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import make_url, text

from conftest import TEST_BUCKET, TEST_KEK, Browser
from registry.db import make_engine
from tests.taskqueue.queue_support import Worker

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not come up within {timeout} s")


@dataclass
class Redis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.pong, 10, "redis-server")

    def pong(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@dataclass
class Server:
    name: str
    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    browsers: list[Browser] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            # The shipped config (gthread workers: a slow download holds a thread).
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                 "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: requests.get(self.base + "/healthz", timeout=2).ok, 60,
                 f"server {self.name} ({self.log})")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            self.process = None

    def flask(self, *args: str) -> str:
        """A command run on this machine (its environment, its instance folder)."""
        done = subprocess.run([str(BIN / "flask"), "--app", "registry", *args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def browser(self) -> Browser:
        return Browser(self.base)


@dataclass
class Stack:
    database_url: str
    redis: Redis
    s3_endpoint: str
    bucket: str
    kek: str
    secret: str
    a: Server
    b: Server
    worker: Worker

    def app_config(self, instance: Path) -> dict[str, Any]:
        """What an operator's shell on a third machine would have (for seeding the cast)."""
        return {"DATABASE_URL": self.database_url, "INSTANCE_PATH": str(instance),
                "SECRET_KEY": self.secret, "KEY_ENCRYPTION_KEY": self.kek,
                "FILE_STORE": "s3", "S3_BUCKET": self.bucket, "S3_PREFIX": "multiserver/",
                "S3_ENDPOINT_URL": self.s3_endpoint, "REDIS_URL": self.redis.url,
                "UPLOAD_DIR": str(instance / "uploads"), "KEY_DIR": str(instance / "keys")}


def _fresh_database(base_url: str) -> str:
    url = make_url(base_url)
    name = f"{url.database}_multiserver"
    admin = make_engine(url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[Stack]:
    base_url = os.environ.get("TEST_DATABASE_URL")
    if not base_url:
        pytest.skip("the multi-server test needs PostgreSQL (TEST_DATABASE_URL); .ci/run sets it")
    tmp = tmp_path_factory.mktemp("multiserver")
    database_url = _fresh_database(base_url)
    redis = Redis(free_port())
    redis.start()
    # The session's S3 server (moto, loopback); this stack keeps its files under a prefix.
    credentials = {name: os.environ[name]
                   for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    # The test world (``cast``) enrols its officers' authenticators under TEST_KEK, and every
    # sealed secret must be under the servers' one KEK (registry.signing.sealed).
    kek = TEST_KEK
    secret = base64.b64encode(os.urandom(36)).decode()
    common = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp)), "LANG": "C.UTF-8",
        "REGISTRY_ENV": "development", "DATABASE_URL": database_url, "REDIS_URL": redis.url,
        "SECRET_KEY": secret, "KEY_ENCRYPTION_KEY": kek, "FILE_STORE": "s3",
        "S3_BUCKET": TEST_BUCKET, "S3_ENDPOINT_URL": s3_endpoint, "S3_REGION": "us-east-1",
        "S3_PREFIX": "multiserver/",
        "PUBLIC_HOST": "verify.example.id", "PUBLIC_SCHEME": "https", "PROXY_HOPS": "0",
        # The task queue on the stack's Redis (its own database there), shared by every
        # server and the worker; a worker silent for 5 s is presumed dead.
        "QUEUE_URL": redis.url.rsplit("/", 1)[0] + "/1", "LABEL_RENDER_LEASE_SECONDS": "5",
        **credentials,
    }
    servers = []
    for name in ("a", "b"):
        instance = tmp / name
        env = {**common, "REGISTRY_INSTANCE": str(instance),
               "UPLOAD_DIR": str(instance / "uploads"), "KEY_DIR": str(instance / "keys")}
        servers.append(Server(name, env, free_port(), tmp / f"{name}.log"))
    worker_instance = tmp / "worker"
    worker = Worker({**common, "REGISTRY_INSTANCE": str(worker_instance),
                     "UPLOAD_DIR": str(worker_instance / "uploads"),
                     "KEY_DIR": str(worker_instance / "keys")}, tmp / "worker.log")
    stack = Stack(database_url, redis, s3_endpoint, TEST_BUCKET, kek, secret, *servers, worker)
    stack.a.flask("db", "upgrade")
    try:
        for server in servers:
            server.start()
        worker.start()
        yield stack
    finally:
        worker.stop()
        for server in servers:
            server.stop()
        redis.stop()


@pytest.fixture(scope="module")
def cast(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """The people and goods, entered from an operator's shell on a third machine."""
    from sqlmodel import Session

    from conftest import World
    from registry import create_app
    from registry.files import store_for

    app = create_app(stack.app_config(tmp_path_factory.mktemp("shell")))
    with app.app_context(), Session(app.extensions["engine"], expire_on_commit=False) as session:
        yield World(session, store_for(app)), session
    app.extensions["engine"].dispose()
