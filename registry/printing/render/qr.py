"""QR codes: zxing-cpp's encoder, in-process or in a pool of worker processes.

zxing-cpp's compiled writer (standard mask selection included, which is most of its cost)
holds the GIL, so large jobs encode in worker processes. Small jobs, and the first pages of
every job, stay in-process, so nothing is started for a preview and the first bytes come at
once; the pool starts after the first page.

The pool is ``concurrent.futures.ProcessPoolExecutor`` in a fork server context. The caller
is threaded (the task queue's worker runs tasks in threads), and forking a threaded process is
unsafe, so workers are never forks of the caller: the fork server is a fresh interpreter,
started by a process's first pool (which waits for its imports, a few tenths of a second,
once), that imports this module once and forks each worker off itself, single-threaded, in
milliseconds. Like every multiprocessing
start method but fork, a worker imports the caller's main script (not as ``__main__``), so
scripts that render large jobs need the ``if __name__ == "__main__":`` idiom (flask, gunicorn,
pytest and the bench scripts have it).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice

import zxingcpp
from PIL import Image

from registry.printing.render.label import LabelData, RenderError

__all__ = ["PARALLEL_AFTER", "START_METHOD", "Masks", "Sheet", "qr_mask", "qr_masks",
           "start_pool", "with_masks"]

# Jobs draw their first PARALLEL_AFTER labels in-process while the encoder processes start.
PARALLEL_AFTER = 400
# Labels per task sent to a worker: large enough that pickling and the pipes cost little,
# small enough that the window below keeps both workers busy and memory flat.
LABELS_PER_TASK = 48
# Measured with bench/labels.py (README, Performance) against the hand-rolled pipe pool this
# replaced and against "spawn", 2026-12-02: in a running process a job costs the same CPU as
# with the pipe pool (1.33 against 1.36 ms/label at 1,000 labels; 100,000 labels within the
# noise of the busy machine); spawn starts two interpreters per job, each importing Flask
# through ``registry/__init__.py``: 2.29 ms/label at 1,000 labels. The fork server's own start
# (once per process) costs about what spawn costs every job.
START_METHOD = "forkserver"

Sheet = tuple[int, list[LabelData]]  # (index, the labels on it in slot order)
Masks = list[tuple[int, bytes]]  # per label: modules per side, packed rows


def qr_mask(uri: str, level: str) -> tuple[int, bytes]:
    """Encode ``uri``; return the module count per side and the packed rows (0 bit = dark).

    The rows are exactly what a PDF ``/ImageMask`` with the default decode array paints.
    """
    symbol = zxingcpp.create_barcode(uri, zxingcpp.BarcodeFormat.QRCode, ec_level=level)
    matrix = symbol.to_image(scale=1, add_quiet_zones=False)
    height, width = matrix.shape[:2]
    # zxing-cpp's stub leaves out the buffer protocol its Image implements.
    pixels = bytes(memoryview(matrix))  # type: ignore[arg-type]
    gray = Image.frombuffer("L", (width, height), pixels, "raw", "L", 0, 1)
    return width, gray.convert("1", dither=Image.Dither.NONE).tobytes()


def qr_masks(uris: list[str], level: str) -> Masks:
    return [qr_mask(uri, level) for uri in uris]


def _start_worker() -> None:
    """Initializer of every pool worker.

    SIGINT is ignored: a terminal's Ctrl-C, or the task queue's graceful stop sent to the
    process group, must let the caller finish (or cancel) the job it is rendering, not kill
    its encoders under it. And a worker exits as soon as the caller is gone: a killed caller
    (kill -9) never sends the pool's stop message, and the worker would wait for work
    forever. It watches the caller, not its parent: the parent is the fork server, which
    lives as long as its workers do (each holds the pipe whose closing tells the server that
    the caller is gone).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    caller = multiprocessing.parent_process()
    if caller is not None:  # always, in a pool worker
        threading.Thread(target=_exit_with, args=(caller,), name="caller-watch",
                         daemon=True).start()


def _exit_with(caller: multiprocessing.process.BaseProcess) -> None:
    caller.join()  # returns when the caller is gone
    os._exit(0)


def start_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` encoder processes, starting now."""
    context = multiprocessing.get_context(START_METHOD)
    # The server imports the encoder once (when it starts); each worker is a fork of it.
    context.set_forkserver_preload([__name__])
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
    # A pool starts a worker only when a task finds none idle: one empty task per worker
    # starts them all now, while the caller goes on encoding in-process.
    for _ in range(workers):
        pool.submit(qr_masks, [], "M")
    return pool


def _uris(sheet: Sheet) -> list[str]:
    return [label.qr_uri for label in sheet[1]]


def with_masks(
    sheets: Iterator[Sheet], level: str, per_sheet: int, workers: int
) -> Iterator[tuple[Sheet, Masks]]:
    """Each sheet with its labels' QR masks at error ``level``, in order.

    ``workers`` > 1 encodes in that many processes after the first PARALLEL_AFTER labels,
    with at most three tasks per worker in flight, so memory stays flat however long the job.
    """
    if workers <= 1:
        for sheet in sheets:
            yield sheet, qr_masks(_uris(sheet), level)
        return

    pool: ProcessPoolExecutor | None = None
    window: deque[tuple[list[Sheet], Future[Masks]]] = deque()
    per_task = max(1, math.ceil(LABELS_PER_TASK / per_sheet))
    done = 0
    try:
        while True:
            if done < PARALLEL_AFTER or pool is None:
                head = next(sheets, None)
                if head is None:
                    break
                yield head, qr_masks(_uris(head), level)
                done += len(head[1])
                if pool is None:
                    pool = start_pool(workers)
                continue
            group = list(islice(sheets, per_task))
            if group:
                uris = [uri for sheet in group for uri in _uris(sheet)]
                window.append((group, pool.submit(qr_masks, uris, level)))
            if window and (not group or len(window) >= 3 * workers):
                group_done, future = window.popleft()
                masks = future.result()
                start = 0
                for sheet in group_done:
                    yield sheet, masks[start : start + len(sheet[1])]
                    start += len(sheet[1])
            if not group and not window:
                break
    except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
        raise RenderError("QR encoder process exited") from exc
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
