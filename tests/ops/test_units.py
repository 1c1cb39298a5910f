"""Reading the shipped systemd units as commands (registry.ops.units): the operations tests
and the GS1 conformance run start the verification pool from this one reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry import ROOT
from registry.ops.units import UnitError, local_command, unit_command

VERIFY_UNIT = ROOT / "deploy" / "systemd" / "registry-verify.service"


def test_the_verification_pool_runs_as_its_unit_says() -> None:
    argv, env = local_command(VERIFY_UNIT, bin_dir=Path("/opt/venv/bin"), port=18001)
    # Continuation lines joined, the program from this venv, the port replaced, the rest kept.
    assert argv[0] == "/opt/venv/bin/granian"
    assert argv[argv.index("--port") + 1] == "18001"
    assert argv[argv.index("--blocking-threads") + 1] == "1"
    assert {"--interface", "wsgi", "--http", "--no-access-log"} <= set(argv)
    assert argv[-1] == "wsgi:app"
    assert env["GRANIAN_WORKERS"] == "2"
    assert unit_command(VERIFY_UNIT)[0][0] == "/srv/registry/.venv/bin/granian"


def test_a_unit_without_a_command_is_refused(tmp_path: Path) -> None:
    unit = tmp_path / "x.service"
    unit.write_text("[Service]\n# ExecStart=/bin/true\nEnvironment=A=1\n")
    with pytest.raises(UnitError, match="no ExecStart"):
        unit_command(unit)
    unit.write_text("[Service]\nEnvironment=A=b=c\nExecStart=/usr/bin/prog --port 1 \\\n"
                    "    --flag x\n")
    assert unit_command(unit) == (["/usr/bin/prog", "--port", "1", "--flag", "x"], {"A": "b=c"})
