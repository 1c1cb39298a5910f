"""Readiness: can this server answer for the shared parts it depends on?

Each part registers a check in ``app.extensions["readiness"]``: ``check() -> str | None``,
None when ready, else a short problem text (no secrets) naming what is wrong. ``/readyz``
runs them all on every call; production runs them once before serving (``require_ready``,
from ``wsgi.py``) and refuses to start with any part down. ``/healthz`` stays liveness only.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any

import redis
from flask import Flask
from sqlalchemy import text

Check = Callable[[], str | None]

# A load balancer polls /readyz every few seconds: a part that hangs (a firewall dropping
# packets) must answer "down" within this, not hold the probe until TCP gives up.
CHECK_TIMEOUT = 2.0
START_TIMEOUT = 10.0
# Checks stuck on a dead host keep a worker each; the pool bounds how many threads that costs.
MAX_THREADS = 8

_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()
_USERINFO = re.compile(r"//[^/@\s]*@")


class NotReady(RuntimeError):
    """A production server refused to start: one line per part that is down."""


def register(app: Flask, name: str, check: Check) -> None:
    app.extensions.setdefault("readiness", {})[name] = check


def init_app(app: Flask) -> None:
    engine = app.extensions["engine"]

    def database() -> str | None:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means no database for this server
            return f"DATABASE_URL: no answer to SELECT 1 ({brief(exc)})"
        return None

    register(app, "database", database)
    if app.config.get("REDIS_URL"):
        register(app, "redis", _redis_check(app.config["REDIS_URL"]))


def _redis_check(url: str) -> Check:
    client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT,
                                  socket_timeout=CHECK_TIMEOUT)

    def check() -> str | None:
        try:
            client.ping()
        except Exception as exc:  # refused, timed out, wrong password: Redis is not usable
            return f"REDIS_URL: no answer to PING ({brief(exc)})"
        return None

    return check


def run_checks(app: Flask, timeout: float = CHECK_TIMEOUT) -> dict[str, str | None]:
    """Every registered check at once, each given ``timeout`` seconds: name → problem."""
    checks: dict[str, Check] = dict(app.extensions.get("readiness", {}))

    def run(check: Check) -> str | None:
        with app.app_context():  # a part's check may read current_app
            return check()

    futures: dict[str, Future[str | None]] = {
        name: _executor().submit(run, check) for name, check in checks.items()}
    wait_for(futures.values(), timeout=timeout)
    results: dict[str, str | None] = {}
    for name, future in sorted(futures.items()):
        if not future.done():
            results[name] = f"no answer within {timeout:g} s"
        elif future.exception() is not None:
            results[name] = f"check failed ({brief(future.exception())})"
        else:
            results[name] = future.result()
    return results


def require_ready(app: Flask, timeout: float = START_TIMEOUT) -> None:
    """Refuse to serve with any part down, naming each (the production start-up check)."""
    down = {name: problem for name, problem in run_checks(app, timeout).items() if problem}
    if down:
        raise NotReady("Refusing to start, not ready:\n"
                       + "\n".join(f"- {name}: {problem}" for name, problem in down.items()))


def report(results: dict[str, str | None]) -> tuple[dict[str, Any], int]:
    """The /readyz body and status for ``run_checks``' results."""
    ready = not any(results.values())
    body = {"status": "ready" if ready else "not ready",
            "checks": {name: problem or "ok" for name, problem in results.items()}}
    return body, 200 if ready else 503


def brief(exc: BaseException | None) -> str:
    """One line of an error for operators, with any URL's user:password taken out."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return _USERINFO.sub("//", first)[:160]


def _executor() -> ThreadPoolExecutor:
    # One pool per process: a pool made before gunicorn forks has no threads in the child.
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(MAX_THREADS, "readiness"))
        return _pool[1]
