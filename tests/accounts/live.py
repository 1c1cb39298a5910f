"""The app on a real HTTP server in a thread (``conftest.Browser`` is the client over it):
the accounts' acceptance tests (issue 16) go through real sockets, as a user's browser does."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import make_server

LINK_RE = re.compile(r"https?://\S+?(/password/reset/[A-Za-z0-9_.\-]+)")


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` on 127.0.0.1 at a free port, threaded like a production server; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def reset_path(mail_text: str) -> str:
    """The path of the reset link in a mail (the link names the public host)."""
    match = LINK_RE.search(mail_text)
    assert match, mail_text
    return urlsplit(match.group(0)).path
