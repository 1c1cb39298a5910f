"""Browser fixtures: Debian chromium driven by Playwright, and the real app served over HTTP.

The app comes from the ``app`` fixture of ``tests/conftest.py`` (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set) and runs in a threaded werkzeug server on a free local port.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def _chromium() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        pytest.skip("Debian chromium not installed: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        sync_api.expect.set_options(timeout=TIMEOUT_MS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app behind a real HTTP server; yields its base URL, which is the app's PUBLIC_HOST
    (the resolver redirects a label URI to its page there, as a phone follows it)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config.update(PUBLIC_HOST=f"127.0.0.1:{server.server_port}", PUBLIC_SCHEME="http")
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def new_context(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """Open browser contexts (closed again before the server stops) with the server as
    base URL. Every HTTP error response a page receives is collected in ``ctx.http_errors``."""
    contexts: list[Any] = []

    def factory(**options: Any) -> Any:
        options.setdefault("locale", "en-US")
        context = browser.new_context(base_url=live_server, **options)
        context.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []

        def _record(response: Any) -> None:
            if response.status >= 400:
                errors.append(f"{response.status} {response.request.method} {response.url}")

        context.on("response", _record)
        context.http_errors = errors
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()
