"""What the metrics and the request id cost a label scan (issue 13 §3): a micro-benchmark.

    .venv/bin/python bench/metrics_cost.py            # single-process registry
    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) .venv/bin/python bench/metrics_cost.py

Times, per call, the scan counter increment the label resolver makes, and the request-id
middleware around a WSGI app that answers at once (with and without an X-Request-ID header),
against the bare app. Best of five runs of ``timeit`` each, so a busy machine shows less.
"""

from __future__ import annotations

import os
import timeit
from collections.abc import Callable
from typing import Any

from registry.ops.logs import RequestIdMiddleware
from registry.ops.metrics import SCANS_BY_VERDICT
from registry.verify.rules import Verdict

N = 200_000


def per_call(func: Callable[[], Any]) -> float:
    return min(timeit.repeat(func, number=N, repeat=5)) / N * 1e6


def bare(_environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def main() -> None:
    mode = "multiprocess" if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else "single-process"
    counter = SCANS_BY_VERDICT[Verdict.GENUINE]
    wrapped = RequestIdMiddleware(bare)

    def start(_status: str, _headers: list[tuple[str, str]], _exc: Any = None) -> None:
        return None

    plain = {"REQUEST_METHOD": "GET", "PATH_INFO": "/01/x"}
    given = {**plain, "HTTP_X_REQUEST_ID": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}
    print(f"scan counter increment ({mode}): {per_call(counter.inc):.2f} µs")
    base = per_call(lambda: bare(dict(plain), start))
    print(f"bare WSGI call: {base:.2f} µs")
    print(f"request id middleware, id made here: "
          f"+{per_call(lambda: wrapped(dict(plain), start)) - base:.2f} µs")
    print(f"request id middleware, X-Request-ID given: "
          f"+{per_call(lambda: wrapped(dict(given), start)) - base:.2f} µs")


if __name__ == "__main__":
    main()
