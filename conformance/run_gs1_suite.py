"""Run GS1's own resolver conformance test suite against a label of this registry, offline.

GS1's suite (``gs1/GS1DL-resolver-testsuite``: ``GS1DigitalLinkResolverTestSuite.js``, the GS1
Digital Link toolkit and the PHP helper ``tester.php``) is not part of this repository: check it
out once, outside it, and point ``--suite`` at it (default /work/gs1suite)::

    git clone https://github.com/gs1/GS1DL-resolver-testsuite /work/gs1suite

It also needs a few files that the hosted suite loads from the web; put them in ``--assets``
(default /work/gs1suite-assets; see conformance/README.md for where each comes from)::

    ajv7.min.js                 the page's JSON-schema validator (npm package ajv-dist)
    gs1-linkset-schema.json     https://gs1.github.io/linkset/gs1-linkset-schema.json
    description-file-schema.json https://ref.gs1.org/standards/resolver/description-file-schema
    linktypes.json              https://ref.gs1.org/voc/data/linktypes

Then, from the repository root::

    .venv/bin/python conformance/run_gs1_suite.py            # a fresh registry, one label
    .venv/bin/python conformance/run_gs1_suite.py --server gunicorn   # the other server
    .venv/bin/python conformance/run_gs1_suite.py --json out.json --keep /tmp/gs1run
    .venv/bin/python conformance/run_gs1_suite.py --url https://HOST/01/…?s=… [--cafile PEM]

What it does (every server is started here, on 127.0.0.1, and stopped at the end):

1. Without ``--url``: a fresh registry in a temporary folder (SQLite): ``flask --app registry
   db upgrade``, ``keys ensure``, ``demo``; the demo exporter of NTB orders one label of an
   approved batch (``registry.printing.services.order_job``) and its URI is made as the label
   renderer makes it (``label_source(...).labels(signer, n, n)``), with
   ``PUBLIC_HOST=127.0.0.1:<port>`` and ``PUBLIC_SCHEME=https``. It is served over TLS with a
   self-signed certificate made here, so the label's host is the server's, by
   ``--server``: ``granian`` (default), the production server of ``/01/…`` and ``/verify/…``,
   started with the ``ExecStart`` flags and ``Environment`` of the verification pool's unit
   (``deploy/systemd/registry-verify.service``, read at run time) plus
   ``--ssl-certificate/--ssl-keyfile`` (in production nginx ends TLS in front of it); or
   ``gunicorn`` with the shipped ``deploy/gunicorn.conf.py`` and ``--certfile/--keyfile``.
2. ``php -S`` serves the suite's ``tester.php`` on another loopback port; PHP's curl and
   stream wrappers trust the self-signed certificate (``curl.cainfo``, ``openssl.cafile``),
   nothing else is relaxed.
3. Headless Debian chromium (Playwright, ``executable_path``) opens a small page that loads the
   suite's scripts and calls its ``testDL(uri)``, exactly as GS1's hosted page does. The page's
   requests are answered by ``page.route``: the suite's files and the assets from disk, the
   helper's hard-coded address (``https://philarcher.org/gs1/tester.php``) from the local
   ``php -S``, the registry's own address goes through to its server (certificate errors
   ignored, as a browser user who accepted the certificate would), and anything else is
   refused and listed in the report.
4. Prints every test's id, result (pass / fail / warn) and message, and the totals; exits 1
   unless every test passed with no warning (2 if the run itself could not be made).
   ``--json FILE`` writes the same, with the label URI, what was served and what was refused.
"""

# A tool that starts local servers (php, granian or gunicorn, flask) and asks them over loopback, as
# bench/ does (which pyproject.toml exempts from "S" as a whole).

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import html
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from registry.ops.units import UnitError, local_command

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_SUITE = Path("/work/gs1suite")
DEFAULT_ASSETS = Path("/work/gs1suite-assets")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync",
                 # GS1's page and the resolver it tests are on the internet; here both are on
                 # loopback, and chromium's Local Network Access checks refuse the page's own
                 # fetches (TLSCheck, rdFileCheck) with "Permission was denied for this request
                 # to access the `loopback` address space". Those checks are not the suite's.
                 "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,"
                 "PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests"]
