"""Issue 14 (the verification pool): under granian, as deploy/systemd/registry-verify.service
runs it, /metrics adds up every worker, and a worker that dies stops adding its live gauges
once granian has replaced it (granian has no ``child_exit`` hook: the new worker clears them,
registry.ops.metrics.forget_dead_workers)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from servers import free_port, granian_command, wait_for_port

from conftest import TEST_KEK
from registry import ROOT

pytestmark = pytest.mark.slow

LABEL = "/verify/01/09506000134352/10/ABC/21/{}"


def scans(base: str) -> float:
    text = requests.get(base + "/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "registry_scans_total")


def workers_of(pid: int) -> list[int]:
    return [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                           text=True).stdout.split()]


def test_two_granian_workers_one_count_and_a_dead_one_forgotten(app: Flask,
                                                                 tmp_path: Path) -> None:
    prom = tmp_path / "prometheus"
    prom.mkdir()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": str(prom),
           "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": app.config["SECRET_KEY"],
           "KEY_ENCRYPTION_KEY": TEST_KEK, "REGISTRY_INSTANCE": str(tmp_path / "instance"),
           "UPLOAD_DIR": str(tmp_path / "uploads"), "PUBLIC_HOST": f"127.0.0.1:{port}",
           "GRANIAN_WORKERS": "2"}
    log = tmp_path / "granian.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(granian_command(port), cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, 60)
        deadline = time.monotonic() + 60
        while len(workers_of(server.pid)) < 2 or not requests.get(base + "/healthz",
                                                                   timeout=10).ok:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        # Each scan is counted by whichever worker answers it; fresh connections, so both
        # workers answer some.
        for serial in range(1, 21):
            page = requests.get(base + LABEL.format(serial), timeout=10,
                                headers={"Accept": "text/html", "Connection": "close"})
            assert page.status_code == 200
        assert [scans(base) for _ in range(6)] == [20.0] * 6

        # Every worker that has scanned holds a live gauge file (its scan buffer depth).
        workers = workers_of(server.pid)
        assert len(workers) == 2, workers
        live = {pid: prom / f"gauge_livesum_{pid}.db" for pid in workers}
        assert all(path.exists() for path in live.values()), sorted(os.listdir(prom))
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:  # granian respawns it (--respawn-failed-workers); it builds the app
            now = workers_of(server.pid)
            if len(now) == 2 and workers[0] not in now:
                try:
                    if requests.get(base + "/healthz", timeout=5).ok and \
                            not live[workers[0]].exists():
                        break
                except requests.RequestException:
                    pass
            assert time.monotonic() < deadline, (now, sorted(os.listdir(prom)),
                                                 log.read_text()[-3000:])
            time.sleep(0.2)
        # What the dead worker counted stays counted; its live gauge is gone.
        assert scans(base) == 20.0
        assert live[workers[1]].exists()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    assert b"Traceback" not in log.read_bytes(), log.read_text()[-3000:]
