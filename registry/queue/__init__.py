"""The task queue: heavy work (rendering label jobs, writing XLSX exports of the figures)
runs in a worker process, not in a web request.

Huey (https://huey.readthedocs.io) carries the messages. Why Huey rather than RQ, Dramatiq or
Celery: the same task code runs on Redis in production and on a SQLite file for ``make run``
(RQ and Dramatiq need a Redis or RabbitMQ server even on a laptop; Celery's SQL transport is a
side project of kombu), it has retries and periodic tasks built in, and it is one small
pure-Python package. What none of the four gives for a message popped from Redis is an
answer to "the worker was killed mid-job" that also survives a Redis restart (Redis here
keeps nothing on disk): so the registry's own row (``label_file``) is the truth about a
render, a worker holds a lease on it, and a periodic sweep hands an abandoned render to
another worker. A message delivered twice is harmless: only a worker that wins the lease
renders, and only the lease holder may mark the file ready.

``QUEUE_URL``: ``redis://…`` (production, shared by every server's worker), unset (a SQLite
file in the instance folder; ``make run`` starts a worker beside the web server), or
``immediate`` (tests: a task runs in the caller right after its transaction commits, which
is Huey's own in-process mode).

Domain packages declare tasks with ``@task`` and sweeps with ``@every_minute``; ``init_app``
binds them to the app's Huey with an application context around each run.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import redis
from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from sqlmodel import Session
from werkzeug.local import LocalProxy

from registry.db import on_commit

log = logging.getLogger(__name__)

_TASKS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {}
_PERIODIC: dict[str, Callable[[], Any]] = {}


def task(**options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a queue task (Huey ``task`` options: retries, retry_delay, …)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _TASKS[_name(fn)] = (fn, options)
        return fn

    return register


def every_minute(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Declare a sweep the worker runs every minute and once when it starts."""
    _PERIODIC[_name(fn)] = fn
    return fn


def _name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def make_huey(config: dict[str, Any] | Any, instance_path: str) -> Huey:
    url = config.get("QUEUE_URL") or ""
    if url == "immediate":
        return MemoryHuey("registry", immediate=True, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # Results are not kept: the database says how a render went.
        # A Redis that stops answering fails a send in seconds, not minutes (the request's
        # commit stands; the sweep sends the render again). The timeout is above the
        # consumer's 1 s blocking read.
        pool = redis.ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        return RedisHuey("registry", connection_pool=pool, results=False)
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else str(
        Path(instance_path) / "queue.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("registry", filename=path, results=False)


def init_app(app: Flask) -> None:
    # Import the modules that declare tasks, so every process registers the same names.
    from registry.accounts import tasks as _account_tasks  # noqa: F401
    from registry.certificates import tasks as _certificate_tasks  # noqa: F401
    from registry.figures import tasks as _figure_tasks  # noqa: F401
    from registry.mail import delivery as _mail_tasks  # noqa: F401
    from registry.notifications import tasks as _notification_tasks  # noqa: F401
    from registry.printing import tasks as _printing_tasks  # noqa: F401

    huey = make_huey(app.config, app.instance_path)
    bound: dict[str, Any] = {}
    for name, (fn, options) in _TASKS.items():
        bound[name] = huey.task(name=name, **options)(_in_app(app, fn))
    for name, fn in _PERIODIC.items():
        bound[name] = huey.periodic_task(crontab(minute="*"), name=name)(_in_app(app, fn))
    app.extensions["queue"] = huey
    app.extensions["queue_tasks"] = bound
    app.extensions.setdefault("readiness", {})["queue"] = lambda: check(app)
    from registry.queue.cli import worker_command

    app.cli.add_command(worker_command)


def _in_app(app: Flask, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*args: Any) -> Any:
        with app.app_context():
            return fn(*args)

    return run


def queue() -> Huey:
    return current_app.extensions["queue"]


def enqueue(fn: Callable[..., Any], *args: Any) -> None:
    """Send ``fn(*args)`` to the worker now (for code that has committed already)."""
    current_app.extensions["queue_tasks"][_name(fn)](*args)


def enqueue_after_commit(session: Session, fn: Callable[..., Any], *args: Any) -> None:
    """Send ``fn(*args)`` to the worker once ``session``'s transaction has committed: the
    worker reads the rows this transaction writes, and a rolled-back request sends
    nothing (``registry.db.on_commit``, the hook files and mails use too)."""
    # current_app is typed as the app; it is the proxy in front of it.
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    send = app.extensions["queue_tasks"][_name(fn)]

    def after_commit() -> None:
        try:
            with app.app_context():
                send(*args)
        except Exception:
            log.exception("could not send %s%r to the task queue; the next sweep will",
                          _name(fn), args)

    on_commit(session, after_commit)


def run_sweeps() -> None:
    """Every periodic sweep once, now (the worker's start: work a killed worker left)."""
    for fn in _PERIODIC.values():
        fn()


def check(app: Flask) -> str | None:
    """Readiness: the queue's store answers (Redis PING; the SQLite file opens)."""
    try:
        app.extensions["queue"].pending_count()
    except Exception as exc:
        return f"QUEUE_URL: the task queue does not answer ({type(exc).__name__})"
    return None