SUITE_SCRIPT = "GS1DigitalLinkResolverTestSuite.js"
TOOLKIT_SCRIPT = "GS1DigitalLinkToolkit.js"
HELPER = "tester.php"
SUITE_FILES = (SUITE_SCRIPT, TOOLKIT_SCRIPT, HELPER)

# The suite's external addresses (read from GS1DigitalLinkResolverTestSuite.js) and the
# local file that answers each. The helper's address is answered by php -S.
HELPER_URL = "https://philarcher.org/gs1/tester.php"
EXTERNAL = {
    "https://ref.gs1.org/standards/resolver/description-file-schema":
        ("description-file-schema.json", "application/json"),
    "https://gs1.github.io/linkset/gs1-linkset-schema.json":
        ("gs1-linkset-schema.json", "application/json"),
    "https://ref.gs1.org/voc/data/linktypes": ("linktypes.json", "application/json"),
}
AJV = "ajv7.min.js"  # GS1's page loads it from its own site; window.ajv7 is what the suite uses
ASSETS = (AJV, *(name for name, _ in EXTERNAL.values()))

# The verification pool's unit: its ExecStart and Environment are how granian is started here.
VERIFY_UNIT = ROOT / "deploy" / "systemd" / "registry-verify.service"
SERVERS = ("granian", "gunicorn")

DEMO_EXPORTER = "exporter.ntb@demo.test"
RUN_TIMEOUT = 300  # seconds for testDL() to finish; each helper request has curl's 10 s


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class RunError(RuntimeError):
    """The run could not be made (missing suite, a server that did not start, …)."""


# ---------------------------------------------------------------------------------- inputs


def suite_problems(suite: Path) -> list[str]:
    missing = [name for name in SUITE_FILES if not (suite / name).is_file()]
    if not missing:
        return []
    return [f"GS1's suite is not at {suite} (missing {', '.join(missing)}). Check it out "
            f"outside the repository, e.g.\n    git clone "
            f"https://github.com/gs1/GS1DL-resolver-testsuite {suite}\n  or pass --suite DIR."]


def asset_problems(assets: Path) -> list[str]:
    missing = [name for name in ASSETS if not (assets / name).is_file()]
    if not missing:
        return []
    how = {
        AJV: "npm pack ajv-dist@8 && tar xzf ajv-dist-*.tgz package/dist/ajv7.min.js",
        "gs1-linkset-schema.json": "gs1-linkset-schema.json of github.com/gs1/linkset "
                                   "(served at https://gs1.github.io/linkset/)",
        "description-file-schema.json": "https://ref.gs1.org/standards/resolver/"
                                        "description-file-schema (see conformance/README.md)",
        "linktypes.json": "https://ref.gs1.org/voc/data/linktypes, or --derive-linktypes "
                          "from GS1's vocabulary (github.com/gs1/WebVoc, gs1Voc.jsonld)",
    }
    lines = [f"missing in {assets} (--assets DIR):"]
    lines += [f"    {name}: {how[name]}" for name in missing]
    return ["\n".join(lines)]


def derive_linktypes(vocabulary: Path, out: Path) -> int:
    """GS1's list of link types (the shape of https://ref.gs1.org/voc/data/linktypes: name ->
    title, description, status) from the GS1 Web Vocabulary's JSON-LD: every property declared
    a sub-property of gs1:linkType."""
    graph = json.loads(vocabulary.read_text("utf-8-sig"))["@graph"]
    found: dict[str, dict[str, str]] = {}

    def text(value: Any) -> str:
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, dict)
                          and v.get("@language") == "en"), value[0] if value else "")
        return value.get("@value", "") if isinstance(value, dict) else str(value or "")

    for node in graph:
        parents = node.get("rdfs:subPropertyOf")
        parents = parents if isinstance(parents, list) else [parents]
        if not any(isinstance(p, dict) and p.get("@id") == "gs1:linkType" for p in parents):
            continue
        name = str(node["@id"]).removeprefix("gs1:")
        found[name] = {"title": text(node.get("rdfs:label")),
                       "description": text(node.get("rdfs:comment")),
                       "status": text(node.get("sw:term_status"))}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(sorted(found.items())), indent=2) + "\n", "utf-8")
    return len(found)


