"""Issue 13 §2: behind the documented serving setup (deploy/: nginx's proxy settings in front of
gunicorn with deploy/gunicorn.conf.py), slow clients cannot starve the verification page.

Real processes on loopback: Debian's nginx with deploy/nginx/registry-proxy.conf included
verbatim, gunicorn with the shipped config (two gthread workers of four threads, as on a small
machine) and the
app in development mode on SQLite. Slow-header clients send one header line a second; slow
readers fetch the largest anonymous response through a tiny receive window. The same
slow-header clients straight at gunicorn stall the page: that is the failure nginx prevents.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from servers import free_port, granian_command, wait_for_app, wait_for_port

from registry import ROOT

NGINX = Path("/usr/sbin/nginx")
BIN = Path(sys.executable).parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not NGINX.exists(), reason="needs Debian's nginx (/usr/sbin/nginx): "
                       "apt-get install nginx (.ci/run installs it)"),
]

# The verdict page a buyer's phone lands on (the resolver redirects the label URI there): it
# parses the code, looks it up and renders the page (unknown label here: the database is
# fresh).
VERIFY_PATH = "/verify/01/09506000134352/10/ABC/21/1"
WORKERS = 2
THREADS = 4  # deploy/gunicorn.conf.py's default
# The page must answer within this; straight at gunicorn it does not answer at all while the
# slow clients hold every worker thread.
PAGE_TIMEOUT = 3.0


ENV_MISTAKES = {"REQUEST_URI": "/verify/01/09506000134352/10/EVIL/21/1",
                "HTTP_ACCEPT": "application/json"}


@dataclass
class Setup:
    gunicorn_port: int
    nginx_port: int
    granian_port: int
    gunicorn: subprocess.Popen[bytes]


def _nginx_conf(prefix: Path, listen: int, upstream: int, verify: int) -> str:
    # Debian's nginx writes temporary files under /var/lib/nginx unless told: keep every path
    # in the prefix so no root-owned folder is needed. As root, nginx's workers would switch to
    # "nobody", who cannot write into pytest's private temp folder.
    user = "user root root;" if os.geteuid() == 0 else ""
    temp = "\n".join(f"  {kind}_temp_path {prefix / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""{user}
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'error.log'} warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
{temp}
  upstream registry_app {{ server 127.0.0.1:{upstream}; }}
  upstream registry_verify {{ server 127.0.0.1:{verify}; keepalive 8; }}
  server {{
    listen 127.0.0.1:{listen};
    include {ROOT / 'deploy' / 'nginx' / 'registry-proxy.conf'};
  }}
}}
"""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    tmp = tmp_path_factory.mktemp("serving")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "LANG": "C.UTF-8",
           "REGISTRY_ENV": "development", "REGISTRY_INSTANCE": str(tmp / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp / 'registry.sqlite3'}",
           # nginx is the one proxy, as in deploy/registry.env.example.
           "PROXY_HOPS": "1"}
    subprocess.run([str(BIN / "flask"), "--app", "registry", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)
    gport, nport = free_port(), free_port()
    with open(tmp / "gunicorn.log", "wb") as log:
        gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{gport}", "--workers", str(WORKERS), "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    vport = free_port()
    with open(tmp / "granian.log", "wb") as log:
        # Variables named like request fields in the environment (an operator's mistake):
        # granian passes the process environment into every request, wsgi.py removes them.
        granian = subprocess.Popen(granian_command(vport), cwd=ROOT,
                                   env={**env, "GRANIAN_WORKERS": "2", **ENV_MISTAKES},
                                   stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    prefix = tmp / "nginx"
    prefix.mkdir()
    (prefix / "nginx.conf").write_text(_nginx_conf(prefix, nport, gport, vport))
    nginx = subprocess.Popen(
        [str(NGINX), "-p", str(prefix), "-e", str(prefix / "error.log"),
         "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(nport)
        for port, name in ((gport, "gunicorn"), (vport, "granian")):
            wait_for_app(f"http://127.0.0.1:{port}", tmp / f"{name}.log")
        yield Setup(gport, nport, vport, gunicorn)
    finally:
        _stop(nginx)
        _stop(gunicorn)
        _stop(granian)
        shutil.rmtree(prefix, ignore_errors=True)


class SlowClients:
    """Connections that hold a server: slow-header clients send one header line a second and
    never finish; slow readers ask for a response and read it a few hundred bytes a second
    through a receive window of a few kB."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.headers: list[socket.socket] = []
        self.readers: list[socket.socket] = []
        self.received: dict[int, bytes] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)

    def open(self, slow_headers: int, slow_readers: int, read_path: str) -> None:
        for _ in range(slow_headers):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(f"GET {VERIFY_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
            self.headers.append(sock)
        for _ in range(slow_readers):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
            sock.settimeout(5)
            sock.connect(("127.0.0.1", self.port))
            sock.sendall(f"GET {read_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            self.readers.append(sock)
        self.thread.start()

    def _trickle(self) -> None:
        line = 0
        while not self.stop.wait(1.0):
            line += 1
            for sock in self.headers:
                with contextlib.suppress(OSError):  # a server that gave up: counted later
                    sock.sendall(f"X-Slow-{line}: {'x' * 20}\r\n".encode())
            for sock in self.readers:
                with contextlib.suppress(OSError):
                    self.received[sock.fileno()] = (
                        self.received.get(sock.fileno(), b"") + sock.recv(256))

    def headers_still_held(self) -> bool:
        """The slow-header connections are open and unanswered (nobody gave up on them)."""
        for sock in self.headers:
            sock.setblocking(False)
            try:
                if sock.recv(1, socket.MSG_PEEK) is not None:
                    return False  # an answer (408, 400) or EOF
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
        return True

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for sock in self.headers + self.readers:
            sock.close()


@pytest.fixture
def slow_clients() -> Iterator[list[SlowClients]]:
    made: list[SlowClients] = []
    yield made
    for clients in made:
        clients.close()


def page_answers(port: int) -> list[float]:
    """Seconds the verification page and /healthz took; raises Timeout if either stalls."""
    took = []
    for path in (VERIFY_PATH, "/healthz"):
        start = time.monotonic()
        response = requests.get(f"http://127.0.0.1:{port}{path}", timeout=PAGE_TIMEOUT)
        took.append(time.monotonic() - start)
        assert response.status_code == 200, (path, response.status_code)
    return took


def test_slow_clients_cannot_starve_the_verification_page_behind_nginx(
        setup: Setup, slow_clients: list[SlowClients]) -> None:
    # Baseline through nginx: the page and /healthz answer.
    page_answers(setup.nginx_port)

    # Twice as many slow clients as gunicorn has threads: without buffering, each would hold
    # one.
    clients = SlowClients(setup.nginx_port)
    slow_clients.append(clients)
    clients.open(slow_headers=2 * WORKERS * THREADS, slow_readers=2 * WORKERS,
                 read_path="/api/v1/openapi.json")
    time.sleep(2.5)  # a few header lines each; the readers have their first bytes

    for _ in range(3):
        page_answers(setup.nginx_port)
    assert clients.headers_still_held(), "nginx dropped the slow-header clients early"
    assert all(data.startswith(b"HTTP/1.1 200") for data in clients.received.values())
    assert len(clients.received) == 2 * WORKERS

    # (Straight at gunicorn, slow-header clients hold its threads; with gthread how many it
    # takes depends on how the kernel spreads connections over the workers, so that contrast
    # is not asserted here: 40 clients stalled the page in one CI run and not in the next.)
    page_answers(setup.gunicorn_port)


def test_a_restart_after_kill_9_of_the_master_gets_the_port(tmp_path: Path) -> None:
    """After ``kill -9`` of the gunicorn master its workers still hold the listening socket
    (and keep serving the old code); plain gunicorn's idle sync workers notice only at their
    next wake-up (timeout / 2 = 60 s), and a restart meanwhile gives up: "Address already in
    use". With deploy/gunicorn.conf.py the kernel tells each worker at once
    (PR_SET_PDEATHSIG): they exit and the supervisor's restart binds."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "REGISTRY_ENV": "development", "REGISTRY_INSTANCE": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}"}
    port = free_port()
    command = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "wsgi:app"]
    log_path = tmp_path / "gunicorn.log"
    log = open(log_path, "wb")  # noqa: SIM115 (both servers write to it until the end)
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    second = None
    workers: list[int] = []
    try:
        _wait_healthy(port, log_path)
        workers = _children(first.pid)
        assert len(workers) == WORKERS
        first.kill()  # SIGKILL to the master alone, as `kill -9 MASTER_PID`
        first.wait(timeout=5)
        killed = time.monotonic()
        # What systemd's Restart=on-failure does (RestartSec=3): start it again.
        second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        # gunicorn retries a busy port five times, a second apart, then exits.
        while any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in workers):
            assert time.monotonic() - killed < 10, (
                f"orphaned workers {workers} still hold port {port} 10 s after kill -9")
            time.sleep(0.1)
        gone = time.monotonic() - killed
        _wait_healthy(port, log_path, timeout=30, server=second)
        assert set(_children(second.pid)), "the restarted master has no workers"
        print(f"orphans gone {gone:.1f} s after kill -9; restarted server answering "
              f"{time.monotonic() - killed:.1f} s after")
    finally:
        if second is not None:
            _stop(second)
        for pid in workers:  # orphans a failed run leaves behind
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
        log.close()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # The command name (field 2) may hold spaces: ppid is the 2nd field after ")".
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    return True


def _wait_healthy(port: int, log: Path, timeout: float = 60,
                  server: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert server is None or server.poll() is None, (
            "the restarted gunicorn exited:\n" + log.read_text()[-2000:])
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.2)


def _pause(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """``sig`` (SIGSTOP/SIGCONT) to a server's master and its workers."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    for pid in [proc.pid, *map(int, children)]:
        os.kill(pid, sig)


def test_scans_are_answered_by_the_verification_pool_while_gunicorn_is_stuck(
        setup: Setup) -> None:
    """nginx sends label URIs and verification pages to the granian pool (the shipped
    registry-proxy.conf and registry-verify.service): with every gunicorn process frozen, a
    buyer's scan still gets its redirect and its page while an officer's page does not."""
    base = f"http://127.0.0.1:{setup.nginx_port}"
    _pause(setup.gunicorn, signal.SIGSTOP)
    try:
        label = requests.get(f"{base}/01/09506000134352/10/ABC/21/1", allow_redirects=False,
                             headers={"Accept": "text/html"}, timeout=PAGE_TIMEOUT)
        assert label.status_code == 307
        assert label.headers["Location"].endswith("/verify/01/09506000134352/10/ABC/21/1")
        page = requests.get(base + VERIFY_PATH, headers={"Accept": "text/html"},
                            timeout=PAGE_TIMEOUT)
        assert page.status_code == 200
        assert "text/html" in page.headers["Content-Type"]
        with pytest.raises(requests.Timeout):
            requests.get(f"{base}/healthz", timeout=PAGE_TIMEOUT)
    finally:
        _pause(setup.gunicorn, signal.SIGCONT)
    assert requests.get(f"{base}/healthz", timeout=10).status_code == 200


def test_a_percent_encoded_lot_stays_one_segment_through_the_verification_pool(
        setup: Setup) -> None:
    """granian gives the app only the decoded path; nginx's X-Original-URI keeps "A%2FB" one
    lot (registry/web/proxy.py), as gunicorn's RAW_URI does. Straight at granian (no proxy
    header) the lot is the decoded path's. A REQUEST_URI in granian's process environment
    (ENV_MISTAKES) would otherwise stand in for every request's."""
    path = "/verify/01/09506000134352/10/A%2FB/21/1"
    for port in (setup.nginx_port, setup.gunicorn_port):
        page = requests.get(f"http://127.0.0.1:{port}{path}",
                            headers={"Accept": "application/json"}, timeout=PAGE_TIMEOUT)
        assert page.status_code == 200, (port, page.status_code)
        assert page.json()["label"]["lot"] == "A/B"


def test_request_fields_in_the_process_environment_do_not_reach_requests(setup: Setup) -> None:
    """granian copies its process environment into every request's environ; wsgi.py removes
    variables named like request fields (ENV_MISTAKES: a REQUEST_URI that would replace the
    path, an HTTP_ACCEPT that would be a header of every request)."""
    connection = http.client.HTTPConnection("127.0.0.1", setup.granian_port, timeout=10)
    try:  # http.client sends no Accept header of its own
        connection.request("GET", "/verify/01/09506000134352/10/ABC/21/1")
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    assert response.status == 200
    assert response.getheader("Content-Type", "").startswith("text/html")
    assert "ABC" in body and "EVIL" not in body
