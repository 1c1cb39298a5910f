"""Label rendering benchmark: the streaming renderer against a plain reportlab baseline.

Run from the repository root::

    python bench/labels.py            # 1,000 and 10,000 labels, baseline at both, 100,000 streamed
    python bench/labels.py --quick    # baseline only at 1,000 labels (it takes ~10 ms a label)
    python bench/labels.py --no-baseline   # the renderer's rows only (comparing two versions)

Every measurement runs in its own child process, so peak RSS is that job's alone (the main
process's ``ru_maxrss``; the processes the renderer starts, QR encoders and a fork server if it
uses one, are reported separately: how many, and the largest one's peak RSS). CPU time is the
timed job's, those processes included: on a busy machine labels/s swings with the load, CPU
per label much less. Every label has its own serial and its own Ed25519-signed URI, signed
inside the timed region, so the figures are end to end. The baseline draws the same labels the
obvious way: the ``qrcode`` library's module matrix as one reportlab path per code, text with
``drawString``, everything on one reportlab canvas.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STOCK = "a4-3x7"


def make_labels(n: int, key_dir: str) -> Iterator[object]:
    from registry.gs1 import digital_link as gs1
    from registry.printing.render.label import LabelData
    from registry.signing.keydir import KeyDir

    signer = KeyDir(key_dir).active_signer()
    gtin = gs1.registry_gtin(4711)
    lot = "BJW-2026/07"
    for number in range(1, n + 1):
        serial = gs1.format_serial(number)
        yield LabelData(
            product_name="Kopi Arabika Flores Bajawa, semi-washed, grade 1",
            origin_regency="Kabupaten Ngada",
            origin_province="Nusa Tenggara Timur",
            producer="Koperasi Tani Kopi Bajawa",
            lot=lot,
            net_quantity="250 g",
            best_before="2027-06-30",
            serial=serial,
            short_host="mib.id",
            qr_uri=signer.label_uri("mib.id", gtin, lot, serial),
        )


def run_ours(n: int, key_dir: str, out: Path, workers: int | None) -> dict[str, float]:
    from registry.printing.render.stream import iter_pdf
    from registry.printing.stocks import load_stocks

    stock = load_stocks()[STOCK]
    total, ttfb = 0, None
    start = time.perf_counter()
    with out.open("wb") as fh:
        for chunk in iter_pdf(stock, make_labels(n, key_dir), workers=workers):
            if ttfb is None:
                ttfb = time.perf_counter() - start
            fh.write(chunk)
            total += len(chunk)
    return {"seconds": time.perf_counter() - start, "bytes": total, "ttfb": ttfb or 0.0}


def run_baseline(n: int, key_dir: str, out: Path) -> dict[str, float]:
    import qrcode
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from registry.printing.stocks import MM, load_stocks

    stock = load_stocks()[STOCK]
    pdfmetrics.registerFont(TTFont("DejaVu", str(stock.fonts["regular"])))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(stock.fonts["bold"])))
    start = time.perf_counter()
    c = canvas.Canvas(str(out), pagesize=(stock.page_width * MM, stock.page_height * MM))
    per_sheet = stock.labels_per_sheet
    qr = stock.qr.box
    for i, label in enumerate(make_labels(n, key_dir)):
        slot = i % per_sheet
        if slot == 0 and i:
            c.showPage()
        x0, top = stock.label_origin(slot)
        lx, ly = x0 * MM, (stock.page_height - top - stock.label_height) * MM
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        code.add_data(label.qr_uri)  # type: ignore[attr-defined]
        code.make(fit=True)
        matrix = code.get_matrix()
        modules = len(matrix)
        m = min(qr.w, qr.h) * MM / (modules + 8)
        qx = lx + qr.x * MM + 4 * m
        qy = ly + (stock.label_height - qr.y) * MM - 4 * m
        path = c.beginPath()
        for r, row in enumerate(matrix):
            for col, dark in enumerate(row):
                if dark:
                    path.rect(qx + col * m, qy - (r + 1) * m, m, m)
        c.drawPath(path, stroke=0, fill=1)
        for el in stock.texts:
            text = label.text_for(el.name)  # type: ignore[attr-defined]
            if text:
                font = "DejaVu-Bold" if el.style.font == "bold" else "DejaVu"
                c.setFont(font, el.style.size_min)
                c.drawString(
                    lx + el.box.x * MM,
                    ly + (stock.label_height - el.box.y) * MM - el.style.size_min,
                    el.style.prefix + text,
                )
    c.save()
    return {"seconds": time.perf_counter() - start, "bytes": out.stat().st_size, "ttfb": 0.0}


def descendants() -> list[int]:
    """Every process below this one, from /proc (children of each thread, recursively)."""
    found: list[int] = []
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except OSError:
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and everything it started so far.

    Children that ended were waited for (``RUSAGE_CHILDREN``); processes still running (a
    multiprocessing fork server, its resource tracker) count with what they used and what
    their own ended children used, which is where a fork server's workers end up.
    """
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for pid in descendants():
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def _peak_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass  # gone already
    return 0