def tool_problems() -> list[str]:
    problems = []
    if shutil.which("php") is None:
        problems.append("php not found: apt-get install -y php-cli php-curl")
    elif subprocess.run(["php", "-r", "exit(function_exists('curl_init') ? 0 : 1);"],
                        capture_output=True, timeout=30).returncode != 0:
        problems.append("PHP has no curl extension (tester.php needs it): "
                        "apt-get install -y php-curl")
    if not Path(CHROMIUM).exists():
        problems.append(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is missing from this Python (the dev extra, "
                        "requirements/dev.lock); its browser download is not needed")
    return problems


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], name: str, log_path: Path,
                  timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RunError(f"{name} exited ({proc.returncode}); see {log_path}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise RunError(f"{name} did not listen on 127.0.0.1:{port} in {timeout:.0f} s; "
                   f"see {log_path}")


@dataclass
class Proc:
    """A server started by this script: ``stop`` ends it and its own process group only."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # its own session, made at start
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def start(name: str, cmd: list[str], env: dict[str, str] | None, log_path: Path,
          cwd: Path | None = None) -> Proc:
    out = log_path.open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    out.close()
    return Proc(name, proc, log_path)


def self_signed(workdir: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost), valid for a day, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "cert.pem", workdir / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


# -------------------------------------------------------------------------------- registry


def registry_env(workdir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REGISTRY_", "DATABASE_", "FLASK_"))}
    instance = workdir / "instance"
    env.update({
        # Development mode on SQLite (production refuses SQLite and a loopback PUBLIC_HOST);
        # the resolver answers the same in both modes, only HSTS differs.
        "REGISTRY_ENV": "development",
        "REGISTRY_INSTANCE": str(instance),
        "DATABASE_URL": f"sqlite:///{(instance / 'registry.sqlite3').as_posix()}",
        "UPLOAD_DIR": str(instance / "uploads"),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "KEY_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "PUBLIC_HOST": f"127.0.0.1:{port}",
        "PUBLIC_SCHEME": "https",
        "WEB_CONCURRENCY": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def flask(env: dict[str, str], *args: str, workdir: Path) -> str:
    cmd = [str(BIN / "flask"), "--app", "registry", *args]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    with (workdir / "setup.log").open("a", encoding="utf-8") as out:
        out.write(f"$ flask {' '.join(cmd[1:])}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        raise RunError(f"`flask {' '.join(args)}` failed ({done.returncode}): "
                       f"{(done.stderr or done.stdout).strip()[-800:]}")
    return done.stdout.strip()


def print_label_uri() -> None:
    """(Run in a child process with the registry's environment.) Order one label of an
    approved batch as the demo exporter and print its URI, signed as the renderer signs."""
    sys.path.insert(0, str(ROOT))
    from sqlmodel import Session, select

    from registry import create_app
    from registry.accounts.models import Organisation, OrgKind, User
    from registry.catalog.models import Batch, Product
    from registry.printing import services as printing
    from registry.signing.keys import signer

    app = create_app()
    with app.app_context(), Session(app.extensions["engine"], expire_on_commit=False) as s:
        exporter = s.exec(select(User).where(User.email == DEMO_EXPORTER)).one()
        printer = s.exec(select(Organisation).where(Organisation.kind == OrgKind.PRINTER)
                         .order_by(Organisation.id)).first()
        batches = s.exec(select(Batch).where(Batch.organisation_id == exporter.organisation_id)
                         .order_by(Batch.id)).all()
        batch = next((b for b in batches if printing.can_print(b)), None)
        if printer is None or batch is None:
            raise SystemExit("demo data has no print shop or no printable batch")
        job = printing.order_job(s, exporter, batch.id, printer_org_id=printer.id,
                                 stock="a4-3x7", quantity=1, net_quantity="500 g")
        s.commit()
        product = s.get(Product, batch.product_id)
        assert product is not None
        source = printing.label_source(batch, product, net_quantity=job.net_quantity,
                                       host=app.config["PUBLIC_HOST"],
                                       scheme=app.config["PUBLIC_SCHEME"])
        label = next(iter(source.labels(signer(), job.serial_first, job.serial_first)))
        print(json.dumps({"uri": label.qr_uri, "job": job.id, "lot": batch.lot_code,
                          "product": product.name_en}))


@dataclass
class Registry:
    uri: str
    cafile: Path | None
    origin: str
    facts: dict[str, Any] = field(default_factory=dict)
    server: Proc | None = None


def server_command(server: str, port: int, cert: Path, key: Path,
                   workdir: Path) -> tuple[list[str], dict[str, str]]:
    """The command line (and the environment it adds) that serves the registry over TLS on
    127.0.0.1:``port``: granian with the verification pool's flags (the production server of
    /01/… and /verify/…), or gunicorn with the shipped deploy/gunicorn.conf.py."""
    if server == "gunicorn":
        return [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}",
                "--certfile", str(cert), "--keyfile", str(key), "wsgi:app"], {}
    argv, env = local_command(VERIFY_UNIT, bin_dir=BIN, port=port)
    # In production nginx ends TLS and talks plain HTTP to granian; here granian itself
    # speaks TLS, as the suite needs an https label URI (the key is PKCS#8, as granian needs).
    argv[-1:-1] = ["--ssl-certificate", str(cert), "--ssl-keyfile", str(key)]
    # The unit's RuntimeDirectory (ExecStartPre makes the folder); here a folder of the run.
    metrics = workdir / "prometheus"
    metrics.mkdir(exist_ok=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    return argv, env


def start_registry(workdir: Path, server_name: str) -> Registry:
    port = free_port()
    cert, key = self_signed(workdir)
    env = registry_env(workdir, port)
    log("registry: db upgrade, keys ensure, demo")
    flask(env, "db", "upgrade", workdir=workdir)
    flask(env, "keys", "ensure", workdir=workdir)
    flask(env, "demo", workdir=workdir)
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--print-label-uri"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RunError(f"could not make a label URI: {done.stderr.strip()[-800:]}")
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    cmd, server_env = server_command(server_name, port, cert, key, workdir)
    server_log = workdir / f"{server_name}.log"
    server = start(server_name, cmd, {**env, **server_env}, server_log, cwd=ROOT)
    origin = f"https://127.0.0.1:{port}"
    try:
        wait_ready(origin + "/.well-known/gs1resolver", cert, server, server_log)
    except BaseException:
        server.stop()
        raise
    facts["server"] = server_name
    facts["server_command"] = cmd
    log(f"registry: {origin} ({server_name}, TLS, self-signed); label {facts['uri']}")
    return Registry(uri=facts["uri"], cafile=cert, origin=origin, facts=facts, server=server)


def wait_ready(url: str, cafile: Path, server: Proc, log_path: Path) -> None:
    context = ssl.create_default_context(cafile=str(cafile))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RunError(f"{server.name} exited ({server.proc.returncode}); "
                           f"see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=3, context=context) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RunError(f"the registry did not answer {url} in 60 s; see {log_path}")


# ----------------------------------------------------------------------------------- suite

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><title>GS1 resolver test suite (local)</title>
<script src="/suite/{ajv}"></script>
<script src="/suite/{toolkit}"></script>
<script src="/suite/{suite}"></script>
</head><body>
<img id="rotatingcircle" alt="" style="visibility:hidden">
<section id="gs1ResolverTests"></section>
</body></html>
"""


