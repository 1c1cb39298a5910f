"""Issue 12 §3: ``make run`` keeps PUBLIC_HOST in step with PORT, so a development server on
another port prints its own address into the QR codes (today ``PORT=5301 make run`` printed
127.0.0.1:5000). Each case asks the app's configuration, loaded in the environment the
Makefile's recipes get, for the label address it would print; the venv is not touched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from registry import ROOT

# A recipe added beside the Makefile's own: it runs with their environment and prints the label
# address the app's configuration (what create_app loads) gives; the whole app would take
# seconds to import, for the same answer.
PROBE = ("label-address: ; @$(BIN)/python -c \"import os, pathlib; "
         "from registry.gs1 import digital_link as gs1; from registry.config import load_config; "
         "c = load_config(pathlib.Path(os.environ['REGISTRY_INSTANCE'])); "
         "print(gs1.build_uri(c['PUBLIC_HOST'], '00490000000016', 'A-LOT-1', '42', "
         "scheme=c['PUBLIC_SCHEME']))\"")


def label_address(tmp_path: Path, *make_args: str, **env_vars: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PUBLIC_HOST", "PORT", "MAKEFLAGS", "MAKELEVEL", "REGISTRY_ENV")}
    env.update(env_vars, REGISTRY_INSTANCE=str(tmp_path / "instance"))
    done = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT),
                           "--eval", PROBE, *make_args, "label-address"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(("make_args", "env", "wanted"), [
    ((), {}, "http://127.0.0.1:5000/01/00490000000016/10/A-LOT-1/21/42"),
    ((), {"PORT": "5301"}, "http://127.0.0.1:5301/01/00490000000016/10/A-LOT-1/21/42"),
    (("PORT=5302",), {}, "http://127.0.0.1:5302/01/00490000000016/10/A-LOT-1/21/42"),
    ((), {"PORT": "5301", "PUBLIC_HOST": "cek.example.id"},
     "http://cek.example.id/01/00490000000016/10/A-LOT-1/21/42"),
])
def test_make_run_labels_carry_the_port_it_serves_on(
        tmp_path: Path, make_args: tuple[str, ...], env: dict[str, str], wanted: str) -> None:
    assert label_address(tmp_path, *make_args, **env) == wanted
