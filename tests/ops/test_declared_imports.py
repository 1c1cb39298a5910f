"""Issue 12 §4: every package the registry imports is declared in pyproject.toml, in the
runtime dependencies (a fresh production install has nothing else), and test-only packages
stay out of them."""

from __future__ import annotations

import ast
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from registry import ROOT

TEST_ONLY = {"qrcode", "pytest", "playwright", "hypothesis", "jsonschema", "schemathesis",
             "moto", "jwcrypto", "cosmic-ray"}


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` name themselves. One reached only through another's
    extra (redis through ``flask-limiter[redis]``) does not count: the registry imports it
    itself, so a change of the other's extras must not drop it."""
    return {canonicalize_name(Requirement(line).name) for line in requirements}


def imported_modules(package: Path) -> dict[str, set[str]]:
    """Top-level module → the files that import it, for every import in ``package``."""
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(
                    path.relative_to(package).as_posix())
    return found


def third_party(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    return {m: files for m, files in modules.items()
            if m not in sys.stdlib_module_names and m != "registry" and m != "__future__"}


@cache
def _installed() -> dict[str, list[str]]:
    return packages_distributions()  # reads every installed distribution's file list


def distributions_of(module: str) -> set[str]:
    return {canonicalize_name(d) for d in _installed().get(module, [])}


def undeclared(package: Path, allowed: set[str], local: frozenset[str] = frozenset()) -> (
    dict[str, list[str]]
):
    """Modules imported under ``package`` that no distribution in ``allowed`` provides,
    with the files importing them."""
    return {module: sorted(files)
            for module, files in sorted(third_party(imported_modules(package)).items())
            if module not in local and not distributions_of(module) & allowed}


def test_every_package_the_registry_imports_is_a_declared_runtime_dependency() -> None:
    project = pyproject()["project"]
    # Or an optional runtime extra (sentry), imported only when its setting asks for it.
    runtime = declared(project["dependencies"]) | {
        name for extra, lines in project["optional-dependencies"].items() if extra != "dev"
        for name in declared(lines)}
    missing = undeclared(ROOT / "registry", runtime)
    assert not missing, f"imported by the registry but not in [project] dependencies: {missing}"


def test_every_package_the_tests_import_is_declared() -> None:
    project = pyproject()["project"]
    everything = declared(project["dependencies"]) | declared(
        project["optional-dependencies"]["dev"])
    # Helper modules beside the tests (conftest, scan_support, servers, …) are imported by name.
    local = frozenset(p.stem for p in (ROOT / "tests").rglob("*.py")) | {
        p.name for p in (ROOT / "tests").rglob("*") if p.is_dir()} | {"tests"}
    missing = undeclared(ROOT / "tests", everything, local)
    assert not missing, f"imported by the tests but declared nowhere: {missing}"


def test_test_only_packages_stay_out_of_the_runtime_dependencies() -> None:
    runtime = declared(pyproject()["project"]["dependencies"])
    assert not runtime & TEST_ONLY, runtime & TEST_ONLY
    imported = {d for m in third_party(imported_modules(ROOT / "registry"))
                for d in distributions_of(m)}
    assert not imported & TEST_ONLY, imported & TEST_ONLY


def test_an_undeclared_import_is_found(tmp_path: Path) -> None:
    # Inside a function too, as printing/render/fonts.py imports reportlab lazily; by
    # distribution name, as the import name differs (PIL is pillow).
    (tmp_path / "module.py").write_text(
        "import os\nfrom PIL import Image\n\ndef later():\n    import zxcvbn.matching\n")
    assert undeclared(tmp_path, {"pillow"}) == {"zxcvbn": ["module.py"]}
    assert undeclared(tmp_path, {"pillow", "zxcvbn"}) == {}