@dataclass
class Traffic:
    """What the page asked for, and how it was answered."""

    served: dict[str, int] = field(default_factory=dict)      # external URL -> times
    helper_calls: list[str] = field(default_factory=list)     # the helper's test=… queries
    refused: list[str] = field(default_factory=list)          # external, no local copy
    registry: int = 0                                          # straight to the registry
    console: list[str] = field(default_factory=list)
    in_flight: int = 0
    last_change: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def moved(self, delta: int) -> None:
        with self.lock:
            self.in_flight += delta
            self.last_change = time.monotonic()


def run_suite(suite: Path, assets: Path, registry: Registry, workdir: Path,
              timeout: float) -> tuple[list[dict[str, str]], Traffic]:
    from playwright.sync_api import Route, sync_playwright

    php_port = free_port()
    php_log = workdir / "php.log"
    php_cmd = ["php", "-S", f"127.0.0.1:{php_port}", "-t", str(suite)]
    if registry.cafile:
        # tester.php's curl (and get_headers) verify certificates: trust this one, no more.
        php_cmd[1:1] = ["-d", f"curl.cainfo={registry.cafile}",
                        "-d", f"openssl.cafile={registry.cafile}"]
    php = start("php", php_cmd, None, php_log)
    try:
        wait_for_port(php_port, php.proc, "php -S", php_log)
        page_origin = f"http://127.0.0.1:{php_port}"
        files = {
            "/index.html": (PAGE.format(ajv=AJV, toolkit=TOOLKIT_SCRIPT,
                                        suite=SUITE_SCRIPT).encode(), "text/html"),
            f"/suite/{AJV}": ((assets / AJV).read_bytes(), "text/javascript"),
            f"/suite/{TOOLKIT_SCRIPT}": ((suite / TOOLKIT_SCRIPT).read_bytes(),
                                         "text/javascript"),
            f"/suite/{SUITE_SCRIPT}": ((suite / SUITE_SCRIPT).read_bytes(), "text/javascript"),
        }
        traffic = Traffic()
        cors = {"access-control-allow-origin": "*"}

        def handle(route: Route) -> None:
            url = route.request.url
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin == registry.origin:
                traffic.registry += 1
                route.continue_()
            elif origin == page_origin and parts.path in files:
                body, kind = files[parts.path]
                route.fulfill(status=200, body=body, content_type=kind)
            elif url.split("?")[0] == HELPER_URL:
                # GS1 hosts the helper on another origin than the page; its server must send
                # CORS headers (tester.php's own line is commented out), so this does too.
                traffic.helper_calls.append(parts.query)
                response = route.fetch(url=f"{page_origin}/{HELPER}?{parts.query}",
                                       timeout=60_000)
                with (workdir / "helper.jsonl").open("a", encoding="utf-8") as out:
                    out.write(json.dumps({"query": parts.query,
                                          "answer": response.text()}) + "\n")
                route.fulfill(response=response, headers={**response.headers, **cors})
            elif url.split("?")[0] in EXTERNAL:
                name, kind = EXTERNAL[url.split("?")[0]]
                traffic.served[url] = traffic.served.get(url, 0) + 1
                route.fulfill(status=200, body=(assets / name).read_bytes(), content_type=kind,
                              headers=cors)
            else:
                traffic.refused.append(f"{route.request.method} {url}")
                route.abort("blockedbyclient")

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True)
            try:
                context = browser.new_context(ignore_https_errors=True, locale="en-US")
                context.on("request", lambda _r: traffic.moved(+1))
                context.on("requestfinished", lambda _r: traffic.moved(-1))
                context.on("requestfailed", lambda _r: traffic.moved(-1))
                page = context.new_page()
                page.on("console", lambda m: traffic.console.append(f"{m.type}: {m.text}"))
                page.on("pageerror", lambda e: traffic.console.append(f"pageerror: {e}"))
                page.route("**/*", handle)
                page.goto(f"{page_origin}/index.html")
                log(f"suite: testDL({registry.uri})")
                page.evaluate("""uri => { window.__gs1done = null;
                    testDL(uri).then(() => { window.__gs1done = 'ok'; },
                                     e => { window.__gs1done = 'error: ' + e; }); }""",
                              registry.uri)
                page.wait_for_function("window.__gs1done !== null", timeout=timeout * 1000,
                                       polling=250)
                outcome = page.evaluate("window.__gs1done")
                if outcome != "ok":
                    traffic.console.append(f"testDL: {outcome}")
                # rdFileCheck and TLSCheck are not awaited by testDL: let every request end.
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with traffic.lock:
                        idle = (traffic.in_flight <= 0
                                and time.monotonic() - traffic.last_change > 2)
                    if idle:
                        break
                    page.wait_for_timeout(250)
                results = page.evaluate("""() => resultsArray.map(r => ({
                    id: r.id, status: r.status, test: r.test, msg: String(r.msg)}))""")
                page.screenshot(path=str(workdir / "suite.png"), full_page=True)
                (workdir / "suite.html").write_text(page.content(), "utf-8")
            finally:
                browser.close()
        return results, traffic
    finally:
        php.stop()


