"""The shipped systemd units (``deploy/systemd/``) read as commands: the operations tests and
the GS1 conformance run start the verification pool exactly as its unit does, from one reading
of the file, so a flag changed in the unit is the flag they run with."""

from __future__ import annotations

from pathlib import Path


class UnitError(ValueError):
    """The unit has no ``ExecStart`` to run."""


def unit_command(unit: Path) -> tuple[list[str], dict[str, str]]:
    """``unit``'s ``ExecStart`` command line (continuation lines joined) and its
    ``Environment=`` settings. Only the plain forms the shipped units use: one ``ExecStart``,
    no quoting, no ``$VARIABLE`` expansion, no ``-``/``@``/``+`` prefixes."""
    text = unit.read_text("utf-8").replace("\\\n", " ")
    argv: list[str] = []
    env: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key == "ExecStart":
            argv = value.split()
        elif key == "Environment":
            name, _, setting = value.partition("=")
            env[name] = setting
    if not argv:
        raise UnitError(f"no ExecStart in {unit}")
    return argv, env


def local_command(unit: Path, *, bin_dir: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """``unit_command`` made runnable here: its program from ``bin_dir`` (the unit names the
    production venv's, /srv/registry/.venv/bin/…) and listening on ``port``."""
    argv, env = unit_command(unit)
    argv[0] = str(bin_dir / Path(argv[0]).name)
    argv[argv.index("--port") + 1] = str(port)
    return argv, env
