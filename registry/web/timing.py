"""Answers whose timing must not tell what the registry holds (issue 16 §3)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app


@contextmanager
def answer_no_sooner() -> Iterator[None]:
    """Hold the answer until ACCOUNT_ANSWER_SECONDS have passed since the block began.

    Sign-up and forgot-password already do the same expensive work (an Argon2 hash, a mail
    row) for a known and an unknown address, but a new company costs a few more database
    round trips than a mail to a known one. On a quiet machine that is under a millisecond; on
    a loaded one each round trip waits for a core, and CI measured a 10.8 ms median gap over 50
    pairs on PostgreSQL, enough to tell with repeated tries. Padding both to one floor above
    the slower path removes that difference as long as the work fits under the floor."""
    floor = float(current_app.config["ACCOUNT_ANSWER_SECONDS"])
    started = time.monotonic()
    yield
    left = floor - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)