# ---------------------------------------------------------------------------------- report


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def report(results: list[dict[str, str]]) -> dict[str, int]:
    totals = {"pass": 0, "fail": 0, "warn": 0}
    width = max((len(r["id"]) for r in results), default=10)
    for r in results:
        totals[r["status"]] = totals.get(r["status"], 0) + 1
        print(f"{r['status'].upper():<5} {r['id']:<{width}}  {plain(r['msg'])}")
        print(f"      {'':<{width}}  ({plain(r['test'])})")
    totals["total"] = len(results)
    print(f"\n{totals['pass']} pass, {totals['fail']} fail, {totals['warn']} warn "
          f"of {totals['total']} tests")
    return totals


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", type=Path, default=DEFAULT_SUITE,
                   help=f"checkout of gs1/GS1DL-resolver-testsuite (default {DEFAULT_SUITE})")
    p.add_argument("--assets", type=Path, default=DEFAULT_ASSETS,
                   help=f"local copies of the suite's external files (default {DEFAULT_ASSETS})")
    p.add_argument("--server", choices=SERVERS, default=SERVERS[0],
                   help="what serves the fresh registry: granian with the verification pool's "
                        "flags (default: production serves /01/… and /verify/… with it) or "
                        "gunicorn with deploy/gunicorn.conf.py")
    p.add_argument("--url", help="test this label URI of a running registry instead of "
                                 "starting one")
    p.add_argument("--cafile", type=Path,
                   help="with --url: a PEM certificate for PHP's curl to trust (self-signed)")
    p.add_argument("--json", type=Path, help="write the results as JSON to this file")
    p.add_argument("--keep", type=Path,
                   help="keep the run's folder (logs, database, certificate, screenshot) here")
    p.add_argument("--timeout", type=float, default=RUN_TIMEOUT,
                   help=f"seconds for the suite to finish (default {RUN_TIMEOUT})")
    p.add_argument("--derive-linktypes", type=Path, metavar="GS1VOC_JSONLD",
                   help="write ASSETS/linktypes.json from GS1's vocabulary and exit")
    p.add_argument("--print-label-uri", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.print_label_uri:
        print_label_uri()
        return 0
    if args.derive_linktypes:
        count = derive_linktypes(args.derive_linktypes, args.assets / "linktypes.json")
        print(f"{args.assets / 'linktypes.json'}: {count} link types")
        return 0

    problems = suite_problems(args.suite) + asset_problems(args.assets) + tool_problems()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        workdir = args.keep
    else:
        workdir = Path(tempfile.mkdtemp(prefix="gs1suite-run-"))
    registry: Registry | None = None
    try:
        if args.url:
            parts = urlsplit(args.url)
            registry = Registry(uri=args.url, cafile=args.cafile,
                                origin=f"{parts.scheme}://{parts.netloc}")
        else:
            registry = start_registry(workdir, args.server)
        results, traffic = run_suite(args.suite, args.assets, registry, workdir, args.timeout)
    except (RunError, UnitError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if registry and registry.server:
            registry.server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    served_by = f" (served by {registry.facts['server']})" if "server" in registry.facts else ""
    print(f"GS1 resolver test suite ({args.suite}, commit {suite_commit(args.suite)}) "
          f"against {registry.uri}{served_by}\n")
    totals = report(results)
    if any(r["id"] == "validLinkset" and r["status"] != "pass" for r in results):
        print("note: the linkset did not validate, so the suite skipped its linkset tests "
              "(default link, a redirect per link type, ratified link types)")
    print("\nserved from local copies: "
          + ", ".join(f"{url} ({n}x)" for url, n in sorted(traffic.served.items()))
          + f"; helper (php -S) {len(traffic.helper_calls)} calls; "
          f"straight to the registry {traffic.registry} requests")
    if traffic.refused:
        print("refused (no local copy): " + "; ".join(traffic.refused))
    errors = [line for line in traffic.console if line.startswith(("error", "pageerror",
                                                                   "testDL"))
              or "Error" in line]
    if errors:
        print("browser console errors:\n  " + "\n  ".join(errors[:20]))
    if args.keep:
        print(f"logs, database, screenshot: {workdir}")
    if args.json:
        args.json.write_text(json.dumps({
            "suite": str(args.suite), "suite_commit": suite_commit(args.suite),
            "label_uri": registry.uri, "registry": registry.facts,
            "totals": totals, "results": results,
            "assets": {name: sha256(args.assets / name) for name in ASSETS},
            "served": traffic.served, "helper_calls": traffic.helper_calls,
            "refused": traffic.refused, "console": traffic.console,
        }, indent=2) + "\n", "utf-8")
    return 0 if totals["pass"] == totals["total"] and totals["total"] > 0 else 1


def suite_commit(suite: Path) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["git", "-C", str(suite), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        if done.returncode == 0:
            return done.stdout.strip()
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
