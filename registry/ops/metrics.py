"""Prometheus metrics at ``/metrics`` for the operators (issue 13 §3).

One set of metrics per process (prometheus_client's default registry). Under gunicorn each
worker is its own process: with ``PROMETHEUS_MULTIPROC_DIR`` set (before the workers start)
every worker writes its values to memory-mapped files in that folder and a scrape, answered by
whichever worker, adds them up. The gunicorn config calls :func:`gunicorn_on_starting` (empty
the folder: counters of an earlier run must not add up with this one's) and
:func:`gunicorn_child_exit` (a dead worker's live gauges stop counting) — the two hooks
prometheus_client documents for gunicorn.

``/metrics`` is not for the internet: it answers requests from ``METRICS_ALLOW`` networks
(default loopback only; the address is the one behind ``PROXY_HOPS``) or bearing
``Authorization: Bearer <METRICS_TOKEN>``; anyone else gets the plain 404 of a page that does
not exist.

Label values are bounded (verdicts, endpoints, status classes, formats, limit names): a value
taken from a request would make a new time series per visitor.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from werkzeug.exceptions import NotFound

from registry.verify.rules import Verdict

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = "127.0.0.0/8,::1/128"

SCANS = Counter("registry_scans_total",
                "Label verifications answered (page or JSON), by verdict", ["verdict"])
# One child per verdict, made once: the hot path only increments (no label lookup, no lock
# beyond the value's own).
SCANS_BY_VERDICT = {verdict: SCANS.labels(verdict.value) for verdict in Verdict}
SCAN_BUFFER_PENDING = Gauge(
    "registry_scan_buffer_pending",
    "Scans waiting in the workers' buffers to be written (refreshed at each flush)",
    multiprocess_mode="livesum")
SCAN_BUFFER_FLUSH_FAILURES = Counter("registry_scan_buffer_flush_failures_total",
                                     "Scan buffer flushes the database refused or missed")
SCAN_ROWS_DROPPED = Counter("registry_scan_rows_dropped_total",
                            "Scan rows never written: refused one by one by the database, or "
                            "discarded when the buffer overflowed during an outage", ["reason"])
LABELS_RENDERED = Counter("registry_labels_rendered_total",
                          "Labels rendered into print downloads (rate() is labels per second)",
                          ["format"])
PRINT_RENDER_SECONDS = Histogram(
    "registry_print_job_render_seconds",
    "Time the task queue's worker took to render a label file, from its claim to the file "
    "stored (reprints: from the request to the last byte)", ["format"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600))
LABEL_FILES_FINISHED = Counter("registry_label_file_renders_total",
                               "Label file renders that ended, by outcome (ready, retried, "
                               "failed, refused)", ["outcome"])
# Read from the database and the queue at scrape time (the truth for every server), so the
# value of the scraping process is the answer: "mostrecent", not a sum over workers.
QUEUE_PENDING = Gauge("registry_queue_pending",
                      "Messages waiting in the task queue", multiprocess_mode="mostrecent")
LABEL_FILES = Gauge("registry_label_files", "Label files by state (queued and rendering are "
                    "the render backlog)", ["state"], multiprocess_mode="mostrecent")
OLDEST_QUEUED_SECONDS = Gauge("registry_label_file_oldest_queued_seconds",
                              "Age of the longest-waiting queued label file (0: none)",
                              multiprocess_mode="mostrecent")
RATE_LIMIT_REFUSALS = Counter("registry_rate_limit_refusals_total",
                              "Requests refused by a rate limit, by limit", ["limit"])
HTTP_REQUESTS = Counter("registry_http_requests_total",
                        "Requests answered by Flask routes (label scans answered in front of "
                        "Flask are in registry_scans_total)",
                        ["endpoint", "method", "status"])
HTTP_SECONDS = Histogram("registry_http_request_duration_seconds",
                         "Time Flask routes took to return a response (a streamed body "
                         "continues after it)", ["endpoint"])
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LIMIT_NAME = re.compile(r"[a-z][a-z-]{0,31}")

for _reason in ("refused", "discarded"):
    SCAN_ROWS_DROPPED.labels(_reason)
for _format in ("pdf", "zpl"):
    LABELS_RENDERED.labels(_format)
for _outcome in ("ready", "retried", "failed", "refused"):
    LABEL_FILES_FINISHED.labels(_outcome)


# --- access -----------------------------------------------------------------------------------

def parse_networks(raw: str | None) -> tuple[Network, ...]:
    """``METRICS_ALLOW``: CIDRs (or single addresses) separated by commas or spaces; unset is
    loopback only. Raises ValueError naming the entry that is not a network."""
    networks = []
    for entry in re.split(r"[,\s]+", (raw or LOOPBACK).strip()):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"METRICS_ALLOW: {entry!r} is not an address or CIDR "
                                 "network") from None
    return tuple(networks)


def allowed(remote_addr: str | None, authorization: str | None,
            networks: Sequence[Network], token: str | None) -> bool:
    """May this request read the metrics: from an allowed network, or with the token."""
    if token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode()):
            return True
    try:
        address = ipaddress.ip_address((remote_addr or "").split("%")[0])
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


# --- instrumentation helpers ------------------------------------------------------------------

def counted_labels(labels: Iterable[Any], fmt: str) -> Iterator[Any]:
    """``labels``, counting each one the renderer takes."""
    counter = LABELS_RENDERED.labels(fmt)
    for label in labels:
        counter.inc()
        yield label


def timed_stream(chunks: Iterable[bytes], fmt: str) -> Iterator[bytes]:
    """A download's body, timing it from the first request for a chunk to the last one sent.
    A download cut short (client gone, worker timeout) is not observed: it did not finish."""
    started = time.perf_counter()
    yield from chunks
    PRINT_RENDER_SECONDS.labels(fmt).observe(time.perf_counter() - started)


def rate_limit_breached(request_limit: Any) -> None:
    """flask-limiter's ``on_breach``: count the refusal under the limit's name: the named key
    prefix when the limit has one (``api-addr``, ``token-create``), else its scope (the
    endpoint or blueprint). Returning None keeps flask-limiter's own 429 answer."""
    # [key prefix (RATELIMIT_KEY_PREFIX, when set), key, scope]
    key, scope = ["", "", *request_limit.request_args][-2:]
    prefix = str(key).partition(":")[0]
    name = str(scope) or "unknown"
    if ":" in str(key) and _LIMIT_NAME.fullmatch(prefix) and not _is_address(str(key)):
        name = f"{name}/{prefix}"
    RATE_LIMIT_REFUSALS.labels(name[:64]).inc()


