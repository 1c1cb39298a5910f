"""Fixtures of the real-queue tests (tests/queue/queue_support.py)."""

from tests.taskqueue.queue_support import queue_url, queued_app, shop, workers  # noqa: F401
