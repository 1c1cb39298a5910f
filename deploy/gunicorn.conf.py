"""gunicorn settings for the registry behind nginx (deploy/nginx/registry.conf).

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Command-line flags and GUNICORN_CMD_ARGS override anything here (the compose file binds
0.0.0.0 that way; the slow-client test binds a free loopback port).

Why gthread workers (threads in a few processes): every request is short CPU and database
work except one kind, the print shop's download of a finished label file (tens of MB, from
the file store). nginx stands between the workers and the internet and buffers everything
else both ways, so a slow client never holds a thread for those. A download is the
exception on purpose: it is streamed unbuffered (the app sends ``X-Accel-Buffering: no``),
because it is recorded only when its last byte has gone out, and nginx taking the whole file
into its buffers is not the print shop having it. With sync workers such a download would
hold a whole worker process and be killed at ``timeout``; with gthread it holds one thread
while the worker's main loop keeps reporting to the master. Rendering itself runs in the
task queue's worker (``flask --app registry worker``), never in a web request.
Async workers (gevent) would do too, but the database driver, the PDF renderer and the
signing code are blocking C code.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from typing import Any

# Prometheus in several worker processes (PROMETHEUS_MULTIPROC_DIR, registry/ops/metrics.py):
# empty the folder before the workers start, and let a dead worker's live gauges go. gunicorn
# takes hooks from this module's names.
from registry.ops.metrics import gunicorn_child_exit as child_exit  # noqa: F401
from registry.ops.metrics import gunicorn_on_starting as on_starting  # noqa: F401

# nginx on the same machine talks to loopback only; never expose gunicorn directly.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# CPU-bound work: the usual (2 × cores) + 1, so one worker can wait on the database while
# the others compute. WEB_CONCURRENCY overrides (containers often see the host's cores).
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
worker_class = "gthread"
# Per process: a few slow print-shop downloads leave the other threads (and the other
# processes) to buyers' scans. GUNICORN_THREADS overrides.
threads = int(os.environ.get("GUNICORN_THREADS") or 4)

# A worker whose main loop is silent this long is killed and replaced. With gthread the main
# loop reports while requests run in threads, so this bounds a hung worker, not a long
# download. Keep nginx's proxy_read_timeout equal to it.
timeout = 30

# SIGTERM (systemctl stop/restart, a deploy): workers finish the request in hand for up to
# this long. systemd's TimeoutStopSec (registry-web.service) is longer, so it never SIGKILLs a
# worker mid-request during an orderly stop.
graceful_timeout = 30

# nginx keeps the client's keep-alive connection and opens short ones to gunicorn
# (registry-proxy.conf: no upstream keepalive), so this only bounds an idle one.
keepalive = 2

# Recycle a worker after this many requests plus a random 0..jitter, bounding slow memory
# growth in the PDF and image libraries. Measured (bench/labeljob.py): with 1000 + 0..100 and
# scans at 200-450 requests/s, each worker restarted every 5-10 s and the two often within a
# second of each other, leaving no worker to accept for a moment (p99 in seconds). A large
# count and a jitter as large as half of it spread the restarts minutes apart.
max_requests = 20000
max_requests_jitter = 10000

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
# The request id the app echoes (registry/ops/logs.py) in each access-log line.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss id=%({x-request-id}o)s'


# After `kill -9` of the master (an OOM kill, a careless operator), its workers live on as
# orphans holding the listening socket: an idle worker notices its parent is gone only at its
# next wake-up (a sync worker: timeout / 2 = 60 s later with the former timeout of 120 s), and
# until then a restarted gunicorn cannot bind ("Address already in use"; it gives up after
# five tries) while the orphans keep answering
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
