"""The app on a real HTTP server in a thread, and a browser-like client over it (requests):
the accounts' acceptance tests (issue 16) go through real sockets, as a user's browser does."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from werkzeug.serving import make_server

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')
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


class Browser:
    """A cookie jar and CSRF tokens, like a browser: ``post`` fetches the form page first
    unless given a token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)

    def token(self, path: str) -> str:
        match = CSRF_RE.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1) or match.group(2)

    def post(self, path: str, data: dict[str, str], *, token: str | None = None,
             form_page: str | None = None) -> requests.Response:
        data = {**data, "csrf_token": token or self.token(form_page or path)}
        return self.http.post(self.base + path, data=data, allow_redirects=False, timeout=30)

    def login(self, email: str, password: str) -> requests.Response:
        return self.post("/login", {"email": email, "password": password})

    def signed_in(self) -> bool:
        """The account's pages answer (a signed-out browser is sent to the login page)."""
        response = self.get("/account/password")
        return response.status_code == 200


def reset_path(mail_text: str) -> str:
    """The path of the reset link in a mail (the link names the public host)."""
    match = LINK_RE.search(mail_text)
    assert match, mail_text
    return urlsplit(match.group(0)).path
