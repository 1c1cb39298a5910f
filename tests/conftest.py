"""Fixtures: a real database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
migrated with Alembic once per run and emptied between tests, and a CSRF-aware client."""

from __future__ import annotations

import base64
import datetime as dt
import email.policy
import hashlib
import io
import os
import re
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import registry.db.models  # noqa: F401  (every table, so _empty() clears them all)
from registry import create_app
from registry.accounts import second_factor
from registry.accounts import services as accounts
from registry.accounts.models import Organisation, OrgKind, Role, User
from registry.accounts.passwords import PasswordHashing
from registry.catalog import services as catalog
from registry.catalog.certification import Action
from registry.catalog.models import Batch, Document, Product
from registry.catalog.rules import BatchInput, ProductInput
from registry.clock import today, utcnow
from registry.db import make_engine, migrate
from registry.files import FileStore, LocalFileStore, store_for
from registry.plots import rules as plot_rules
from registry.plots import services as plots
from registry.plots.models import Plot
from registry.printing.models import PrintJob
from registry.review import services as review
from registry.signing import kek as kek_module
from registry.signing.kek import Kek
from registry.web.extensions import limiter

PASSWORD = "correct-horse-battery-7"
# A fixed key-encryption key for test apps (base64 of 32 bytes; never a real one).
TEST_KEK = "dGVzdC1rZWstMzItYnl0ZXMtbG9uZy0wMTIzNDU2Nzg="
# Every app the tests make runs queue tasks with Huey's in-process mode (a render runs right
# after the request that asked for it commits), unless it names another queue: tests/queue and
# the multi-server test run the real worker on SQLite and Redis queues.
os.environ.setdefault("QUEUE_URL", "immediate")
# The world alone makes nine users, and test files sign in hundreds of times: Argon2 at its
# production cost (~80 ms a hash) would dominate the suite. Verifying reads the cost stored in
# each hash, so nothing else changes; tests/test_app.py checks the production default.
CHEAP_PASSWORD_HASHING = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 64,
                          "PASSWORD_HASH_PARALLELISM": 1}
# The same cost for the services the tests call themselves (the app's is built from the above).
CHEAP_HASHING = PasswordHashing.from_config(CHEAP_PASSWORD_HASHING)

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])


def xdist_worker_number() -> int:
    """0 for the first (or only) test process, 1 for pytest-xdist's ``gw1`` …"""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs two processes), each process gets a PostgreSQL
    database of its own, ``<TEST_DATABASE_URL's database>_gwN``, created when missing: the
    fixtures drop and recreate its schema, which two processes cannot share. Every reader of
    TEST_DATABASE_URL (fixtures, the multi-server stack, the gunicorn tests) sees it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = os.environ.get("TEST_DATABASE_URL")
    if not worker or not base:
        return
    url = make_url(base)
    name = f"{url.database}_{worker}"
    # The server's maintenance database: TEST_DATABASE_URL's own need not exist.
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["TEST_DATABASE_URL"] = url.set(database=name).render_as_string(
        hide_password=False)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> (
    Iterator[str]
):
    if request.param == "postgres":
        url = os.environ["TEST_DATABASE_URL"]
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'registry.sqlite3'}"
    migrate.upgrade(url)
    yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    quote = engine.dialect.identifier_preparer.quote
    tables = [quote(t.name) for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, :h)"),
                     {"h": "0" * 64})


# ---------------------------------------------------------------- the file store
# Files go to UPLOAD_DIR, or with TEST_FILE_STORE=s3 (or a module's own ``file_store_kind``
# fixture, parametrised over both) to a bucket of moto's S3 server, over real HTTP on loopback.

TEST_BUCKET = "registry-test"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as env:
        # boto3's standard credential chain, as production reads it; moto takes any keys.
        env.setenv("AWS_ACCESS_KEY_ID", "registry-test")
        env.setenv("AWS_SECRET_ACCESS_KEY", "registry-test-secret")
        s3_client(endpoint).create_bucket(Bucket=TEST_BUCKET)
        yield endpoint
    server.stop()


