"""Issue 13 §3: an optional error-tracking hook. With SENTRY_DSN pointing at a local HTTP
server standing in for Sentry, an unexpected error in a request reaches its envelope endpoint,
with the request id and without personal data."""

from __future__ import annotations

import gzip
import sys
import threading
import uuid
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sentry_sdk
from flask import Flask

from registry import create_app
from registry.config import ConfigError

SAME_AS_FIXTURE = ("DATABASE_URL", "TESTING", "SECRET_KEY", "UPLOAD_DIR", "KEY_DIR",
                   "KEY_ENCRYPTION_KEY", "RATELIMIT_STORAGE_URI", "FILE_STORE", "S3_BUCKET",
                   "S3_ENDPOINT_URL", "S3_PREFIX")


class Collector(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Received)
        self.posts: list[tuple[str, bytes]] = []
        self.arrived = threading.Event()


class Received(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.server.posts.append((self.path, body))
        self.server.arrived.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def sentry() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        # sentry-sdk is process-wide: close it, so no later test reports anywhere.
        sentry_sdk.get_client().close(timeout=2)
        sentry_sdk.init()
        server.shutdown()
        server.server_close()


def test_an_unexpected_error_reaches_the_error_tracker(app: Flask, sentry: Collector) -> None:
    port = sentry.server_address[1]
    tracked = create_app({**{k: app.config[k] for k in SAME_AS_FIXTURE},
                          "INSTANCE_PATH": app.instance_path,
                          "SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/7",
                          "SENTRY_ENVIRONMENT": "drill"})
    marker = f"kaboom-{uuid.uuid4().hex}"

    def explode() -> None:
        raise RuntimeError(marker)

    tracked.add_url_rule("/explode", "explode", explode)
    try:
        response = tracked.test_client().get("/explode",
                                              headers={"X-Request-ID": "drill-1"})
        assert response.status_code == 500
        assert marker not in response.get_data(as_text=True)  # the visitor sees the 500 page
        sentry_sdk.flush(timeout=10)
        assert sentry.arrived.wait(10), "nothing reached the error tracker"
    finally:
        tracked.extensions["engine"].dispose()
    events = [body for path, body in sentry.posts if marker.encode() in body]
    assert events, [path for path, _ in sentry.posts]
    path, body = next((p, b) for p, b in sentry.posts if marker.encode() in b)
    assert path == "/api/7/envelope/"
    text = body.decode()
    assert '"request_id":"drill-1"' in text.replace(" ", "")
    assert '"environment":"drill"' in text.replace(" ", "")
    assert "/explode" in text


def test_a_dsn_without_the_package_refuses_start(app: Flask,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"SENTRY_DSN is set but sentry-sdk is not installed"):
        create_app({**{k: app.config[k] for k in SAME_AS_FIXTURE},
                    "INSTANCE_PATH": app.instance_path,
                    "SENTRY_DSN": "http://publickey@127.0.0.1:9/7"})


def test_a_malformed_dsn_refuses_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SENTRY_DSN is not a valid DSN"):
        create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True,
                    "DATABASE_URL": f"sqlite:///{tmp_path}/r.sqlite3",
                    "SENTRY_DSN": "not a dsn"})
