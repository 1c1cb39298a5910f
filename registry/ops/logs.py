"""Log lines with a request id, as text (development) or JSON (``LOG_FORMAT=json``, the
production default), one object a line for a log shipper.

The request id comes from ``X-Request-ID`` when the proxy or client sent a sane token (nginx's
``$request_id``, a UUID) and is made here otherwise; it is echoed in the response and set in a
context variable before anything else runs, so the label scans answered in front of Flask log
it too. A filter on the handler copies it into every record of the request.

JSON with the standard library's ``logging.Formatter`` and ``json``: the record already has
every field and the formatter is a dozen lines; python-json-logger would add a dependency for
them, and structlog would change every logger call in the code base.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import secrets
import sys
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask.logging import default_handler
from werkzeug.wsgi import ClosingIterator

Environ = dict[str, Any]
WsgiApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]

HEADER = "X-Request-ID"
ENVIRON_KEY = "registry.request_id"
# Letters, digits and . _ : - up to 128: what proxies and tracing headers send; anything else
# (spaces, quotes, newlines, a megabyte) would end up in log lines and is replaced.
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                        default=None)
# What a LogRecord has of its own: anything else was passed in ``extra`` and goes into JSON.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "request_id"}


class RequestIdMiddleware:
    """WSGI: the request's id into the context variable, the environ and the response."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        given = environ.get("HTTP_X_REQUEST_ID")
        rid = given if given and SANE_ID.fullmatch(given) else secrets.token_hex(16)
        environ[ENVIRON_KEY] = rid
        request_id.set(rid)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append((HEADER, rid))
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            request_id.set(None)
            raise
        if isinstance(body, list):  # answered in full (the label resolver's pages)
            request_id.set(None)
            return body
        # A streamed body (a label download) logs while the server sends it: the id stays
        # until the server closes it.
        return ClosingIterator(body, _forget)


def _forget() -> None:
    request_id.set(None)


class RequestIdFilter(logging.Filter):
    """Every record gets ``request_id`` (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in entry:
                entry[key] = value
        return json.dumps(entry, default=str, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """To ``sys.stderr`` as it is when a line is written (gunicorn, click and test runners
    replace it), as Flask's own handler did; another stream only when one is set."""

    def __init__(self) -> None:
        self._stream: Any = None
        super().__init__()

    @property
    def stream(self) -> Any:
        return self._stream or sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        self._stream = None if value is sys.stderr else value


def configure(app: Flask) -> None:
    """One handler on the root logger, to stderr (gunicorn and systemd collect it), in the
    configured format; the registry's own loggers at INFO. Replaces the handler an earlier
    app of this process installed (tests make many apps)."""
    handler = StderrHandler()
    handler.set_name("registry")
    handler.addFilter(RequestIdFilter())
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "registry"]:
        root.removeHandler(old)
    root.addHandler(handler)
    registry = logging.getLogger("registry")
    registry.removeHandler(default_handler)  # Flask's own would print each line twice
    if registry.level == logging.NOTSET:
        registry.setLevel(logging.INFO)