def s3_client(endpoint: str) -> Any:
    """The tests' own client, to look into the bucket past the store under test."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="registry-test",
                        aws_secret_access_key="registry-test-secret")


@pytest.fixture
def file_store_kind() -> str:
    return os.environ.get("TEST_FILE_STORE", "local")


@pytest.fixture
def file_store_config(file_store_kind: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if file_store_kind == "local":
        return {"FILE_STORE": "local"}
    assert file_store_kind == "s3", file_store_kind
    endpoint = request.getfixturevalue("s3_endpoint")
    # One bucket, a prefix per test: no test sees another's objects.
    return {"FILE_STORE": "s3", "S3_BUCKET": TEST_BUCKET, "S3_ENDPOINT_URL": endpoint,
            "S3_REGION": "us-east-1", "S3_PREFIX": f"t-{uuid.uuid4().hex}/"}


def stored_objects(app: Flask) -> list[str]:
    """Every object in the app's store, read past the store: files below UPLOAD_DIR
    (half-written ones included), or the keys under the app's prefix in the bucket."""
    if app.config["FILE_STORE"] == "s3":
        prefix = app.config["S3_PREFIX"]
        listing = s3_client(app.config["S3_ENDPOINT_URL"]).list_objects_v2(
            Bucket=app.config["S3_BUCKET"], Prefix=prefix)
        return sorted(o["Key"].removeprefix(prefix) for o in listing.get("Contents", []))
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(str(Path(folder, name).relative_to(root))
                  for folder, _dirs, names in os.walk(root) for name in names)


def read_object(app: Flask, name: str) -> bytes:
    if app.config["FILE_STORE"] == "s3":
        return s3_client(app.config["S3_ENDPOINT_URL"]).get_object(  # type: ignore[no-any-return]
            Bucket=app.config["S3_BUCKET"], Key=app.config["S3_PREFIX"] + name)["Body"].read()
    return (Path(app.config["UPLOAD_DIR"]) / name).read_bytes()


def write_object(app: Flask, name: str, data: bytes) -> None:
    """Change an object behind the registry's back (a damaged disk, a meddling admin)."""
    if app.config["FILE_STORE"] == "s3":
        s3_client(app.config["S3_ENDPOINT_URL"]).put_object(
            Bucket=app.config["S3_BUCKET"], Key=app.config["S3_PREFIX"] + name, Body=data)
    else:
        (Path(app.config["UPLOAD_DIR"]) / name).write_bytes(data)


def delete_object(app: Flask, name: str) -> None:
    if app.config["FILE_STORE"] == "s3":
        s3_client(app.config["S3_ENDPOINT_URL"]).delete_object(
            Bucket=app.config["S3_BUCKET"], Key=app.config["S3_PREFIX"] + name)
    else:
        (Path(app.config["UPLOAD_DIR"]) / name).unlink()


class Inbox:
    """What a real SMTP server on loopback (aiosmtpd) received: every test's app sends its mail
    there, as production sends to the province's mail server."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = self._controller()

    def _controller(self) -> Any:
        from aiosmtpd.controller import Controller

        return Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @contextmanager
    def down(self) -> Iterator[None]:
        """The mail server does not answer (connections are refused) until the block ends."""
        self.controller.stop()
        try:
            yield
        finally:
            self.controller = self._controller()  # a stopped controller cannot start again
            self.controller.start()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Inbox:
    """The mail this test's app sent (the server's list is emptied for each test)."""
    return smtp_server.inbox


@pytest.fixture
def mail_config(smtp_server: SmtpServer) -> dict[str, Any]:
    smtp_server.inbox.clear()
    return {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port,
            "MAIL_USE_TLS": False, "MAIL_DEFAULT_SENDER": "Registry <registry@example.id>"}


def mail_text(message: EmailMessage) -> str:
    """The plain-text part of a mail, as a mail program shows it."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, message
    return str(part.get_content())


def mail_html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, message
    return str(part.get_content())


@pytest.fixture
def app(database_url: str, engine: Engine, tmp_path: Path,
        file_store_config: dict[str, Any], mail_config: dict[str, Any]) -> Iterator[Flask]:
    _empty(engine)
    app = create_app({
        "DATABASE_URL": database_url,
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "KEY_DIR": str(tmp_path / "keys"),
        "KEY_ENCRYPTION_KEY": TEST_KEK,
        "RATELIMIT_STORAGE_URI": "memory://",
        # No floor under sign-up's answer: tests/accounts/test_enumeration_timing.py sets it.
        "ACCOUNT_ANSWER_SECONDS": 0,
        **CHEAP_PASSWORD_HASHING,
        **file_store_config,
        **mail_config,
    })
    limiter.reset()
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with Session(app.extensions["engine"], expire_on_commit=False) as session:
        yield session


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


