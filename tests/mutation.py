"""Mutation testing of the pure rule modules against their unit tests (``make mutation``).

Cosmic Ray finds the mutants (every comparison, operator, number, boolean, ``and``/``or``,
``break``/``continue``, exception and decorator it can change) and keeps them in one session
database per module; this script runs each mutant's unit tests and prints the score per module.
Only the rule modules' own unit tests run (no app, no conftest), so a mutant costs about one
second; ``--jobs`` copies of the source tree run side by side, one mutant each.

A mutant is *killed* when a test fails (or the tests time out, or the module no longer imports)
and *survives* when they all pass. The score is killed / (killed + survived). Not counted, and
listed apart in the table:

- mutants inside annotations: every module here starts with ``from __future__ import
  annotations``, so ``str | None`` becoming ``str & None`` is never evaluated (equivalent);
- mutants on a line marked ``# pragma: no cover``, which the code declares unreachable;
- for ``registry/figures/charts.py`` and ``registry/reference/maps.py``, mutants outside their
  scaling functions (the outline simplification, for the maps): the SVG drawing around them is
  checked by the figures and verification tests, not by unit tests.

Usage: ``python tests/mutation.py [--jobs N] [--module PATH ...] [--survivors] [--fail-under P]``
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from cosmic_ray.commands import init as init_session
from cosmic_ray.mutating import use_mutation
from cosmic_ray.plugins import get_operator
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import MutationSpec, TestOutcome, WorkerOutcome, WorkItem, WorkResult

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]
    functions: frozenset[str] = field(default_factory=frozenset)  # empty: the whole module


TARGETS = (
    Target("registry/catalog/certification.py", ("tests/catalog/test_certification.py",)),
    Target("registry/verify/rules.py", ("tests/verify/test_verdict_rules.py",)),
    Target("registry/accounts/rules.py", ("tests/accounts/test_account_rules.py",)),
    Target("registry/printing/rules.py", ("tests/printing/test_label_rules.py",)),
    Target("registry/catalog/rules.py", ("tests/catalog/test_catalog_rules.py",)),
    Target("registry/checkpoints/rules.py", ("tests/checkpoints/test_rules.py",)),
    Target("registry/db/paging.py", ("tests/db/test_paging_rules.py",)),
    Target("registry/shipments/rules.py", ("tests/shipments/test_shipment_rules.py",)),
    Target("registry/plaintext.py", ("tests/test_plaintext.py",)),
    Target("registry/certificates/rules.py", ("tests/certificates/test_certificate_rules.py",)),
    Target("registry/plots/rules.py", ("tests/plots/test_plot_rules.py",)),
    Target("registry/targets/rules.py", ("tests/targets/test_rules.py",)),
    Target("registry/figures/charts.py", ("tests/figures/test_chart_scale.py",),
           frozenset({"nice_ceiling", "class_breaks", "colour_for"})),
    Target("registry/reference/maps.py", ("tests/reference/test_maps.py",),
           frozenset({"_dp", "_extent"})),
)

ANNOTATION = "annotation"
NO_COVER = "no cover"
OUTSIDE = "not a scaling function"


# ---------------------------------------------------------------- which mutants count
def _char_col(line: str, byte_col: int) -> int:
    """ast counts columns in UTF-8 bytes, Cosmic Ray (parso) in characters."""
    return len(line.encode()[:byte_col].decode(errors="ignore"))


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    lines = source.splitlines()
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for a in annotations:
            if a is not None and a.end_lineno is not None and a.end_col_offset is not None:
                spans.append(((a.lineno, _char_col(lines[a.lineno - 1], a.col_offset)),
                              (a.end_lineno, _char_col(lines[a.end_lineno - 1],
                                                       a.end_col_offset))))
    return spans


def skip_reason(spec: MutationSpec, target: Target, source: str,
                spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> str | None:
    start, end = tuple(spec.start_pos), tuple(spec.end_pos)
    if any(a <= start and end <= b for a, b in spans):
        return ANNOTATION
    if "pragma: no cover" in source.splitlines()[spec.end_pos[0] - 1]:
        return NO_COVER
    if target.functions and spec.definition_name not in target.functions:
        return OUTSIDE
    return None


# ---------------------------------------------------------------- running the tests
class Workspace:
    """A private copy of the sources and the unit tests, for one mutant at a time."""

    def __init__(self, base: Path, name: str) -> None:
        self.path = base / name
        shutil.copytree(ROOT / "registry", self.path / "registry",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for target in TARGETS:
            for test in target.tests:
                (self.path / test).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / test, self.path / test)
        shutil.copy2(ROOT / "pyproject.toml", self.path / "pyproject.toml")

    def run_tests(self, tests: Iterable[str], timeout: float) -> tuple[int | None, str]:
        env = {**os.environ, "PYTHONPATH": str(self.path), "PYTHONDONTWRITEBYTECODE": "1",
               # The unit tests need none of the suite's plugins (schemathesis, playwright, …).
               "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        command = [sys.executable, "-P", "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                   "--noconftest", *tests]
        process = subprocess.Popen(command, cwd=self.path, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.communicate()
            return None, "timeout"
        return process.returncode, out.decode(errors="replace")


_local = threading.local()


def mutate_and_test(base: Path, target: Target, item: WorkItem, timeout: float) -> WorkResult:
    if not hasattr(_local, "workspace"):
        _local.workspace = Workspace(base, f"w{threading.get_ident()}")
    workspace: Workspace = _local.workspace
    spec = item.mutations[0]
    operator = get_operator(spec.operator_name)(**spec.operator_args)
    path = workspace.path / target.module
    with ExitStack() as stack:
        try:
            original, mutated = stack.enter_context(
                use_mutation(path, operator, spec.occurrence))
        except AttributeError as exc:
            # Cosmic Ray 8.7 cannot replace a dotted name in an ``except`` tuple
            # (``shapely.errors.GEOSException``): it fails before writing the file.
            return WorkResult(worker_outcome=WorkerOutcome.EXCEPTION, output=repr(exc))
        if mutated is None:
            return WorkResult(worker_outcome=WorkerOutcome.NO_TEST)
        code, output = workspace.run_tests(target.tests, timeout)
    diff = "".join(difflib.unified_diff(original.splitlines(keepends=True),
                                        mutated.splitlines(keepends=True),
                                        target.module, target.module))
    # pytest: 0 all passed, 1 a test failed, 2 collection failed (the mutant broke an import).
    if code == 0:
        outcome = TestOutcome.SURVIVED
    elif code in (None, 1, 2):
        outcome = TestOutcome.KILLED
    else:
        outcome = TestOutcome.INCOMPETENT
    return WorkResult(worker_outcome=WorkerOutcome.NORMAL, test_outcome=outcome, diff=diff,
                      output=output[-4000:])


# ---------------------------------------------------------------- the session
@dataclass
class Score:
    target: Target
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)

    @property
    def killed(self) -> int:
        return self.counts["killed"]

    @property
    def survived(self) -> int:
        return self.counts["survived"]

    @property
    def percent(self) -> float:
        counted = self.killed + self.survived
        return 100.0 * self.killed / counted if counted else 100.0


def session_path(base: Path, target: Target) -> Path:
    return base / (target.module.replace("/", "_").removesuffix(".py") + ".sqlite")


def prepare(base: Path, target: Target) -> list[WorkItem]:
    """Create the target's session, mark the mutants that do not count, return the rest."""
    source = (ROOT / target.module).read_text(encoding="utf-8")
    spans = annotation_spans(source)
    with use_db(str(session_path(base, target))) as db:
        cwd = Path.cwd()
        os.chdir(ROOT)  # the session names the module by its path from the repository
        try:
            init_session([Path(target.module)], db, {})
        finally:
            os.chdir(cwd)
        pending = []
        for item in db.pending_work_items:
            reason = skip_reason(item.mutations[0], target, source, spans)
            if reason:
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                                      output=reason))
            else:
                pending.append(item)
    return pending


