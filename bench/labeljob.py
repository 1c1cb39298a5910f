"""Label job benchmark (issue 13, acceptance 4): a large label job rendered by the task queue's
worker while a load generator scans the verification page.

Run from the repository root (see bench/README.md)::

    .venv/bin/python bench/labeljob.py                          # 100,000 labels, 20 s of wrk
    .venv/bin/python bench/labeljob.py --labels 10000 --duration 5     # quick look
    .venv/bin/python bench/labeljob.py --redis                  # Redis queue (127.0.0.1:6379/9)
    .venv/bin/python bench/labeljob.py --duration 600           # wrk for the whole job
    .venv/bin/python bench/labeljob.py --max-requests 0         # no gunicorn worker recycling

What one run does:

1. A fresh SQLite registry in a temporary folder, made as ``make run`` makes one:
   ``flask --app registry db upgrade``, ``keys ensure``, ``demo``.
2. ``--uris`` signed URIs (default 20,000) of real labels: a print job ordered through
   ``registry.printing.services.order_job`` on the demo's approved honey batch, its labels
   made by the same code the worker prints from (``services.label_source(...).labels`` with
   the registry's active signer), so every URI is a printed serial that verifies "genuine".
3. gunicorn with the shipped config (``deploy/gunicorn.conf.py``: gthread) and ``--workers 2``
   on a free loopback port, and ``flask --app registry worker --workers 1``, both with the same
   environment and ``QUEUE_URL`` (a SQLite queue file in the folder; ``--redis``: Redis
   127.0.0.1:6379 database 9, emptied before and after).
4. The page alone: wrk (``bench/wrk_uris.lua``, a random URI per request, ``Accept: text/html``)
   for ``--warmup`` then ``--duration`` seconds, nothing else running.
5. During the job: ``--labels`` labels (default 100,000, ``--net`` "1 g" each, stock
   ``--stock``) ordered on the demo's approved Bajawa coffee batch (12 t), the print shop logs
   in over HTTP and GETs ``/print-shop/jobs/<id>.pdf`` (303: the view asks the worker for the
   render); once the worker has claimed the render, the same wrk runs until the file is ready
   or ``--duration`` passes, whichever is first (the table says which). The script then waits
   for the file (``--job-timeout``) and reads the ``label_file`` row: labels / (finished_at -
   started_at), the file's size; and labels_done when wrk stopped, for the labels/s while the
   page was under load.
6. A markdown table of both rows, their ratio, the load average and the settings, and the CPU
   time of gunicorn (all its processes) and of the worker (with its QR encoder processes) in
   each phase.

Every process is started by this script in its own session and stopped at its end (SIGTERM,
then SIGKILL of the process group it created); only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.verify import (  # noqa: E402
    HTML_ACCEPT,
    USER_AGENT,
    Result,
    app_env,
    free_port,
    log,
    run_wrk,
    smoke,
)

BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/9"
URIS_LOT = "SBW-HNY-2611-01"  # demo: approved, 1,200 kg of honey (NTB exporter)
JOB_LOT = "BJW-COF-2611-01"  # demo: approved, 12 t of coffee (NTT exporter)
PRINT_SHOP = ("printer@demo.test", "Percetakan Label Denpasar")
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


# ------------------------------------------------------------------------------ processes


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of the live processes of a process group, with the children
    they reaped (gunicorn's recycled workers, the worker's finished encoder processes)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) == pgid:  # pgrp
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


class Proc:
    """A process started by this script in a session of its own; ``stop`` ends its group."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log = log_path.open("ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def cpu_seconds(self) -> float:
        return group_cpu_seconds(self.proc.pid)

    def log_size(self) -> int:
        self.log.flush()
        return Path(self.log.name).stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log.name, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")

    def check(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); "
                               f"see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # its own group, made above
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # Encoder processes a killed worker left in its group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "registry", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout.strip()


