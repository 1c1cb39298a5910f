"""The rooms of ``registry/`` (issue 15 §2): the README's "Layout" names every top-level module
and package and nothing that is not there, and the import-direction contracts of
pyproject.toml (``[tool.importlinter]``) hold."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from registry import ROOT

PACKAGE = ROOT / "registry"
README = ROOT / "README.md"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def contract_ids() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        contracts = tomllib.load(fh)["tool"]["importlinter"]["contracts"]
    return [contract["id"] for contract in contracts]


@pytest.mark.parametrize("contract", contract_ids())
def test_import_contract_holds(contract: str) -> None:
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--contract", contract],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def layout_block(text: str) -> list[str]:
    """The lines of the code block under "## Layout"."""
    match = re.search(r"^## Layout\n+```\n(.*?)^```", text, re.M | re.S)
    assert match, 'README.md has no "## Layout" code block'
    return match.group(1).splitlines()


def named_paths(block: list[str]) -> list[str]:
    """The paths under ``registry/`` the block names: the first word of each line indented
    below ``registry/`` (``web/``, ``clock.py``, ``printing/render/``)."""
    paths: list[str] = []
    inside = False
    for line in block:
        if not line.startswith(" "):
            inside = line.split()[0] == "registry/" if line.strip() else inside
            continue
        if inside and line.strip():
            paths.append(line.split()[0])
    return paths


def present_rooms() -> set[str]:
    """Top-level modules and folders of ``registry/`` (a folder left with nothing but
    ``__pycache__`` after a move is not a room)."""
    rooms = set()
    for entry in PACKAGE.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_file() and entry.suffix == ".py":
            rooms.add(entry.name)
        elif entry.is_dir() and any(e.name != "__pycache__" for e in entry.iterdir()):
            rooms.add(entry.name + "/")
    return rooms


def test_the_readme_layout_names_every_room_and_only_rooms() -> None:
    paths = named_paths(layout_block(README.read_text("utf-8")))
    assert paths, "the Layout block names nothing under registry/"
    named = {p.split("/")[0] + ("/" if "/" in p else "") for p in paths}
    present = present_rooms()
    assert sorted(present - named) == [], "in registry/ but not in README.md's Layout"
    assert sorted(named - present) == [], "in README.md's Layout but not in registry/"
    missing = [p for p in paths if not (PACKAGE / p).exists()]
    assert missing == [], "named in README.md's Layout but not in registry/"


def test_the_layout_reader_sees_what_is_missing_and_what_is_extra() -> None:
    block = ["registry/", "  web/   the web side", "  clock.py   one clock",
             "  printing/render/   the renderer", "labels/   stocks", "  stray.py  not ours"]
    assert named_paths(block) == ["web/", "clock.py", "printing/render/"]