def summarise(base: Path, target: Target) -> Score:
    score = Score(target)
    with use_db(str(session_path(base, target)), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome is WorkerOutcome.SKIPPED:
                score.counts[f"skipped: {result.output}"] += 1
            elif result.worker_outcome is WorkerOutcome.NO_TEST:
                score.counts["no mutation"] += 1
            elif result.worker_outcome is WorkerOutcome.EXCEPTION:
                score.counts["not applied"] += 1
            else:
                score.counts[str(result.test_outcome.value)] += 1
                if result.test_outcome is TestOutcome.SURVIVED:
                    spec = item.mutations[0]
                    score.survivors.append(f"{spec.module_path}:{spec.start_pos[0]} "
                                           f"{spec.operator_name}\n{result.diff}")
    return score


def baseline(base: Path, targets: Iterable[Target]) -> float:
    """The unit tests pass on the unmutated copy; returns the slowest run's seconds."""
    workspace = Workspace(base, "baseline")
    slowest = 0.0
    for target in targets:
        started = time.monotonic()
        code, output = workspace.run_tests(target.tests, timeout=300)
        if code != 0:
            sys.exit(f"The unit tests of {target.module} fail without a mutant:\n{output}")
        slowest = max(slowest, time.monotonic() - started)
    return slowest


def run(targets: list[Target], jobs: int) -> list[Score]:
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        base = Path(tmp)
        # Generous: the machine is shared, and a mutant that loops forever is killed anyway.
        timeout = max(20.0, 10 * baseline(base, targets))
        work = [(target, item) for target in targets for item in prepare(base, target)]
        print(f"{len(work)} mutants to test with {jobs} jobs (timeout {timeout:.0f} s each)",
              flush=True)
        results: queue.Queue[tuple[Target, WorkItem, WorkResult]] = queue.Queue()

        def task(target: Target, item: WorkItem) -> None:
            results.put((target, item, mutate_and_test(base, target, item, timeout)))

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(task, target, item) for target, item in work]
            # Only this thread writes the session databases.
            for done in range(1, len(work) + 1):
                target, item, result = results.get()
                with use_db(str(session_path(base, target)), WorkDB.Mode.open) as db:
                    db.set_result(item.job_id, result)
                if done % 50 == 0 or done == len(work):
                    print(f"  {done}/{len(work)} in {time.monotonic() - started:.0f} s",
                          flush=True)
            for future in futures:
                future.result()
        return [summarise(base, target) for target in targets]