class Descendants:
    """Peak RSS of every process below this one, sampled from /proc every 50 ms.

    ``RUSAGE_CHILDREN`` counts only children this process has waited for, so it misses the
    workers a multiprocessing fork server forks (its children, not ours) and the fork server
    itself (alive until we exit); and for a child started by fork and exec it reports the
    parent's size at the fork. Each process keeps its last sample: its peak (VmHWM) only grows
    after the exec, so that misses at most what it gains in its last 50 ms, and never shows
    the parent's pages seen between fork and exec.
    """

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.peaks: dict[int, int] = {}  # pid → peak RSS, kB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Descendants:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        for pid in descendants():
            peak = _peak_rss_kb(pid)
            if peak:
                self.peaks[pid] = peak


def child(kind: str, n: int, key_dir: str, workers: int | None) -> None:
    sys.path.insert(0, str(ROOT))
    descendants = Descendants()
    with tempfile.TemporaryDirectory() as tmp, descendants:
        out = Path(tmp) / "labels.pdf"
        warm = kind.endswith("-warm")
        run = run_baseline if kind.startswith("baseline") else (
            lambda n, key_dir, out: run_ours(n, key_dir, out, workers))
        if warm:
            # A running registry has imported everything and parsed its fonts already:
            # one small job first, so the timed job measures only the job itself.
            run(21, key_dir, out)
        cpu = cpu_seconds()
        result = run(n, key_dir, out)
        result["cpu"] = cpu_seconds() - cpu
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["child_rss_mb"] = max(descendants.peaks.values(), default=0) / 1024
    result["children"] = len(descendants.peaks)
    print(json.dumps(result))


def measure(kind: str, n: int, key_dir: str, workers: int | None = None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, str(n), key_dir, str(workers or 0)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        sys.exit(f"{kind} {n} failed:\n{done.stderr}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "n": n}


def row(label: str, n: int, r: dict[str, float], base: dict[str, float] | None = None) -> str:
    rate = n / r["seconds"]
    text = (
        f"{label:<24} {n:>7,} {rate:>9,.0f}/s {r['bytes'] / n:>8,.0f} B/label "
        f"{r['rss_mb']:>6.0f} MB"
    )
    if r["child_rss_mb"]:
        text += f" (+{r['children']:.0f} processes ≤{r['child_rss_mb']:.0f} MB each)"
    if r["ttfb"]:
        text += f"  first bytes {r['ttfb'] * 1000:,.0f} ms"
    text += f"  CPU {r['cpu'] * 1000 / n:.2f} ms/label"
    if base is not None:
        text += f"  ×{rate / (base['n'] / base['seconds']):.1f} baseline speed"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="baseline only at 1,000 labels")
    parser.add_argument("--no-baseline", action="store_true",
                        help="the renderer's rows only (to compare two versions of it)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, key_dir, workers = args.child
        child(kind, int(n), key_dir, int(workers) or None)
        return

    sys.path.insert(0, str(ROOT))
    from registry.signing.keydir import KeyDir

    with tempfile.TemporaryDirectory() as key_dir:
        KeyDir(key_dir).create_key()
        print(f"stock {STOCK}, unique signed URIs, {os.cpu_count()} CPUs\n")
        base_1k: dict[str, float] | None = None
        for n in (1_000, 10_000):
            if args.no_baseline:
                base = None
            elif n == 1_000 or not args.quick:
                base = measure("baseline", n, key_dir)
                print(row("baseline (qrcode+rl)", n, base))
                base_1k = base_1k or base
            else:
                base = base_1k  # the baseline's per-label rate hardly depends on n
            ours = measure("ours", n, key_dir)
            print(row("streaming, 2 encoders", n, ours, base))
            single = measure("ours", n, key_dir, workers=1)
            print(row("streaming, in-process", n, single, base))
            print()
        print("in a running process (imports and fonts already loaded):")
        base = None if args.no_baseline else measure("baseline-warm", 1_000, key_dir)
        if base is not None:
            print(row("baseline (qrcode+rl)", 1_000, base))
        for workers, label in ((None, "streaming, 2 encoders"), (1, "streaming, in-process")):
            print(row(label, 1_000, measure("ours-warm", 1_000, key_dir, workers), base))
        print()
        big = measure("ours", 100_000, key_dir)
        print(row("streaming, 2 encoders", 100_000, big))


if __name__ == "__main__":
    main()
