"""Real servers for the operations tests: a redis-server on a free port, a free port, the
verification pool's granian command."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from registry import ROOT
from registry.ops.units import local_command

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def granian_command(port: int) -> list[str]:
    """The verification pool's command line as the shipped unit has it
    (deploy/systemd/registry-verify.service's ExecStart), on ``port`` and this venv."""
    unit = ROOT / "deploy" / "systemd" / "registry-verify.service"
    return local_command(unit, bin_dir=Path(sys.executable).parent, port=port)[0]


def wait_for_app(base: str, log: Path, timeout: float = 90.0) -> None:
    """Until ``base``/healthz answers 200: a server binds its port before its workers have
    built the app, which on a loaded machine takes longer than one request's timeout."""
    import requests  # the operations tests' client; this module is imported by all of them

    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(base + "/healthz", timeout=10).ok:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class RedisServer:
    """A throw-away redis-server (no persistence) that a test can stop and start again on the
    same port, as an outage and its end look to the app."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None