def wait_ready(url: str, proc: Proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check()
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{proc.name}: {url} not ready after {timeout:.0f} s; see {proc.log.name}")


# ------------------------------------------------------------------------------ the registry


class Registry:
    """The bench's own handle on the registry (same environment as the servers): orders jobs
    through the services and reads label_file rows."""

    def __init__(self, env: dict[str, str]) -> None:
        for name in set(os.environ) - set(env):
            del os.environ[name]
        os.environ.update(env)
        from registry import create_app

        self.app = create_app()
        self.engine = self.app.extensions["engine"]

    def _users(self, session: Any, batch: Any) -> tuple[Any, Any]:
        from sqlmodel import select

        from registry.accounts.models import Organisation, Role, User, UserStatus

        exporter = session.exec(select(User).where(
            User.organisation_id == batch.organisation_id, User.role == Role.EXPORTER,
            User.status == UserStatus.ACTIVE)).first()
        shop = session.exec(select(Organisation).where(
            Organisation.name == PRINT_SHOP[1])).one()
        return exporter, shop

    def order(self, lot: str, quantity: int, stock: str, net: str) -> tuple[int, int, int]:
        """Order ``quantity`` labels of the demo batch ``lot`` for the demo print shop, as its
        exporter; returns the job id and its first and last serial."""
        from sqlmodel import Session, select

        from registry.catalog.models import Batch
        from registry.printing import services

        with self.app.app_context(), Session(self.engine, expire_on_commit=False) as session:
            batch = session.exec(select(Batch).where(Batch.lot_code == lot)).one()
            exporter, shop = self._users(session, batch)
            job = services.order_job(
                session, exporter, batch.id, printer_org_id=shop.id, stock=stock,
                quantity=quantity, net_quantity=net, host=self.app.config["PUBLIC_HOST"])
            session.commit()
            return int(job.id), job.serial_first, job.serial_last

    def uris(self, job_id: int, path: Path) -> int:
        """The job's labels' verification pages (path and query): where a phone lands after
        the resolver's redirect of the label URI, as its labels print them, into ``path``."""
        from sqlmodel import Session

        from registry.catalog.models import Batch, Product
        from registry.printing import services
        from registry.printing.models import PrintJob
        from registry.signing.keys import signer

        cfg = self.app.config
        prefix = f"{cfg['PUBLIC_SCHEME']}://{cfg['PUBLIC_HOST']}"
        with self.app.app_context(), Session(self.engine, expire_on_commit=False) as session:
            job = session.get(PrintJob, job_id)
            batch = session.get(Batch, job.batch_id)
            product = session.get(Product, batch.product_id)
            source = services.label_source(batch, product, net_quantity=job.net_quantity,
                                           host=cfg["PUBLIC_HOST"], scheme=cfg["PUBLIC_SCHEME"])
            lines = []
            for label in source.labels(signer(), job.serial_first, job.serial_last):
                if not label.qr_uri.startswith(prefix):
                    raise RuntimeError(f"unexpected label URI {label.qr_uri!r}")
                lines.append("/verify" + label.qr_uri.removeprefix(prefix))
        path.write_text("\n".join(lines) + "\n")
        return len(lines)

    def label_file(self, job_id: int) -> Any:
        from sqlmodel import Session, select

        from registry.printing.models import LabelFile

        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(select(LabelFile).where(LabelFile.job_id == job_id,
                                                        LabelFile.format == "pdf")).first()

    def close(self) -> None:
        self.engine.dispose()


def utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite: naive UTC


def ask_for_pdf(base: str, job_id: int, email: str, password: str) -> int:
    """The print shop logs in and GETs the job's PDF, as its browser would: returns the
    status (303 to the job page: the view has asked the worker for the render)."""
    import requests

    http = requests.Session()
    page = http.get(base + "/login", timeout=30)
    match = CSRF_RE.search(page.text)
    if not match:
        raise RuntimeError("no CSRF token on /login")
    login = http.post(base + "/login", data={
        "email": email, "password": password, "csrf_token": match.group(1) or match.group(2)},
        allow_redirects=False, timeout=30)
    if login.status_code != 302:
        raise RuntimeError(f"the print shop's login answered {login.status_code}")
    return http.get(f"{base}/print-shop/jobs/{job_id}.pdf", allow_redirects=False,
                    timeout=60).status_code


# -------------------------------------------------------------------------------------- wrk


def wrk_until(url: str, uris: Path, *, seconds: float, threads: int, connections: int,
              headers: Sequence[str], label: str, done: Callable[[], bool]
              ) -> tuple[Result, float, bool]:
    """wrk as ``run_wrk`` runs it, stopped early (SIGINT: wrk then reports the time it ran)
    once ``done()``; returns its figures, the seconds it ran and whether ``done`` stopped
    it."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
           "--timeout", "5s", "-s", str(ROOT / "bench" / "wrk_uris.lua")]
    for h in headers:
        cmd += ["-H", h]
    cmd += [url, "--", str(uris)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stopped = False
    try:
        while proc.poll() is None:
            if done():
                proc.send_signal(signal.SIGINT)
                stopped = True
                break
            time.sleep(0.25)
        out, err = proc.communicate(timeout=seconds + 60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{out}\n{err}")
    d = json.loads(line.removeprefix("WRK_JSON "))
    errors = d["connect"] + d["read"] + d["write"] + d["status"] + d["timeout"]
    result = Result(label, d["requests"] / (d["duration_us"] / 1e6), d["p50_us"] / 1000,
                    d["p99_us"] / 1000, errors, d["requests"], os.getloadavg()[0])
    return result, d["duration_us"] / 1e6, stopped


# -------------------------------------------------------------------------------------- run


@dataclass
class Phase:
    result: Result
    seconds: float  # wrk ran
    gunicorn_cpu: float
    worker_cpu: float
    loadavg: tuple[float, float, float]
    recycled: int  # gunicorn workers that restarted (max_requests) while wrk ran
    stopped_by: str = ""


def recycled(gunicorn: Proc, offset: int) -> int:
    return gunicorn.log_since(offset).count("Autorestarting worker")


@dataclass
class Job:
    job_id: int
    labels: int
    state: str
    render_seconds: float
    labels_per_s: float
    size: int
    done_at_wrk_stop: int
    seconds_at_wrk_stop: float
    error: str | None


def measure_job(args: argparse.Namespace, reg: Registry, base: str, uris: Path,
                gunicorn: Proc, worker: Proc, kw: dict[str, Any]) -> tuple[Phase, Job]:
    job_id, first, last = reg.order(JOB_LOT, args.labels, args.stock, args.net)
    log(f"ordered job {job_id}: {args.labels:,} labels (serials {first}-{last}) of {JOB_LOT}, "
        f"{args.stock}, {args.net} each")
    from registry.demo import DEMO_PASSWORD

    status = ask_for_pdf(base, job_id, PRINT_SHOP[0], DEMO_PASSWORD)
    if status != 303:
        raise RuntimeError(f"GET /print-shop/jobs/{job_id}.pdf answered {status}, not 303")
    asked = time.monotonic()
    # The worker may be sleeping between polls of an idle SQLite queue (Huey backs off to
    # 10 s): wrk starts once the render is claimed, so it runs while the worker renders.
    while True:
        worker.check()
        row = reg.label_file(job_id)
        if row is not None and row.state != "queued":
            break
        if time.monotonic() - asked > 120:
            raise RuntimeError(f"the worker did not take the render within 120 s; see "
                               f"{worker.log.name}")
        time.sleep(0.1)
    log(f"job {job_id}: GET .pdf answered 303; the worker claimed the render after "
        f"{time.monotonic() - asked:.1f} s; wrk runs until the file is ready or "
        f"{args.duration:g} s")

    def ready() -> bool:
        row = reg.label_file(job_id)
        return row is not None and row.state in ("ready", "failed")

    g0, w0, l0 = gunicorn.cpu_seconds(), worker.cpu_seconds(), gunicorn.log_size()
    result, seconds, stopped = wrk_until(base, uris, seconds=args.duration,
                                         label="during the job", done=ready, **kw)
    phase = Phase(result, seconds, gunicorn.cpu_seconds() - g0, worker.cpu_seconds() - w0,
                  os.getloadavg(), recycled(gunicorn, l0),
                  "file ready" if stopped else "--duration reached")
    at_stop = reg.label_file(job_id)
    at_stop_time = dt.datetime.now(dt.UTC)
    log(f"during the job: {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 "
        f"{result.p99_ms:.1f} ms, {result.errors} errors, {phase.seconds:.1f} s "
        f"({phase.stopped_by}); {at_stop.labels_done:,} of {at_stop.labels_total:,} labels")
    deadline = time.monotonic() + args.job_timeout
    last_log = 0.0
    while not ready():
        worker.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} not ready within --job-timeout "
                               f"{args.job_timeout:g} s; see {worker.log.name}")
        if time.monotonic() - last_log > 10:
            row = reg.label_file(job_id)
            log(f"  waiting for the file: {row.labels_done:,} of {row.labels_total:,} labels")
            last_log = time.monotonic()
        time.sleep(0.5)
    row = reg.label_file(job_id)
    started = utc(row.started_at)
    render = (utc(row.finished_at) - started).total_seconds() if row.finished_at else 0.0
    job = Job(job_id, row.labels_done, row.state, render,
              row.labels_done / render if render else 0.0, row.size or 0,
              at_stop.labels_done, (at_stop_time - started).total_seconds(), row.error)
    log(f"job {job_id}: {row.state}, {row.labels_done:,} labels in {render:.1f} s "
        f"({job.labels_per_s:,.0f} labels/s), {job.size / 1e6:.1f} MB")
    return phase, job


def print_table(args: argparse.Namespace, alone: Phase, during: Phase, job: Job,
                queue: str, n_uris: int, verdicts: dict[str, int]) -> None:
    a, d = alone.result, during.result

    def ms(value: float) -> str:
        return f"{value:.1f}" if value else ">5000"  # wrk keeps no latency for timeouts

    def ratio(x: float, y: float) -> str:
        return f"{x / y:.2f}×" if y else "–"

    loaded = job.done_at_wrk_stop / job.seconds_at_wrk_stop if job.seconds_at_wrk_stop else 0
    print()
    print(f"### Label job under verification load ({job.labels:,} labels, "
          f"{time.strftime('%Y-%m-%d %H:%M')})")
    print()
    print("| verification page | wrk ran | req/s | p50 ms | p99 ms | errors | recycled "
          "| load 1/5/15 | gunicorn CPU s | worker CPU s | labels/s |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for name, p, lps in (("alone", alone, "–"),
                         ("during the job", during, f"{loaded:,.0f} (while wrk ran)")):
        r = p.result
        how = f"{p.seconds:.1f} s" + (f" ({p.stopped_by})" if p.stopped_by else "")
        load = "/".join(f"{x:.1f}" for x in p.loadavg)
        print(f"| {name} | {how} | {r.rps:,.0f} | {ms(r.p50_ms)} | {ms(r.p99_ms)} | "
              f"{r.errors} | {p.recycled} | {load} | {p.gunicorn_cpu:.1f} | {p.worker_cpu:.1f} "
              f"| {lps} |")
    print(f"| during / alone | | {ratio(d.rps, a.rps)} | {ratio(d.p50_ms, a.p50_ms)} | "
          f"{ratio(d.p99_ms, a.p99_ms)} | | | | | | |")
    print()
    print(f"Job {job.job_id}: {job.state}, {job.labels:,} labels ({args.stock}, {args.net} "
          f"each) rendered in {job.render_seconds:.1f} s (label_file finished_at − "
          f"started_at): **{job.labels_per_s:,.0f} labels/s**; PDF {job.size:,} bytes "
          f"({job.size / 2**20:.1f} MiB). When wrk stopped ({during.stopped_by}), "
          f"{job.done_at_wrk_stop:,} labels were done {job.seconds_at_wrk_stop:.1f} s after "
          "the render started." + (f" Error: {job.error}" if job.error else ""))
    print()
    recycle = ("max_requests as shipped" if args.max_requests is None else
               f"--max-requests {args.max_requests}")
    print(f"Settings: gunicorn -c deploy/gunicorn.conf.py (gthread, "
          f"{os.environ.get('GUNICORN_THREADS') or 4} threads, {recycle}) "
          f"--workers {args.workers} on 127.0.0.1; flask --app registry worker --workers "
          f"{args.queue_workers}; queue {queue}; SQLite registry (WAL) made by `flask demo`; "
          f"wrk -t{args.threads} -c{args.connections}, {args.warmup:g} s warm-up, "
          f"--duration {args.duration:g} s, a random one of {n_uris:,} signed label URIs a "
          f"request, Accept: text/html; {os.cpu_count()} cores. Verdicts of a sample before "
          f"the runs: {verdicts}. CPU s: user + system seconds of all gunicorn processes, and "
          "of the worker with its QR encoder processes, while wrk ran. recycled: gunicorn "
          "workers restarted by max_requests while wrk ran (a restart leaves the other worker "
          "alone for a second or two: it shows in p99). load: the 1/5/15-minute load average "
          "when wrk stopped.")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--labels", type=int, default=100_000, help="labels in the rendered job")
    p.add_argument("--duration", type=float, default=20,
                   help="seconds of wrk alone, and at most during the job")
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--uris", type=int, default=20_000,
                   help="labels of the small job whose URIs wrk requests (enough that a serial "
                        "is scanned about once a run: fewer soon read as copies)")
    p.add_argument("--stock", default="a4-3x7")
    p.add_argument("--net", default="1 g", help="net quantity on each label of the job")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    p.add_argument("--max-requests", type=int, default=None, metavar="N",
                   help="gunicorn --max-requests N (0: never recycle a worker); default: the "
                        "shipped config's 1000 ± 100")
    p.add_argument("--queue-workers", type=int, default=1, help="the task worker's --workers")
    p.add_argument("--redis", action="store_true",
                   help=f"queue on {REDIS_URL} (emptied before and after) instead of SQLite")
    p.add_argument("--job-timeout", type=float, default=1800,
                   help="seconds to wait for the file after wrk stopped")
    p.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (database, logs)")
    args = p.parse_args(argv)
    if shutil.which("wrk") is None:
        p.error("wrk is missing: apt-get install -y wrk")

    workdir = Path(args.keep or tempfile.mkdtemp(prefix="bench_labeljob_")).resolve()
    if args.keep and workdir.exists() and any(workdir.iterdir()):
        p.error(f"{workdir} is not empty: the bench needs a fresh registry")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    queue_url = REDIS_URL if args.redis else f"sqlite:///{workdir / 'queue.sqlite3'}"
    env = app_env(workdir, f"sqlite:///{workdir / 'registry.sqlite3'}", f"127.0.0.1:{port}")
    for name in ("QUEUE_URL", "REDIS_URL", "FILE_STORE", "KEY_DIR", "QUEUE_WORKERS",
                 "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    env["QUEUE_URL"] = queue_url
    env["TMPDIR"] = str(workdir)  # the worker's temporary PDF: removed with the folder
    redis_client = None
    procs: list[Proc] = []
    reg: Registry | None = None
    try:
        if args.redis:
            import redis

            redis_client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
            redis_client.flushdb()
        t0 = time.perf_counter()
        flask(env, "db", "upgrade")
        log(f"keys: {flask(env, 'keys', 'ensure')}")
        log(f"demo: {flask(env, 'demo')}")
        reg = Registry(env)
        uri_job, _first, _last = reg.order(URIS_LOT, args.uris, args.stock, args.net)
        uris = workdir / "uris.txt"
        n_uris = reg.uris(uri_job, uris)
        log(f"registry in {workdir} ({time.perf_counter() - t0:.0f} s); {n_uris:,} label URIs "
            f"of job {uri_job} ({URIS_LOT})")

        # The shipped config; a control socket of its own, so a gunicorn the tests run beside
        # this bench keeps ~/.gunicorn/gunicorn.ctl.
        cmd = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
               "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
               "--control-socket", str(workdir / "gunicorn.ctl")]
        if args.max_requests is not None:
            cmd += ["--max-requests", str(args.max_requests)]
        gunicorn = Proc("gunicorn", [*cmd, "wsgi:app"], env, workdir / "gunicorn.log")
        procs.append(gunicorn)
        worker = Proc("worker", [str(BIN / "flask"), "--app", "registry", "worker",
                                 "--workers", str(args.queue_workers)], env,
                      workdir / "worker.log")
        procs.append(worker)
        wait_ready(base + "/healthz", gunicorn)
        verdicts = smoke(base, uris, n=50)
        log(f"verdicts of 50 sampled URIs: {verdicts}; queue {queue_url}")

        kw = dict(threads=args.threads, connections=args.connections,
                  headers=[f"Accept: {HTML_ACCEPT}", f"User-Agent: {USER_AGENT}",
                           "Accept-Language: en-GB,en;q=0.9"])
        run_wrk(base, uris, seconds=args.warmup, label="warm-up", **kw)
        worker.check()
        g0, w0, l0 = gunicorn.cpu_seconds(), worker.cpu_seconds(), gunicorn.log_size()
        result = run_wrk(base, uris, seconds=args.duration, label="alone", **kw)
        alone = Phase(result, result.requests / result.rps if result.rps else 0.0,
                      gunicorn.cpu_seconds() - g0, worker.cpu_seconds() - w0, os.getloadavg(),
                      recycled(gunicorn, l0))
        log(f"alone: {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 "
            f"{result.p99_ms:.1f} ms, {result.errors} errors, load {result.load:.1f}")

        during, job = measure_job(args, reg, base, uris, gunicorn, worker, kw)
        print_table(args, alone, during, job,
                    "Redis 127.0.0.1:6379/9" if args.redis else "SQLite file", n_uris, verdicts)
    finally:
        for proc in reversed(procs):
            proc.stop()
        if reg is not None:
            reg.close()
        if redis_client is not None:
            with contextlib.suppress(Exception):
                redis_client.flushdb()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept {workdir} (registry.sqlite3, gunicorn.log, worker.log, uris.txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
