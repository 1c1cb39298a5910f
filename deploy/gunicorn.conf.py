"""gunicorn settings for the registry behind nginx (deploy/nginx/registry.conf).

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Command-line flags and GUNICORN_CMD_ARGS override anything here (the compose file binds
0.0.0.0 that way; the slow-client test binds a free loopback port).

Why sync workers: every request is short CPU and database work, and nginx stands between the
workers and the internet. nginx reads a client's whole request (headers and body) before it
opens a connection to gunicorn, and reads gunicorn's whole response into its buffers (or a
temporary file) before trickling it out, so a worker is never held by a slow network: a worker
costs one request's work, not one client's patience. Without nginx, three clients sending one
header line a second hold three sync workers for the full ``timeout`` (issue 13 §2).
Async workers (gevent) would hide slow clients too, but the database driver, the PDF renderer
and the signing code are blocking C code; threads (gthread) help only where requests wait on
I/O, which nginx already absorbs.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from typing import Any

# Prometheus in several worker processes (PROMETHEUS_MULTIPROC_DIR, registry/metrics.py):
# empty the folder before the workers start, and let a dead worker's live gauges go. gunicorn
# takes hooks from this module's names.
from registry.metrics import gunicorn_child_exit as child_exit  # noqa: F401
from registry.metrics import gunicorn_on_starting as on_starting  # noqa: F401

# nginx on the same machine talks to loopback only; never expose gunicorn directly.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# CPU-bound work: the usual (2 × cores) + 1, so one worker can wait on the database while
# the others compute. WEB_CONCURRENCY overrides (containers often see the host's cores).
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"

# A worker silent this long is killed and replaced. Label print jobs are still rendered inside
# the download request until the task queue of issue 13 §1 lands: a 100,000-label PDF takes
# well over 30 s of CPU, so 30 s (gunicorn's default) cut downloads short. nginx buffers the
# response, so this bounds rendering time only, never a client's download speed. Lower it to
# 30 when rendering moves to the queue. Keep nginx's proxy_read_timeout equal to it.
timeout = 120

# SIGTERM (systemctl stop/restart, a deploy): workers finish the request in hand for up to
# this long. systemd's TimeoutStopSec (registry-web.service) is longer, so it never SIGKILLs a
# worker mid-request during an orderly stop.
graceful_timeout = 30

# Sync workers close every connection after one response; nginx keeps the client's
# keep-alive connection, so gunicorn's keepalive does not apply here.
keepalive = 2

# Recycle a worker after this many requests (± jitter, so they do not all restart at once):
# bounds slow memory growth in the PDF and image libraries.
max_requests = 1000
max_requests_jitter = 100

# Each worker builds the app after the fork: no database connection or Redis pool is shared
# between processes, and wsgi.py's readiness check runs in the worker that will serve.
preload_app = False

# The heartbeat file each worker touches: in RAM, so a slow or full disk never makes the
# master think a healthy worker hung. (gunicorn makes the file with mkstemp: no name to guess.)
SHM = "/dev/shm"  # noqa: S108
if os.path.isdir(SHM):
    worker_tmp_dir = SHM

# Request-line and header limits (gunicorn's defaults, stated): nginx refuses anything larger
# first (large_client_header_buffers).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# gunicorn honours X-Forwarded-Proto only from these addresses; the app itself trusts
# X-Forwarded-For/-Proto/-Host for exactly PROXY_HOPS proxies (werkzeug's ProxyFix).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs to stdout/stderr: journald (systemd) or the container runtime keeps them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# The request id the app echoes (registry/logs.py) in each access-log line.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss id=%({x-request-id}o)s'


# After `kill -9` of the master (an OOM kill, a careless operator), its workers live on as
# orphans holding the listening socket: an idle sync worker notices its parent is gone only at
# its next wake-up, timeout / 2 = 60 s later, and until then a restarted gunicorn cannot bind
# ("Address already in use"; it gives up after five tries) while the orphans keep answering
# with the old code. Linux can tell a child when its parent dies: ask for SIGTERM, which a
# gunicorn worker takes as "finish the request in hand, then exit".
# (systemd's control group kills orphans too: registry-web.service; this covers every other
# supervisor and a shell.)
PR_SET_PDEATHSIG = 1


def post_fork(server: Any, worker: Any) -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        server.log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
    # The master may have died between fork and prctl: then no signal will come.
    if os.getppid() != worker.ppid:
        os.kill(os.getpid(), signal.SIGTERM)