# ---------------------------------------------------------------- the second factor
# The world's officers and admins have an authenticator, as the registry demands of them, with
# a seed and recovery codes derived from their e-mail, so a test (or Client.login) can compute
# a code for any of them.


def totp_secret(email: str) -> str:
    return base64.b32encode(hashlib.sha256(f"totp {email}".encode()).digest()[:20]).decode()


def recovery_codes(email: str) -> list[str]:
    seed = hashlib.sha256(f"recovery {email}".encode()).hexdigest()
    return [f"{seed[i * 4:i * 4 + 4]}-{seed[40 + i:44 + i]}-{i:04d}" for i in range(10)]


def world_kek() -> Kek:
    return kek_module.parse(TEST_KEK, "TEST_KEK")


def enrol_second_factor(session: Session, user: User) -> None:
    """Give ``user`` the authenticator of totp_secret(user.email) (flushes, never commits)."""
    second_factor.enrol_with_secret(session, None, user, world_kek(), totp_secret(user.email),
                                    utcnow(), recovery_codes=recovery_codes(user.email))


def fresh_code(engine: Engine, email: str, at: dt.datetime | None = None) -> str:
    """A code the registry accepts now for ``email``, as a user's app shows it: replay
    protection refuses a step at or before the last one accepted, so this takes the earliest
    step after it within the ±1 window (three sign-ins of one user within 30 seconds). Past
    that, a real user would wait for the next code; a test rewinds the user's last accepted
    step instead of sleeping (the replay tests in tests/accounts/test_second_factor.py use
    pyotp directly and see the real rule)."""
    at = at or utcnow()
    totp = pyotp.TOTP(totp_secret(email))
    now = second_factor.step_at(at)
    # The step before only when this step has long to run: the server's clock must still
    # count it inside its window when the request arrives.
    first = now - 1 if at.timestamp() % second_factor.STEP_SECONDS < 20 else now
    with engine.begin() as conn:
        user_id = conn.execute(text('SELECT id FROM "user" WHERE email = :e'),
                               {"e": email}).scalar()
        last = conn.execute(text("SELECT last_step FROM second_factor WHERE user_id = :u"),
                            {"u": user_id}).scalar()
        for step in range(first, now + 2):
            if last is None or step > last:
                return totp.generate_otp(step)
        conn.execute(text("UPDATE second_factor SET last_step = :s WHERE user_id = :u"),
                     {"s": first - 1, "u": user_id})
    return totp.generate_otp(first)


