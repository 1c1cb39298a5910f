"""A serving worker freezes its long-lived objects out of the full garbage collections
(registry/ops/memory.py), first when the app is built and again after its warm-up requests."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.ops.memory import FreezeAfterWarmUp, settle

ROOT = Path(__file__).resolve().parents[2]


def _hello(environ: object, start_response: object) -> list[bytes]:
    return [b"hello"]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """This test process's own objects go back to the collector afterwards."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_freezes_once_after_the_warm_up(unfrozen: None) -> None:
    app = FreezeAfterWarmUp(_hello, after=3)
    assert app({}, None) == [b"hello"]
    assert app({}, None) == [b"hello"]
    assert gc.get_freeze_count() == 0 and not app.settled
    app({}, None)
    frozen = gc.get_freeze_count()
    assert frozen > 1000 and app.settled  # this process's modules, at least
    gc.unfreeze()
    for _ in range(5):
        assert app({}, None) == [b"hello"]
    assert gc.get_freeze_count() == 0, "froze again after the warm-up"


def test_settle_freezes_now_and_wraps_only_with_a_warm_up(unfrozen: None) -> None:
    assert settle(_hello, 0) is _hello
    assert gc.get_freeze_count() > 1000
    gc.unfreeze()
    wrapped = settle(_hello, 10)
    assert isinstance(wrapped, FreezeAfterWarmUp) and wrapped.after == 10
    assert gc.get_freeze_count() > 1000


def test_the_wsgi_entry_point_settles_its_worker(tmp_path: Path) -> None:
    """What gunicorn imports: the app built, its objects frozen, the warm-up counter outermost,
    the configured count (GC_FREEZE_AFTER_REQUESTS) in force."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "REGISTRY_ENV": "development", "REGISTRY_INSTANCE": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}",
           "GC_FREEZE_AFTER_REQUESTS": "7"}
    probe = ("import gc, wsgi; w = wsgi.app.wsgi_app; "
             "print(gc.get_freeze_count() > 10000, type(w).__name__, w.after)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout.split()
    assert out == ["True", "FreezeAfterWarmUp", "7"]
