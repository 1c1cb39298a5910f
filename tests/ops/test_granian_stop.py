"""The verification pool (granian, deploy/systemd/registry-verify.service) keeps the scans it
buffered when it is stopped: its workers are multiprocessing children, which leave by
``os._exit`` and run no atexit function, so the buffer's last seconds of scans
(registry/verify/scanlog.py) were lost on every graceful stop or restart."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
import requests
from flask import Flask
from servers import free_port, granian_command, wait_for_app, wait_for_port
from sqlmodel import Session, func, select

from conftest import TEST_KEK
from registry import ROOT
from registry.verify.models import Scan

pytestmark = pytest.mark.slow

SCANS = 7


def test_a_graceful_stop_writes_the_buffered_scans(app: Flask, db: Session,
                                                   tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": app.config["DATABASE_URL"],
           "SECRET_KEY": app.config["SECRET_KEY"], "KEY_ENCRYPTION_KEY": TEST_KEK,
           "REGISTRY_INSTANCE": str(tmp_path / "instance"),
           "UPLOAD_DIR": str(tmp_path / "uploads"), "PUBLIC_HOST": f"127.0.0.1:{port}",
           "GRANIAN_WORKERS": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "granian.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(granian_command(port), cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, 60)
        wait_for_app(f"http://127.0.0.1:{port}", log)
        before = db.exec(select(func.count()).select_from(Scan)).one()
        for serial in range(1, SCANS + 1):
            page = requests.get(
                f"http://127.0.0.1:{port}/verify/01/09506000134352/10/ABC/21/{serial}",
                headers={"Accept": "text/html"}, timeout=10)
            assert page.status_code == 200
        # At once, well within the buffer's two seconds: the scans are still in memory.
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Scan)).one() == before + SCANS, \
        log.read_text()[-3000:]
