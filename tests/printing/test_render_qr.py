"""QR encoding and its worker pool (registry/printing/render/qr.py): masks that scan back to
their URI, the pool giving the same masks in the same order as in-process encoding, workers
that ignore SIGINT (the task queue's graceful stop reaches the whole process group) and leave
with the process that started them, and a dead worker reported as a RenderError."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import zxingcpp
from PIL import Image, ImageOps

from registry import ROOT
from registry.printing.render import qr
from registry.printing.render.label import LabelData, RenderError

PER_SHEET = 21


def uri(i: int) -> str:
    return f"https://mib.id/01/00491234567890/10/BJW-26/21/{i:010d}?s=" + "Ab-_" * 21


def sheets(n: int) -> Iterator[qr.Sheet]:
    labels = [LabelData(product_name="", origin_regency="", origin_province="", producer="",
                        lot="", net_quantity="", best_before=None, serial=str(i),
                        short_host="", qr_uri=uri(i)) for i in range(n)]
    for index, start in enumerate(range(0, n, PER_SHEET)):
        yield index, labels[start:start + PER_SHEET]


def scanned(modules: int, bits: bytes) -> list[zxingcpp.Barcode]:
    image = Image.frombytes("1", (modules, modules), bits).convert("L")  # 0 bit: dark
    image = ImageOps.expand(image, border=4, fill=255).resize(
        ((modules + 8) * 4, (modules + 8) * 4), Image.Resampling.NEAREST)
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_a_mask_scans_back_to_its_uri_at_its_level(level: str) -> None:
    modules, bits = qr.qr_mask(uri(7), level)
    assert len(bits) == modules * -(-modules // 8)  # rows padded to whole bytes
    (symbol,) = scanned(modules, bits)
    assert symbol.text == uri(7) and symbol.ec_level == level


def new_children(before: set[int]) -> list[int]:
    return [p.pid for p in multiprocessing.active_children() if p.pid not in before]


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's reaper may be slow, or none)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        # Gone before the open (ENOENT) or between the open and the read (ESRCH).
        return False


def initialized(pid: int) -> bool:
    """The pool's initializer has run: SIGINT ignored, and its caller-watch thread started
    after that (a fork of the fork server ignores SIGINT too, until it resets its handlers)."""
    with open(f"/proc/{pid}/status") as fh:
        mask = next(line.split()[1] for line in fh if line.startswith("SigIgn:"))
    return bool(int(mask, 16) & (1 << (signal.SIGINT - 1))) and len(
        os.listdir(f"/proc/{pid}/task")) >= 2


def wait_for(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_the_pool_gives_the_in_process_masks_in_order() -> None:
    n = qr.PARALLEL_AFTER + 30 * PER_SHEET + 5  # past the in-process start, a short last sheet
    alone = list(qr.with_masks(sheets(n), "M", PER_SHEET, workers=1))
    pooled = list(qr.with_masks(sheets(n), "M", PER_SHEET, workers=2))
    assert [s[0] for s, _ in pooled] == list(range(-(-n // PER_SHEET)))
    assert pooled == alone


def test_workers_ignore_sigint_and_keep_encoding() -> None:
    before = {p.pid for p in multiprocessing.active_children()}
    pool = qr.start_pool(2)
    try:
        workers = new_children(before)
        assert len(workers) == 2
        wait_for(lambda: all(initialized(pid) for pid in workers), 30, "the initializer")
        for pid in workers:
            os.kill(pid, signal.SIGINT)
        futures = [pool.submit(qr.qr_masks, [uri(i)], "M") for i in range(8)]
        assert [f.result(timeout=30) for f in futures] == [
            qr.qr_masks([uri(i)], "M") for i in range(8)]
        assert all(running(pid) for pid in workers)
    finally:
        pool.shutdown()


def test_workers_leave_when_the_process_that_started_them_is_killed() -> None:
    script = (
        "import multiprocessing, time\n"
        "from registry.printing.render import qr\n"
        "pool = qr.start_pool(2)\n"
        "pool.submit(qr.qr_masks, [], 'M').result()\n"
        "print(*(p.pid for p in multiprocessing.active_children()), flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(running(pid) for pid in workers)
        wait_for(lambda: all(initialized(pid) for pid in workers), 30, "the initializer")
    finally:
        parent.kill()  # SIGKILL: no shutdown message ever reaches the workers
        parent.wait()
    wait_for(lambda: not any(running(pid) for pid in workers), 5, "the orphaned workers to exit")


def test_a_worker_killed_mid_job_is_a_render_error() -> None:
    before = {p.pid for p in multiprocessing.active_children()}
    masks = qr.with_masks(sheets(qr.PARALLEL_AFTER + 40 * PER_SHEET), "M", PER_SHEET, workers=2)
    next(masks)
    next(masks)  # the pool starts once the first sheet is out
    workers = new_children(before)
    assert len(workers) == 2
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(RenderError, match="QR encoder process exited"):
        for _ in masks:
            pass
