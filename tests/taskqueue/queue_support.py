"""The real task queue: a web app whose requests send renders to a SQLite or Redis queue, and
``flask --app registry worker`` processes that take them, which a test can kill -9."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlmodel import Session

from conftest import Client, World, xdist_worker_number
from registry import create_app
from registry.catalog.certification import Action
from registry.catalog.models import Batch
from registry.printing import services as printing
from registry.printing.models import LabelFile, PrintJob

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/"
# What the worker subprocess must share with the web app to render the same labels.
SHARED = ("DATABASE_URL", "SECRET_KEY", "KEY_ENCRYPTION_KEY", "FILE_STORE", "UPLOAD_DIR",
          "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_PREFIX", "PUBLIC_HOST",
          "PUBLIC_SCHEME", "KEY_DIR", "QUEUE_URL", "LABEL_RENDER_LEASE_SECONDS",
          "LABEL_FILE_TTL_DAYS")


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite-queue":
        yield f"sqlite:///{tmp_path / 'queue.sqlite3'}"
        return
    # The machine's Redis (CI starts it), a database of its own, emptied before and after.
    url = REDIS_URL + str(7 + xdist_worker_number())  # 7, and 8 for a second process
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield url
    client.flushdb()


@pytest.fixture
def queued_app(app: Flask, queue_url: str) -> Iterator[Flask]:
    """The test's app, sending renders to a real queue instead of running them in-process."""
    made = create_app({**app.config, "QUEUE_URL": queue_url,
                       "LABEL_RENDER_LEASE_SECONDS": 3, "INSTANCE_PATH": app.instance_path})
    yield made
    made.extensions["engine"].dispose()


class Worker:
    """``flask --app registry worker`` as a separate process with the environment ``env``
    (the multi-server test uses it too)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def like(cls, app: Flask, log: Path) -> Worker:
        """A worker with the web app's settings."""
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
               "LANG": "C.UTF-8", "REGISTRY_INSTANCE": app.instance_path,
               **{k: str(app.config[k]) for k in SHARED if app.config.get(k) is not None}}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            if name in os.environ:
                env[name] = os.environ[name]
        return cls(env, log)

    def start(self) -> Worker:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "flask"), "--app", "registry", "worker", "--workers", "1"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        return self

    def kill(self) -> None:
        """kill -9 of the worker and its QR encoder processes (a machine losing power)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            # SIGINT: Huey's graceful stop (the task in hand finishes).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def workers(queued_app: Flask, tmp_path: Path) -> Iterator[Callable[[], Worker]]:
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker.like(queued_app, tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def approve(world: World) -> Batch:
    world.submit(world.batch_a, world.exporter_a)
    world.decide(world.batch_a, world.officer_ntb, Action.APPROVE)
    return world.batch_a


def order(world: World, db: Session, quantity: int, stock: str = "a4-3x7") -> PrintJob:
    job = printing.order_job(db, world.exporter_a, world.batch_a.id,
                             printer_org_id=world.print_org.id, stock=stock,
                             quantity=quantity, net_quantity="1 g")
    db.commit()
    return job


def label_file(db: Session, job: PrintJob, fmt: str = "pdf") -> LabelFile | None:
    db.expire_all()
    from sqlmodel import select

    return db.exec(select(LabelFile).where(LabelFile.job_id == job.id,
                                           LabelFile.format == fmt)).first()


def wait_until(check: Callable[[], Any], timeout: float, what: str,
               worker: Worker | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s" + (
        f"\nworker log:\n{worker.output()[-4000:]}" if worker else ""))


@pytest.fixture
def shop(queued_app: Flask, world: World) -> Client:
    client = Client(queued_app.test_client())
    client.login("printer@test.id")
    return client