class Browser:
    """A person's browser against a real server over HTTP (requests): cookies, and forms
    posted with their CSRF token, fetched from ``token_from`` (default: the page posted to)
    unless ``token`` is given. The accounts' live tests and the multi-server tests use it."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.http = requests.Session()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)

    def token(self, path: str) -> str:
        match = CSRF_RE.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1) or match.group(2)

    def post(self, path: str, data: dict[str, Any], *, token: str | None = None,
             token_from: str | None = None, files: dict[str, Any] | None = None) -> Any:
        data = {**data, "csrf_token": token or self.token(token_from or path)}
        return self.http.post(self.base + path, data=data, files=files, allow_redirects=False,
                              timeout=60)

    def login(self, email: str, password: str) -> Any:
        return self.post("/login", {"email": email, "password": password})

    def signed_in(self) -> bool:
        """The account's pages answer (a signed-out browser is sent to the login page)."""
        return bool(self.get("/account/password").status_code == 200)

    def download(self, path: str, timeout: float = 300) -> Any:
        """A print job's file as a print shop gets it: the first request has the worker render
        it (303 to the job's page); asking again once it is ready gets the file."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            response = self.get(path)
            if response.status_code != 303 or time.monotonic() > deadline:
                return response
            time.sleep(0.5)


@contextmanager
def database_at(database_url: str, tmp_path: Path, revision: str,
                schema: str) -> Iterator[tuple[str, Engine]]:
    """A registry database migrated to ``revision`` only (a migration's test upgrades it
    further): on PostgreSQL in a schema of its own, on SQLite in a file of its own."""
    admin = None
    if database_url.startswith("postgres"):
        admin = make_engine(database_url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in database_url else "?"
        url = f"{database_url}{sep}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp_path / (schema + '.sqlite3')}"
    migrate.upgrade(url, revision)
    engine = make_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


class Client:
    """A test client that signs in and posts forms with their CSRF token, like a browser."""

    def __init__(self, flask_client: FlaskClient) -> None:
        self.http = flask_client

    def token(self, path: str | None = None) -> str:
        for candidate in [path] if path else ["/about", "/login"]:
            match = CSRF_RE.search(self.http.get(candidate).get_data(as_text=True))
            if match:
                return match.group(1) or match.group(2)
        raise AssertionError(f"no CSRF token on {path or '/about or /login'}")

    def login(self, email: str, password: str = PASSWORD) -> Any:
        """Sign in; for a user with an authenticator also the second step, with a fresh code.
        Returns the last answer (its Location is where the user goes)."""
        response = self.post("/login", {"email": email, "password": password}, token_from="/login")
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        if urlsplit(response.headers["Location"]).path == "/login/second-factor":
            code = fresh_code(self.http.application.extensions["engine"], email)
            response = self.post("/login/second-factor", {"code": code},
                                 token_from="/login/second-factor")
            assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get(path, **kwargs)

    def download(self, path: str, **kwargs: Any) -> Any:
        """A print job's file as a print shop gets it: the first request asks the worker to
        render it and leads to the job's page (303); with the tests' in-process queue the
        render has finished when that request returns, and the page offers the file."""
        response = self.http.get(path, **kwargs)
        if response.status_code == 303 and "/print-shop/jobs/" in response.location:
            page = self.http.get(response.location)
            assert page.status_code == 200, page.get_data(as_text=True)[:1000]
            assert 'data-state="ready"' in page.get_data(as_text=True), \
                page.get_data(as_text=True)[:3000]
            response = self.http.get(path, **kwargs)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, *, token_from: str | None = None,
             **kwargs: Any) -> Any:
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(token_from))
        return self.http.post(path, data=data, **kwargs)


@pytest.fixture
def client(app: Flask) -> Client:
    return Client(app.test_client())


@pytest.fixture
def make_client(app: Flask) -> Any:
    return lambda: Client(app.test_client())


def published_keys(app: Flask) -> list[dict[str, Any]]:
    """The keys document the registry publishes, as an offline verifier would hold it."""
    from registry.signing.keys import keystore

    with app.app_context():
        return keystore().public_keys()


def evidence_pdf(*lines: str, title: str | None = None) -> bytes:
    """A small real one-page PDF, as a scanned certificate would be (no scripts, no actions):
    ``lines`` down the page (by default one, a certificate number), and an optional title in
    its metadata."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    if title is not None:
        pdf.setTitle(title)
    for i, line in enumerate(lines or ("Phytosanitary certificate No. 52/2026",)):
        pdf.drawString(72, 770 - 20 * i, line)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