def _is_address(key: str) -> bool:
    """An IPv6 address as the whole key ("dead:beef::1") has no name before its colon."""
    try:
        ipaddress.ip_address(key)
    except ValueError:
        return False
    return True


# --- exposition -------------------------------------------------------------------------------

def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    """The text format of every metric: this process's, or all workers' in multiprocess
    mode."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


bp = Blueprint("metrics", __name__)


@bp.route("/metrics")
def metrics() -> Any:
    cfg = current_app.config
    if not allowed(request.remote_addr, request.headers.get("Authorization"),
                   cfg["METRICS_NETWORKS"], cfg.get("METRICS_TOKEN")):
        raise NotFound()
    buffer = current_app.extensions.get("scan_buffer")
    if buffer is not None:  # this worker's value is exact at scrape time
        SCAN_BUFFER_PENDING.set(len(buffer))
    _queue_gauges()
    return Response(exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST,
                                           "Cache-Control": "no-store"})


def _queue_gauges() -> None:
    """The render backlog, from the label_file rows and the queue; a database or queue that
    does not answer leaves the gauges as they were (``/readyz`` names it)."""
    from registry.printing.jobfiles import backlog

    try:
        counts, oldest = backlog(current_app.extensions["engine"])
    except Exception:
        return
    for state, count in counts.items():
        LABEL_FILES.labels(state).set(count)
    OLDEST_QUEUED_SECONDS.set(oldest)
    huey = current_app.extensions.get("queue")
    if huey is not None and not huey.immediate:
        # A queue that does not answer keeps the last value; its readiness check names it.
        with contextlib.suppress(Exception):
            QUEUE_PENDING.set(huey.pending_count())


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    rule = request.url_rule
    endpoint = rule.endpoint if rule is not None else "unmatched"
    method = request.method if request.method in _METHODS else "other"
    HTTP_REQUESTS.labels(endpoint, method, f"{response.status_code // 100}xx").inc()
    started = g.pop("metrics_started", None)
    if started is not None:
        HTTP_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    try:
        app.config["METRICS_NETWORKS"] = parse_networks(app.config.get("METRICS_ALLOW"))
    except ValueError as exc:
        from registry.config import ConfigError

        raise ConfigError(str(exc)) from None
    # Registered before the other extensions' hooks, so the timer starts first.
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
    forget_dead_workers()


def forget_dead_workers() -> list[int]:
    """Mark dead the processes whose live gauges are still in the multiprocess folder but
    which no longer run; returns their ids. gunicorn does this in its ``child_exit`` hook;
    granian (the verification pool, deploy/systemd/registry-verify.service) has no such hook
    and respawns a failed worker, which builds the app and so calls this."""
    folder = multiprocess_dir()
    if not folder or not Path(folder).is_dir():
        return []
    dead: set[int] = set()
    for path in Path(folder).glob("gauge_live*_*.db"):
        digits = path.stem.rpartition("_")[2]
        if digits.isdigit() and not _running(int(digits)):
            dead.add(int(digits))
    for pid in dead:
        multiprocess.mark_process_dead(pid)
    return sorted(dead)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


# --- gunicorn hooks (deploy/gunicorn.conf.py: ``on_starting = gunicorn_on_starting`` …) -------

def gunicorn_on_starting(_server: Any) -> None:
    """Empty the multiprocess folder before the workers start: files of an earlier run would
    add their counts to this one's."""
    folder = multiprocess_dir()
    if folder:
        path = Path(folder)
        if path.is_dir():
            for child in path.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        path.mkdir(parents=True, exist_ok=True)


def gunicorn_child_exit(_server: Any, worker: Any) -> None:
    """A worker ended: its live gauges (scan buffer depth) stop counting; its counters stay."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(worker.pid)


HOOKS: dict[str, Callable[..., None]] = {"on_starting": gunicorn_on_starting,
                                         "child_exit": gunicorn_child_exit}
