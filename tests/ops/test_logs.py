"""Issue 13 §3: JSON logs with a request id, in every line of the request, the label
resolver's (in front of Flask) included."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from registry import create_app
from registry.verify import services

LABEL = "/01/09524000000019/10/LOT1/21/1"  # unsigned: a well-formed code, not genuine
SAME_AS_FIXTURE = ("DATABASE_URL", "TESTING", "SECRET_KEY", "UPLOAD_DIR", "KEY_DIR",
                   "KEY_ENCRYPTION_KEY", "RATELIMIT_STORAGE_URI", "FILE_STORE", "S3_BUCKET",
                   "S3_ENDPOINT_URL", "S3_PREFIX")


@pytest.fixture
def json_app(app: Flask) -> Iterator[tuple[Flask, io.StringIO]]:
    """The test app's configuration with LOG_FORMAT=json, its log lines in a buffer."""
    made = create_app({**{k: app.config[k] for k in SAME_AS_FIXTURE},
                       "INSTANCE_PATH": app.instance_path, "LOG_FORMAT": "json"})
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "registry")
    out = io.StringIO()
    handler.setStream(out)  # type: ignore[attr-defined]
    try:
        yield made, out
    finally:
        handler.setStream(sys.stderr)  # type: ignore[attr-defined]
        made.extensions["engine"].dispose()


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_request_id_is_taken_when_sane_and_made_otherwise(app: Flask) -> None:
    http = app.test_client()
    assert http.get("/about", headers={"X-Request-ID": "edge-7f3a.01:9"}).headers[
        "X-Request-ID"] == "edge-7f3a.01:9"
    made = [http.get("/about", headers=headers).headers["X-Request-ID"] for headers in (
        {}, {}, {"X-Request-ID": "two words"}, {"X-Request-ID": "a" * 129},
        {"X-Request-ID": "id\"}, {\"level\": \"x"}, {"X-Request-ID": ""})]
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in made), made
    assert len(set(made)) == len(made)
    # The label resolver's answers carry it too.
    assert http.get(LABEL, headers={"X-Request-ID": "scan-1"}).headers["X-Request-ID"] == (
        "scan-1")


def test_every_log_line_of_a_request_carries_its_id(
        json_app: tuple[Flask, io.StringIO], monkeypatch: pytest.MonkeyPatch) -> None:
    app, out = json_app

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    # The label's page logs its failure with the traceback and answers 503 itself (issue 14:
    # the fast path never hands a failure on to Flask).
    monkeypatch.setattr(services, "resolve", broken)
    http = app.test_client()
    response = http.get("/verify" + LABEL, headers={"X-Request-ID": "scan-42"})
    assert response.status_code == 503
    assert response.headers["X-Request-ID"] == "scan-42"
    logged = lines(out)
    messages = {entry["logger"]: entry for entry in logged}
    assert messages["registry.verify.hotpath"]["message"].startswith(
        "verification unavailable on /verify/01/")
    assert "RuntimeError: the database went away" in messages[
        "registry.verify.hotpath"]["exception"]
    assert {entry["request_id"] for entry in logged} == {"scan-42"}
    assert all(entry["level"] == "ERROR" and entry["time"].endswith("+00:00")
               for entry in logged)

    out.truncate(0)
    out.seek(0)
    http.get("/verify" + LABEL)  # the next request: its own id, in its lines and response
    ids = {entry["request_id"] for entry in lines(out)}
    assert len(ids) == 1 and ids != {"scan-42"}


def test_text_format_in_development_has_the_id_too(app: Flask) -> None:
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "registry")
    record = logging.LogRecord("registry.x", logging.WARNING, __file__, 1, "hello %s",
                               ("world",), None)
    # Outside any request (a fresh context, as the scan buffer's thread has): "-".
    assert contextvars.Context().run(handler.filter, record)
    assert re.search(r"WARNING registry\.x \[-\] hello world$", handler.format(record))
