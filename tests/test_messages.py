"""One module of problem codes and their words (``registry.web.messages``, issue 15 §1): every code
the code base hands out has words there, and limits are said as configured."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask import Flask
from flask_babel import force_locale

import registry
from conftest import CHEAP_PASSWORD_HASHING, TEST_KEK
from registry import create_app
from registry.catalog.forms import DocumentForm
from registry.web.messages import PRINT_JOB, SAID_BY_THE_REFUSAL, Problem, message

SOURCE = Path(registry.__file__).parent


def _constants(node: ast.AST | None) -> list[str]:
    """The string constants an expression can be: "a", ("x", "a"), "a" if c else "b"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple):
        return [c for elt in node.elts for c in _constants(elt)]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    if isinstance(node, ast.Dict):
        return [c for value in node.values for c in _constants(value)]
    if isinstance(node, ast.DictComp):
        return _constants(node.value)
    return []


class _Codes(ast.NodeVisitor):
    """Where the registry names a field's problem: ``problems[f] = "code"``, ``code = "..."``,
    ``fields={f: "code"}``, ``UploadError("code")``, and what a ``*problem*`` function
    returns."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}
        self._function: list[str] = []

    def _add(self, node: ast.AST | None, where: ast.AST) -> None:
        for code in _constants(node):
            self.found.setdefault(code, f"line {getattr(where, 'lineno', '?')}")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function.append(node.name)
        self.generic_visit(node)
        self._function.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                    and target.value.id.endswith("problems")) or (
                    isinstance(target, ast.Name) and target.id == "code"):
                self._add(node.value, node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "UploadError" and node.args:
            self._add(node.args[0], node)
        for keyword in node.keywords:
            if keyword.arg == "fields":
                self._add(keyword.value, node)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if self._function and "problem" in self._function[-1]:
            self._add(node.value, node)
        self.generic_visit(node)


CODE = re.compile(r"[a-z]+(_[a-z]+)*")


def handed_out() -> dict[str, str]:
    """Each code found, with where; free text (an API's "expected an object") is no code."""
    codes: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        finder = _Codes()
        finder.visit(ast.parse(path.read_text(), str(path)))
        for code, where in finder.found.items():
            if CODE.fullmatch(code):
                codes.setdefault(code, f"{path.relative_to(SOURCE.parent)} {where}")
    return codes


def test_every_code_handed_out_has_words_and_every_problem_is_used() -> None:
    codes = handed_out()
    assert {"required", "bad_sheets", "incomparable_unit", "too_many_pixels", "taken",
            "evidence_kinds_missing"} <= set(codes)  # the finder finds each way
    known = set(Problem) | SAID_BY_THE_REFUSAL
    assert {c: w for c, w in codes.items() if c not in known} == {}
    assert known - set(codes) == set(), "a problem no code hands out"


def _app(tmp_path: Path, database_url: str, **config: object) -> Flask:
    return create_app({"DATABASE_URL": database_url, "TESTING": True,
                       "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
                       "INSTANCE_PATH": str(tmp_path / "instance"),
                       "KEY_ENCRYPTION_KEY": TEST_KEK, **CHEAP_PASSWORD_HASHING, **config})


def test_limits_are_said_as_configured_in_both_languages(tmp_path: Path,
                                                         database_url: str) -> None:
    app = _app(tmp_path, database_url, MAX_UPLOAD_BYTES=5 * 1024 * 1024,
               MAX_IMAGE_PIXELS=12_500_000)
    with app.test_request_context():
        with force_locale("en"):
            assert message(Problem.TOO_LARGE) == "The file is too large (at most 5 MB)."
            assert message(Problem.TOO_MANY_PIXELS) == \
                "The image has too many pixels (at most 12.5 megapixels)."
            assert message(Problem.OUT_OF_RANGE, about=PRINT_JOB) == \
                "Between 1 and 100,000 labels per job."
            assert message(Problem.OUT_OF_RANGE) == "This number is out of range."
            assert str(DocumentForm(meta={"csrf": False}).file.label.text) == \
                "File (PDF, JPEG or PNG, at most 5 MB)"
        with force_locale("id"):
            assert message(Problem.TOO_LARGE) == "Berkas terlalu besar (maksimal 5 MB)."
            assert message(Problem.TOO_MANY_PIXELS) == \
                "Gambar memiliki terlalu banyak piksel (maksimal 12,5 megapiksel)."
            assert message(Problem.OUT_OF_RANGE, about=PRINT_JOB) == \
                "Antara 1 dan 100.000 label per pesanan cetak."
            assert str(DocumentForm(meta={"csrf": False}).file.label.text) == \
                "Berkas (PDF, JPEG, atau PNG, maksimal 5 MB)"


def test_a_code_without_words_is_never_shown_raw(tmp_path: Path, database_url: str) -> None:
    with _app(tmp_path, database_url).test_request_context(), force_locale("en"):
        assert message("no_such_code") == "Please check this value."