class World:
    """The cast every access test needs: two exporter companies, officers of the three
    provinces, a print shop and an admin, with one product and one batch per exporter.

    ``submit`` attaches a PDF evidence document first when the batch has none, as the
    registry refuses to submit a batch without evidence. Both products are coffee (HS 0901,
    in the EU Deforestation Regulation's annex), so every batch ``batch`` makes starts with one
    production plot, a point in its origin regency: a coffee batch is submitted only with
    plots."""

    def __init__(self, session: Session, store: FileStore | None = None) -> None:
        self.session = session
        self.store = store or LocalFileStore(tempfile.mkdtemp(prefix="world-uploads-"))
        self.admin_org = self._org(OrgKind.ADMIN, "Admin", None)
        self.admin = self._user("admin@test.id", Role.ADMIN, self.admin_org)
        self.offices = {p: self._org(OrgKind.TRADE_OFFICE, f"Office {p}", p)
                        for p in ("51", "52", "53")}
        self.officer_bali = self._user("officer.bali@test.id", Role.OFFICER, self.offices["51"])
        self.officer_ntb = self._user("officer.ntb@test.id", Role.OFFICER, self.offices["52"])
        self.officer_ntt = self._user("officer.ntt@test.id", Role.OFFICER, self.offices["53"])
        self.print_org = self._org(OrgKind.PRINTER, "Print shop", "51")
        self.printer = self._user("printer@test.id", Role.PRINTER, self.print_org)
        self.company_a = self._org(OrgKind.EXPORTER, "Company A", "52", nib="1234567890123")
        self.company_b = self._org(OrgKind.EXPORTER, "Company B", "53", nib="1234567890124")
        self.exporter_a = self._user("a@test.id", Role.EXPORTER, self.company_a)
        self.exporter_b = self._user("b@test.id", Role.EXPORTER, self.company_b)
        self.product_a = self.product(self.exporter_a, "Madu Sumbawa", "Sumbawa Honey")
        self.product_b = self.product(self.exporter_b, "Kopi Bajawa", "Bajawa Coffee")
        # Company A sources from NTB (52.04 Sumbawa), company B from NTT (53.09 Ngada).
        self.batch_a = self.batch(self.exporter_a, self.product_a, "A-LOT-1", "52.04")
        self.batch_b = self.batch(self.exporter_b, self.product_b, "B-LOT-1", "53.09")
        self.plot_a = plots.list_plots(session, self.batch_a)[0]
        session.commit()

    def _org(self, kind: OrgKind, name: str, province: str | None, nib: str | None = None) -> (
        Organisation
    ):
        org = Organisation(kind=kind, name=name, province_code=province, nib=nib)
        self.session.add(org)
        self.session.flush()
        return org

    def _user(self, email: str, role: Role, org: Organisation) -> User:
        user = accounts.create_user(self.session, None, email=email, name=email.split("@")[0],
                                    role=role, organisation_id=org.id, password=PASSWORD,
                                    hashing=CHEAP_HASHING)
        if second_factor.required_for(user):
            enrol_second_factor(self.session, user)
        return user

    def product(self, exporter: User, name_id: str, name_en: str, gtin: str | None = None) -> (
        Product
    ):
        return catalog.create_product(self.session, exporter, ProductInput(
            name_id=name_id, name_en=name_en, category="agriculture", hs_code="090111",
            gtin=gtin))

    def batch(self, exporter: User, product: Product, lot: str, regency: str) -> Batch:
        batch = catalog.create_batch(self.session, exporter, batch_input(product, lot, regency))
        if plots.eudr_scope(self.session, batch):
            self.add_plot(batch, exporter)
        return batch

    def attach_evidence(self, batch: Batch, exporter: User, kind: str = "phytosanitary",
                        is_public: bool = False) -> Document:
        doc, _stored = catalog.add_document(
            self.session, exporter, batch.id, kind=kind, filename=f"{kind}.pdf",
            data=evidence_pdf(), is_public=is_public, store=self.store,
            max_bytes=10 * 1024 * 1024, max_pixels=40_000_000)
        self.session.refresh(batch)
        return doc

    def add_plot(self, batch: Batch, exporter: User) -> Plot:
        """A 2 ha plot, a point inside the batch's origin regency."""
        centre = plot_rules.regency_shapes()[batch.origin_regency_code].representative_point()
        parsed = plot_rules.parse_text(f"{centre.y:.6f}, {centre.x:.6f}")
        return plots.add_plots(self.session, exporter, batch.id, parsed, plots.PlotInput(
            declared_ha=Decimal("2"), production_place="Desa Batu Dulang",
            producer_name="Koperasi Batu Dulang", production_start=today() - dt.timedelta(
                days=120), production_end=today() - dt.timedelta(days=10)))[0]

    def submit(self, batch: Batch, exporter: User) -> Batch:
        if not catalog.list_documents(self.session, batch):
            self.attach_evidence(batch, exporter)
        if (plots.eudr_scope(self.session, batch)
                and not plots.plot_count(self.session, batch.id)):
            self.add_plot(batch, exporter)
        self.session.refresh(batch)
        catalog.submit_batch(self.session, exporter, batch.id)
        self.session.commit()
        return batch

    def decide(self, batch: Batch, officer: User, action: Action, **kwargs: Any) -> None:
        self.session.refresh(batch)
        if action is Action.APPROVE:
            kwargs.setdefault("valid_until", today() + dt.timedelta(days=365))
        if action in (Action.REJECT, Action.REVOKE, Action.SUSPEND):
            kwargs.setdefault("reason", "test reason")
        review.decide(self.session, officer, batch.id, action=action,
                      expected_version=batch.version, **kwargs)
        self.session.commit()
        self.session.refresh(batch)


