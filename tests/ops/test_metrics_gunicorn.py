"""Issue 13 §3: under gunicorn, /metrics adds up every worker (prometheus_client's multiprocess
mode with the hooks in registry.ops.metrics), whichever worker answers the scrape."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from servers import free_port, wait_for_app, wait_for_port

from conftest import TEST_KEK
from registry import ROOT

BIN = Path(sys.executable).parent
GUNICORN_CONF = """\
from registry.ops.metrics import gunicorn_child_exit as child_exit
from registry.ops.metrics import gunicorn_on_starting as on_starting
"""

pytestmark = pytest.mark.slow


def about_requests(base: str) -> float:
    text = requests.get(base + "/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "registry_http_requests_total"
               and sample.labels["endpoint"] == "main.about")


def test_two_workers_one_count(app: Flask, tmp_path: Path) -> None:
    prom = tmp_path / "prometheus"
    prom.mkdir()
    # Left by an earlier run: on_starting must clear it, or the scrape fails reading it.
    (prom / "counter_999999.db").write_bytes(b"not a metrics file")
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(GUNICORN_CONF)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": str(prom),
           "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": app.config["SECRET_KEY"],
           "KEY_ENCRYPTION_KEY": TEST_KEK, "REGISTRY_INSTANCE": str(tmp_path / "instance"),
           "UPLOAD_DIR": str(tmp_path / "uploads"), "PUBLIC_HOST": f"127.0.0.1:{port}"}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", str(conf), "--workers", "2", "--timeout", "30",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, 60)
        wait_for_app(base, log)  # two runs on a loaded machine timed out at the first request
        for _ in range(3):
            assert requests.get(base + "/about", timeout=10).ok
        # A request whose headers never end is held in one worker while the next ones are
        # answered; then it ends, and the held one is answered too.
        held = socket.create_connection(("127.0.0.1", port))
        held.sendall(b"GET /about HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)
        for _ in range(4):
            assert requests.get(base + "/about", timeout=10).ok
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.recv(64).startswith(b"HTTP/1.1 200")
        held.close()
        # Every scrape, whichever worker answers it, sees all eight.
        assert [about_requests(base) for _ in range(6)] == [8.0] * 6

        # A worker that dies is replaced; what it counted stays counted.
        workers = [int(p) for p in subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()]
        assert len(workers) == 2, workers
        live = prom / f"gauge_livesum_{workers[0]}.db"  # its scan buffer depth
        assert live.exists()
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True,
                                 text=True).stdout.split()
            if len(now) == 2 and str(workers[0]) not in now:
                break
            time.sleep(0.2)
        assert about_requests(base) == 8.0
        # child_exit: the dead worker's buffer depth no longer adds to the live sum.
        assert not live.exists()
    finally:
        server.terminate()
        server.wait(30)
    assert b"Traceback" not in log.read_bytes(), log.read_text()[-3000:]
