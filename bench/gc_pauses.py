"""Garbage-collector pauses in a serving process, with and without registry/ops/memory.py.

Uses the registry that ``bench/verify.py --keep DIR`` built (SQLite)::

    .venv/bin/python bench/verify.py --keep /tmp/bv --no-http     # once, ~3 minutes
    .venv/bin/python bench/gc_pauses.py /tmp/bv [--requests 8000]

Runs the same verification pages (random labels, random language of the four) through the
real app in a fresh process three times, one after the other: as a worker ran before
(nothing frozen), frozen when built (``settle(app, 0)``), and frozen when built and after a
warm-up (``settle`` as wsgi.py does it). Each process prints every collection's duration by
generation (``gc.callbacks``) and the request latencies. One request at a time, so the
figures are the process's own pauses, not a server's queueing; a pause of N ms in a worker
delays every request queued behind it by up to N ms.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import gc, json, os, random, sys, time
from pathlib import Path
root, work, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
n, warm = int(sys.argv[4]), int(sys.argv[5])
sys.path[:0] = [root, root + "/bench"]
import verify as bv
for k, v in bv.app_env(work, f"sqlite:///{work / 'registry.sqlite3'}").items():
    os.environ[k] = v
from registry import create_app
from registry.ops.memory import settle
app = create_app()
wsgi = settle(app.wsgi_app, warm) if mode == "warm-up" else (
    settle(app.wsgi_app, 0) if mode == "built" else app.wsgi_app)
app.wsgi_app = wsgi
client = app.test_client()
paths = ["/verify" + p for p in (work / "uris.txt").read_text().split()]
rng = random.Random(3)
langs = ["en", "id", "zh", "ja"]
pauses = {0: [], 1: [], 2: []}
start = [0.0]
def cb(phase, info):
    if phase == "start":
        start[0] = time.perf_counter()
    else:
        pauses[info["generation"]].append(time.perf_counter() - start[0])
gc.callbacks.append(cb)
lat = []
for i in range(n):
    t = time.perf_counter()
    r = client.get(rng.choice(paths), headers={"Accept": bv.HTML_ACCEPT,
                   "User-Agent": bv.USER_AGENT, "Accept-Language": rng.choice(langs)})
    lat.append(time.perf_counter() - t)
    assert r.status_code == 200, r.status_code
lat = sorted(lat[min(warm, n // 4):])  # the steady state: after the warm-up
q = lambda f: 1000 * lat[min(len(lat) - 1, int(len(lat) * f))]
print(json.dumps({"mode": mode, "p50": q(0.5), "p99": q(0.99), "p999": q(0.999),
    "max": 1000 * lat[-1], "tracked": len(gc.get_objects()), "frozen": gc.get_freeze_count(),
    "gc": {g: [len(ps), 1000 * max(ps, default=0), 1000 * sum(ps)] for g, ps in pauses.items()}}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workdir", type=Path)
    p.add_argument("--requests", type=int, default=8000)
    p.add_argument("--warm-up", type=int, default=1000, help="as GC_FREEZE_AFTER_REQUESTS")
    args = p.parse_args()
    rows = []
    for mode in ("none", "built", "warm-up"):
        argv = [str(ROOT), str(args.workdir), mode, str(args.requests), str(args.warm_up)]
        out = subprocess.run([sys.executable, "-c", CHILD, *argv], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"\n{args.requests:,} verification pages, one at a time (SQLite, test client); "
          f"latencies after the first {args.warm_up:,}")
    head = (f"{'frozen':<16}{'p50 ms':>8}{'p99 ms':>8}{'p99.9 ms':>10}{'max ms':>8}"
            f"{'full GCs':>10}{'longest ms':>12}{'young GCs':>11}{'longest ms':>12}"
            f"{'tracked':>10}")
    print(head)
    print("-" * len(head))
    names = {"none": "nothing", "built": "when built", "warm-up": "built + warm-up"}
    for r in rows:
        g = r["gc"]
        young = [g["0"][0] + g["1"][0], max(g["0"][1], g["1"][1])]
        print(f"{names[r['mode']]:<16}{r['p50']:>8.2f}{r['p99']:>8.2f}{r['p999']:>10.1f}"
              f"{r['max']:>8.1f}{g['2'][0]:>10}{g['2'][1]:>12.1f}{young[0]:>11}"
              f"{young[1]:>12.1f}{r['tracked']:>10,}")


if __name__ == "__main__":
    main()