def batch_input(product: Product, lot: str, regency: str, **overrides: Any) -> BatchInput:
    values: dict[str, Any] = {
        "product_id": product.id, "lot_code": lot, "quantity": Decimal("1200"), "unit": "kg",
        "production_date": today() - dt.timedelta(days=10),
        "best_before": today() + dt.timedelta(days=300), "origin_regency_code": regency,
        "producer": "Koperasi Batu Dulang", "hub": "benoa", "destination_country": "NL",
        "declared_value_idr": 540_000_000,
    }
    values.update(overrides)
    return BatchInput(**values)


@pytest.fixture
def world(db: Session, app: Flask) -> World:
    # Inside the app, as a request or a CLI command: its users' passwords are hashed at the
    # test app's cost.
    with app.app_context():
        return World(db, store_for(app))


def batch_form(product_id: int, lot: str = "NEW-LOT-1", **overrides: Any) -> dict[str, Any]:
    """The batch form as a browser posts it."""
    data = {
        "product_id": str(product_id), "lot_code": lot, "quantity": "950.5", "unit": "kg",
        "production_date": (today() - dt.timedelta(days=3)).isoformat(), "best_before": "",
        "origin_regency_code": "52.04", "producer": "Koperasi Batu Dulang", "hub": "benoa",
        "destination_country": "JP", "declared_value_idr": "123000000",
    }
    data.update(overrides)
    return data


def decode_qr_codes(pdf: bytes, dpi: int = 150) -> list[str]:
    """Every QR code on every page, rasterised at ``dpi`` and decoded from the pixels."""
    import pypdfium2
    import zxingcpp

    doc = pypdfium2.PdfDocument(pdf)
    found: list[str] = []
    try:
        for page in doc:
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            # Model 2 QR only: in zxing-cpp 3 "QRCode" is a family that also reads Micro QR
            # and rMQR, and once found a 6-digit one in a label's pattern (flaky CI failure).
            found += [r.text for r in zxingcpp.read_barcodes(
                image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)]
    finally:
        doc.close()
    return found


def order_and_download(exporter: Client, printer: Client, world: World, db: Session,
                       batch: Batch, quantity: int = 3) -> bytes:
    """Order ``quantity`` labels of ``batch`` as the exporter (A4 3×7, 500 g each) and return
    the job's PDF as the print shop downloads it."""
    response = exporter.post(f"/batches/{batch.id}/labels", {
        "printer_org_id": str(world.print_org.id), "stock": "a4-3x7",
        "quantity": str(quantity), "net_quantity": "500 g"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    job = db.exec(select(PrintJob).where(PrintJob.batch_id == batch.id)
                  .order_by(PrintJob.id.desc())).first()  # type: ignore[union-attr]
    assert job is not None
    pdf = printer.download(f"/print-shop/jobs/{job.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    return pdf.get_data()  # type: ignore[no-any-return]


# Every variable production insists on (issue 12 §3), set to values that pass its checks; the
# servers behind them need not exist, as create_app connects to none of them.
PRODUCTION_CONFIG: dict[str, Any] = {
    "ENV": "production",
    "SECRET_KEY": "a-production-secret-key-of-sufficient-length-0123456789",
    "DATABASE_URL": "postgresql://registry@db.internal:5432/registry",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "PUBLIC_HOST": "cek.example.id",
    "KEY_ENCRYPTION_KEY": "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8M=",
    "FILE_STORE": "s3",
    "S3_BUCKET": "registry-files",
    "PROXY_HOPS": 1,
    "QUEUE_URL": "redis://cache.internal:6379/1",
    "MAIL_BACKEND": "smtp",
    "MAIL_SERVER": "mail.example.id",
    "MAIL_DEFAULT_SENDER": "Registry <registry@example.id>",
}
