"""``flask --app registry worker``: the process that renders label jobs."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.queue import queue, run_sweeps

log = logging.getLogger(__name__)


@click.command("worker")
@click.option("--workers", type=int, default=None,
              help="Tasks run at once (threads; default QUEUE_WORKERS, 2). Rendering uses two "
                   "QR encoder processes of its own, so one or two per machine is enough.")
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run the task queue's worker until SIGINT (finish the tasks in hand) or SIGTERM."""
    huey = queue()
    if huey.immediate:
        raise click.UsageError("QUEUE_URL=immediate runs tasks in the caller; no worker needed")
    count = workers or int(current_app.config["QUEUE_WORKERS"])
    # Work a killed worker left behind is taken over at once, not at the next minute.
    run_sweeps()
    # An idle worker polls a SQLite queue at most every 2 s (Huey's default backs off to
    # 10 s); Redis is a blocking read, so a render asked for starts at once either way.
    consumer = huey.create_consumer(workers=count, worker_type="thread", periodic=True,
                                    check_worker_health=True, max_delay=2.0)
    log.info("task queue worker: %s thread(s) on %s", count, type(huey.storage).__name__)
    consumer.run()
