"""Behind nginx the verification pool (granian) gets only the decoded path; the request line as
the reader sent it comes in nginx's ``X-Original-URI`` (registry/web/proxy.py), used with
``PROXY_HOPS`` and only when it is this request's path and query."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from conftest import TEST_KEK
from registry import create_app


@pytest.fixture
def proxied(tmp_path: Path, database_url: str, app: Flask) -> Iterator[Flask]:
    behind = create_app({
        "DATABASE_URL": database_url, "TESTING": True, "PROXY_HOPS": 1,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "INSTANCE_PATH": str(tmp_path / "i2"), "UPLOAD_DIR": str(tmp_path / "u2"),
        "KEY_ENCRYPTION_KEY": TEST_KEK, "RATELIMIT_STORAGE_URI": "memory://"})
    yield behind
    behind.extensions["engine"].dispose()


def lot_answered(app: Flask, path: str, original: str | None) -> str:
    """The lot the JSON answer names, for a request as granian passes it (decoded path, no
    RAW_URI) with nginx's X-Original-URI."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8001", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "cek.example.id",
        "HTTP_ACCEPT": "application/json", "HTTP_X_FORWARDED_FOR": "203.0.113.9",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    if original is not None:
        environ["HTTP_X_ORIGINAL_URI"] = original
    status: list[str] = []
    body = b"".join(app.wsgi_app(environ, lambda s, _h, _e=None: status.append(s)))
    assert status[0].startswith("200"), (status, body[:300])
    return str(json.loads(body)["label"]["lot"])


def test_the_request_line_as_sent_keeps_a_percent_encoded_lot_whole(proxied: Flask) -> None:
    assert lot_answered(proxied, "/verify/01/09506000134352/10/A/B/21/1",
                        "/verify/01/09506000134352/10/A%2FB/21/1") == "A/B"


def test_a_request_line_of_another_uri_is_ignored(proxied: Flask) -> None:
    # A reader's own header behind a proxy that does not set it: the path asked is answered.
    assert lot_answered(proxied, "/verify/01/09506000134352/10/ABC/21/1",
                        "/verify/01/09506000134352/10/EVIL/21/1") == "ABC"
    assert lot_answered(proxied, "/verify/01/09506000134352/10/ABC/21/1", None) == "ABC"
