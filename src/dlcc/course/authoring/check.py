"""`dlcc course check ID`: the release linter. It fails when

* solution markers are unbalanced, malformed, name unknown tasks, or are left in the release;
* a solution statement survives in the release (statements compared as normalized ASTs);
* build artefacts or data files (__pycache__, .so, checkpoints, arrays, archives) are released;
* a test has no task, a task has no test;
* an answer or a hidden test's line appears in anything students get (see `leaks`);
* a public or hidden test passes against the untouched stubs (too weak to fail);
* a test fails against the solution (public tests are also run the way students run them).
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dlcc.course import runner
from dlcc.course.authoring import leaks, markers, release
from dlcc.course.authoring.format import Assignment
from dlcc.course.grading import grade
from dlcc.course.grading.submission import load_directory
from dlcc.course.student import quiz
from dlcc.errors import ConfigError

ARTEFACT_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".git", ".mypy_cache"}
ARTEFACT_SUFFIXES = {".pyc", ".pyo", ".so", ".pyd", ".dylib", ".dll", ".o", ".a", ".pt", ".pth",
                     ".ckpt", ".h5", ".hdf5", ".npz", ".npy", ".pkl", ".pickle", ".joblib",
                     ".onnx", ".dat", ".csv", ".tsv", ".gz", ".zip", ".tar", ".tgz", ".bz2", ".xz",
                     ".7z", ".ubyte", ".idx", ".mat", ".parquet", ".feather", ".bin",
                     ".safetensors", ".db", ".sqlite"}
MAX_RELEASED_BYTES = 1024 * 1024
_TRIVIAL = (ast.Pass, ast.Break, ast.Continue, ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def statements(code: str) -> dict[str, int]:
    """Normalized dump of every non-trivial statement -> its first line number."""
    out: dict[str, int] = {}
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.stmt) or isinstance(node, _TRIVIAL):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstrings and bare constants
        if isinstance(node, ast.Return) and node.value is None:
            continue
        out.setdefault(ast.dump(node, include_attributes=False), node.lineno)
    return out


def check_markers(a: Assignment, report: CheckReport) -> list[markers.Region]:
    regions = []
    for name in a.student_files:
        path = a.code_dir / name
        if not path.is_file():
            report.problems.append(f"student file {path} is missing")
            continue
        found, problems = markers.parse_regions(path.read_text(encoding="utf-8"), name)
        report.problems += [str(p) for p in problems]
        report.problems += [f"{name}:{r.begin}: region names task {r.task}, which is not in "
                            "assignment.yaml" for r in found if r.task not in a.task_ids]
        regions += found
    for path in _py_files_not_student(a):
        for no, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if markers.LOOSE_RE.search(line):
                report.problems.append(f"{path.relative_to(a.root)}:{no}: solution marker in a file "
                                       "that is not a student file (it would be released as is)")
    with_region = {r.task for r in regions}
    for t in a.tasks:
        if t.id not in with_region:
            report.problems.append(f"task {t.id} has no solution region in any student file")
    return regions


def _py_files_not_student(a: Assignment) -> list[Path]:
    files = [a.code_dir / g for g in a.given_files if (a.code_dir / g).suffix == ".py"]
    if a.public_tests_dir.is_dir():
        files += sorted(a.public_tests_dir.rglob("*.py"))
    return [f for f in files if f.is_file()]


def solution_statements(a: Assignment) -> dict[str, str]:
    """Normalized dump of every statement of a solution region that does not also stand
    outside the regions (that would be given code, not a secret) -> "task file:line"."""
    given: set[str] = set()
    for name in a.student_files:
        given |= _outside_regions(a, name)
    secret: dict[str, str] = {}
    for name in a.student_files:
        path = a.code_dir / name
        if not path.is_file():
            continue
        regions, _ = markers.parse_regions(path.read_text(encoding="utf-8"), name)
        for r in regions:
            try:
                found = statements(r.code)
            except SyntaxError:
                continue
            for dump in found:
                if dump not in given:
                    secret.setdefault(dump, f"{r.task} {r.file}:{r.begin}")
    return secret


def check_release_tree(a: Assignment, tree: Path, report: CheckReport) -> None:
    released_py = {}
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        rel = path.relative_to(tree)
        if any(part in ARTEFACT_DIRS for part in rel.parts) or path.suffix.lower() in ARTEFACT_SUFFIXES:
            report.problems.append(f"release contains a build artefact or data file: {rel}")
        elif path.stat().st_size > MAX_RELEASED_BYTES:
            report.problems.append(f"release contains a large file ({path.stat().st_size:,} bytes): {rel}")
        text = path.read_text(encoding="utf-8", errors="replace")
        for no, line in enumerate(text.splitlines(), 1):
            if markers.LOOSE_RE.search(line):
                report.problems.append(f"release {rel}:{no}: a solution marker is left over")
        if path.suffix == ".py":
            try:
                released_py[str(rel)] = statements(text)
            except SyntaxError as exc:
                report.problems.append(f"release {rel} does not parse: {exc.msg} (line {exc.lineno})")
    secret = solution_statements(a)
    for rel, stmts in released_py.items():
        for dump, line in stmts.items():
            if dump in secret:
                report.problems.append(f"release {rel}:{line}: a statement of the solution region "
                                       f"{secret[dump]} survives in the release")


def _outside_regions(a: Assignment, name: str) -> set[str]:
    """Statements of a student file outside its solution regions."""
    path = a.code_dir / name
    if not path.is_file():
        return set()
    text = path.read_text(encoding="utf-8")
    regions, _ = markers.parse_regions(text, name)
    lines = text.splitlines()
    for r in sorted(regions, key=lambda r: -r.begin):
        lines[r.begin - 1:r.end] = [r.indent + "pass"]
    try:
        return set(statements("\n".join(lines) + "\n"))
    except SyntaxError:
        return set()


def check_leaks(a: Assignment, tree: Path, report: CheckReport) -> None:
    """The key and the hidden tests in anything students get (see `leaks`)."""
    problems, allowed = leaks.scan(a, quiz.read_key_for_lint(a), tree)
    report.problems += [f"leak: {p}" for p in problems]
    report.info += [f"allowed as a coincidence by the key: {p}" for p in allowed]


def check_tags(a: Assignment, tests: list[dict], report: CheckReport) -> None:
    per_task = {t: 0 for t in a.task_ids}
    for t in tests:
        if not t.get("task"):
            report.problems.append(f"test {t['nodeid']} has no @pytest.mark.task(...) marker")
        elif t["task"] not in per_task:
            report.problems.append(f"test {t['nodeid']} names task {t['task']}, which is not in "
                                   "assignment.yaml")
        else:
            per_task[t["task"]] += 1
    for task, n in per_task.items():
        if n == 0:
            report.problems.append(f"task {task} has no tests, so its points cannot be earned")


def check_test_outcomes(a: Assignment, tree: Path, tests: list[dict], report: CheckReport,
                        isolation_mode: str, progress) -> None:
    with tempfile.TemporaryDirectory(prefix="dlcc-check-") as tmp:
        work = Path(tmp) / "solution"  # the release, as a student who solved everything has it
        shutil.copytree(tree, work)
        for name in a.student_files:
            shutil.copyfile(a.code_dir / name, work / name)
        progress("running the public tests as students run them, against the solution ...")
        local, _ = runner.run_local(work, work / "tests", timeout=a.limits.test_timeout_s)
        for t in local["tests"]:
            if t["outcome"] != "passed":
                report.problems.append(f"public test {t['nodeid']} fails against the solution when "
                                       f"run by `dlcc course test`: {t['message'][:600]}")
        # written answers are not part of the check
        grader = grade.prepare(a, isolation_mode, key=False, progress=lambda m: None)
        subs = {"solution": load_directory(a.code_dir, a, "solution"),
                "stubs": load_directory(tree, a, "stubs")}
        progress(f"grading the solution and the untouched stubs in the sandbox ({grader.mode}) ...")
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {k: pool.submit(grader.grade, s) for k, s in subs.items()}
            results = {k: f.result() for k, f in futures.items()}
    for kind, res in results.items():
        err = res["extra_data"].get("grader_error")
        if err:
            report.problems.append(f"grading the {kind} failed: {err[:800]}")
            continue
        for t in res["tests"]:
            if "written" in t["tags"]:
                continue
            if kind == "solution" and t["status"] != "passed":
                report.problems.append(f"test {t['name']} fails against the solution: {t['output'][:600]}")
            if kind == "stubs" and t["status"] == "passed":
                report.problems.append(f"test {t['name']} passes against the untouched stubs "
                                       "(it cannot tell a solution from no solution)")
    sol = results["solution"]
    report.info.append(f"solution scores {sol['score']:g} of {a.code_points:g} code points; "
                       f"stubs score {results['stubs']['score']:g}")


def check(a: Assignment, run_tests: bool = True, isolation_mode: str = "auto",
          progress=print) -> CheckReport:
    report = CheckReport()
    if a.released:
        raise ConfigError(f"{a.root} is a released tree; check works on the instructor's tree",
                          fix="run check on the assignments folder")
    check_markers(a, report)
    collected = release.collect_all(a)
    for err in collected["collection_errors"]:
        report.problems.append(f"tests cannot be collected: {err['path']}: {err['message'][-600:]}")
    tests = collected["tests"]
    check_tags(a, tests, report)
    n_public = sum(t["kind"] == "public" for t in tests)
    report.info.append(f"{len(tests)} tests: {n_public} public, {len(tests) - n_public} hidden")
    if not report.ok:
        return report  # no release can be built from broken markers or tests
    with tempfile.TemporaryDirectory(prefix="dlcc-release-") as tmp:
        tree = release.release(a, Path(tmp) / a.id, tests=tests)
        check_release_tree(a, tree, report)
        check_leaks(a, tree, report)
        if run_tests and report.ok:
            check_test_outcomes(a, tree, tests, report, isolation_mode, progress)
    return report