def table(scores: list[Score]) -> Iterator[str]:
    yield "| Module | Mutants | Killed | Survived | Score | Not counted |"
    yield "| --- | ---: | ---: | ---: | ---: | --- |"
    for s in scores:
        apart = ", ".join(f"{n} {k.removeprefix('skipped: ')}" for k, n in sorted(s.counts.items())
                          if k not in ("killed", "survived"))
        yield (f"| `{s.target.module}` | {s.killed + s.survived} | {s.killed} | {s.survived} "
               f"| {s.percent:.1f} % | {apart or '–'} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--module", action="append", default=[],
                        help="only this module (repeatable), e.g. registry/db/paging.py")
    parser.add_argument("--survivors", action="store_true", help="print every survivor's diff")
    parser.add_argument("--fail-under", type=float, default=0.0,
                        help="exit 1 if a module scores below this percentage")
    args = parser.parse_args(argv)
    targets = [t for t in TARGETS if not args.module or t.module in args.module]
    unknown = set(args.module) - {t.module for t in TARGETS}
    if unknown:
        parser.error(f"not a rule module here: {', '.join(sorted(unknown))}")
    scores = run(targets, max(1, args.jobs))
    if args.survivors:
        for s in scores:
            for survivor in s.survivors:
                print(f"\nSURVIVED {survivor}")
    print()
    print("\n".join(table(scores)))
    low = [s.target.module for s in scores if s.percent < args.fail_under]
    if low:
        print(f"\nBelow {args.fail_under:g} %: {', '.join(low)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
