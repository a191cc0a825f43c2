"""`dlcc course grade`: grade one submission or a class folder, safely.

Per submission:

    parent (this process)            harness (trusted pytest)            sandbox (student code)
    copies allowed files + tests  -> runs public + hidden tests      -> imports student files,
    into a private 0700 folder       compares values it gets back       answers single calls
    grades written answers           writes a per-test JSON report      isolated (see sandbox/)
    writes results.json <-------------------------'

Scores come only from the harness's report (which student code cannot reach) and from the
answers file (parsed as data). A crash, timeout or hostile behaviour in one submission costs
that submission the affected tests, never the rest of the class.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dlcc.course import runner
from dlcc.course.authoring.format import ANSWERS_FILE, WRITTEN_FILE, Assignment
from dlcc.course.grading import scoring, shared_data
from dlcc.course.grading.class_table import class_csv, status
from dlcc.course.grading.submission import Submission, class_members, is_single, load_submission
from dlcc.course.sandbox import cleanup, launch
from dlcc.course.student import quiz
from dlcc.errors import InputError
from dlcc.utils.io import atomic_write_text, write_json

__all__ = ["Grader", "grade", "grade_one", "grade_submission", "prepare", "status"]

ARTEFACTS = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")
_slot_lock = threading.Lock()
_free_slots = set(range(64))


def _take_slot() -> int:
    with _slot_lock:
        slot = min(_free_slots)
        _free_slots.remove(slot)
        return slot


def _give_slot(slot: int) -> None:
    with _slot_lock:
        _free_slots.add(slot)


def sandbox_uid(slot: int) -> int:
    """A uid no other concurrent sandbox uses: derived from our pid and a job slot."""
    return 200000 + (os.getpid() % 4194304) * 64 + slot


def hide_paths(a: Assignment, extra: list[Path]) -> list[str]:
    """What student code must not see (namespace mode; bwrap mode shows only what it needs):
    the assignment (solutions, hidden tests, answers), the other assignments, the git history,
    other submissions and results."""
    paths = [a.root, a.root.parent, *extra]
    for parent in [a.root, *a.root.parents]:
        if (parent / ".git").exists():
            paths.append(parent / ".git")
            break
    return sorted({str(Path(p).resolve()) for p in paths if Path(p).exists()})


@dataclass
class Grader:
    """Everything shared by the submissions of one grading run."""

    a: Assignment
    mode: str
    hide: list[str] = field(default_factory=list)
    key: dict = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)

    def facts(self, uid: int | None = None) -> dict:
        return launch.facts(self.mode, self.a.needs.as_dict(), uid)

    def grade(self, sub: Submission, *, task: str | None = None, exitfirst: bool = False) -> dict:
        return grade_submission(self, sub, task=task, exitfirst=exitfirst)


def prepare(a: Assignment, isolation_mode: str = "auto", hide: list[Path] = (),
            key: bool = True, progress=print) -> Grader:
    """Choose the isolation mode, load the answer key, decode the declared data once."""
    _instructor_tree(a)
    answer_key = quiz.load_key(a) if key else {}
    mode, why = launch.choose_mode(isolation_mode)
    progress(f"isolation: {mode} ({why})")
    return Grader(a, mode, hide_paths(a, list(hide)), answer_key, shared_data.decoded_entries(a))


def _instructor_tree(a: Assignment) -> None:
    if a.released:
        raise InputError(f"{a.root} is a student release, which holds no solutions or hidden tests",
                         fix="grade from the instructor's assignments folder (a clone of the course)")


def grade_submission(g: Grader, sub: Submission, *, task: str | None = None,
                     exitfirst: bool = False) -> dict:
    """Grade one submission; return the results.json dict. `task` and `exitfirst` (used by
    `course mutate`) run only that task's tests and stop at the first failure."""
    a = g.a
    t0 = time.monotonic()
    slot = _take_slot()
    uid = sandbox_uid(slot)
    private = Path(tempfile.mkdtemp(prefix="dlcc-grade-"))
    try:
        subdir, soldir, tests = private / "submission", private / "solution", private / "tests"
        subdir.mkdir()
        soldir.mkdir()
        for name, data in sub.files.items():
            (subdir / name).write_bytes(data)
        for name in [*a.student_files, *a.given_files]:
            if (a.code_dir / name).is_file():
                shutil.copyfile(a.code_dir / name, soldir / name)
        test_dirs = []
        for kind, src in (("public", a.public_tests_dir), ("hidden", a.hidden_tests_dir)):
            if src.is_dir():
                shutil.copytree(src, tests / kind, ignore=ARTEFACTS)
                test_dirs.append(tests / kind)
        files = {f: str(subdir / f) for f in a.student_files if f in sub.files}
        files.update({g_: str(soldir / g_) for g_ in a.given_files if (soldir / g_).is_file()})
        config = {"files": files, "limits": a.limits.as_dict(), "mode": g.mode,
                  "needs": a.needs.as_dict(), "shared": g.shared,
                  "hide": [*g.hide, str(private)], "output_path": str(private / "student-output.txt"),
                  "hidden_dir": str(tests / "hidden"), "solution_dir": str(soldir), "uid": uid}
        write_json(private / "config.json", config)
        limit = a.limits.total_timeout_s * 2 + 300
        report = runner.run_harness(private, private / "config.json", test_dirs, limit,
                                    task=task, exitfirst=exitfirst)
        error = _grader_error(report, partial=bool(task or exitfirst))
        written = quiz.grade_answers(a, sub.files.get(ANSWERS_FILE), g.key) if g.key else []
        return scoring.build_results(a, report, written, submission=sub.name, notes=sub.notes,
                                     isolation=g.facts(uid), elapsed=time.monotonic() - t0,
                                     grader_error=error)
    finally:
        if g.mode == "namespace":
            cleanup.kill_uid(uid, reap=False)  # in case the harness itself was stopped
        shutil.rmtree(private, ignore_errors=True)
        _give_slot(slot)


def _grader_error(report: dict, partial: bool) -> str | None:
    """A problem on the grader's side, which must never pass as a lower score."""
    error = report.get("harness_error")
    if not error and report.get("collection_errors"):
        errs = report["collection_errors"]
        error = f"tests could not be collected: {errs[0]['path']}: {errs[0]['message'][-800:]}"
    if not error and report.get("grader_errors"):
        error = report["grader_errors"][0]
    if not error and not report.get("tests"):
        error = "no tests were found for this assignment"
    skipped = [t for t in report.get("tests", []) if t["outcome"] == "skipped" or
               (t["outcome"] == "not run" and not partial)]
    if not error and skipped:  # scores without these tests would be silently wrong
        error = (f"{len(skipped)} test(s) could not run on this grader, e.g. {skipped[0]['nodeid']}: "
                 f"{skipped[0]['message'][:300]}")
    return error


def invalid_results(g: Grader, name: str, message: str) -> dict:
    return {"score": 0.0, "execution_time": 0.0, "visibility": "visible",
            "output": f"{g.a.id}: this submission could not be read, so nothing was graded: {message}",
            "tests": [], "extra_data": {"assignment": g.a.id, "submission": name,
                                        "isolation": g.facts(), "invalid_submission": message}}


def _safe_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip("._") or "submission"
    out, n = base, 1
    while out in used:
        n += 1
        out = f"{base}-{n}"
    used.add(out)
    return out


def _check_single_out(out: Path, force: bool) -> None:
    if out.is_dir():
        raise InputError(f"--out {out} is a directory; one submission writes one results file",
                         fix="pass --out results.json")
    for path in (out, out.with_suffix(".written.md")):
        if path.exists() and not force:
            raise InputError(f"{path} already exists; dlcc will not overwrite it",
                             fix="pass --force to replace it, or choose another --out")


def _check_class_out(a: Assignment, path: Path, out: Path, force: bool) -> None:
    if out.suffix.lower() == ".json":
        raise InputError(f"{path} has no student file ({', '.join(a.student_files)}) at its top "
                         "level, so it is read as a class folder (one submission per subfolder "
                         f"or .zip), which needs a directory for --out, not {out.name}",
                         fix="pass --out DIR, or point at the folder that holds the student files")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; a class folder writes one file per student "
                         "plus class.csv into a directory", fix="pass --out with a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(f"--out {out} already holds files; dlcc will not overwrite them",
                         fix="pass --force, or choose an empty or new directory")


def grade(a: Assignment, path: Path, out: Path, *, jobs: int = 1, force: bool = False,
          isolation_mode: str = "auto", progress=print) -> list[tuple[str, dict]]:
    """Grade `path` (one submission, or a class folder) and write results under `out`.

    Every input is checked before anything is graded or written. Each student's written
    answers file (if any) is copied beside the results, `<name>.written.md`, for hand grading."""
    _instructor_tree(a)
    if not path.exists():
        raise InputError(f"submission {path} does not exist", fix="pass a folder or a .zip file")
    if is_single(path, a):
        res = grade_one(a, path, out, force=force, isolation_mode=isolation_mode, progress=progress)
        return [(res["extra_data"]["submission"], res)]
    members = class_members(path)
    if not members:
        raise InputError(f"no submission found in {path}: expected student files "
                         f"({', '.join(a.student_files)}) at its top level, or one folder or .zip "
                         "per student", fix="pass a submission folder, a .zip, or a class folder")
    _check_class_out(a, path, out, force)
    g = prepare(a, isolation_mode, [path, out], progress=progress)
    progress(f"{len(members)} submissions")
    out.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    names = [(_safe_name(name, used), member) for name, member in members]

    def one(item: tuple[str, Path]) -> tuple[str, dict]:
        name, member = item
        try:
            sub = load_submission(member, a, name, strict=True)
        except InputError as exc:  # one unreadable submission never stops the class
            res = invalid_results(g, name, exc.message)
        else:
            res = g.grade(sub)
            _write_written(out / f"{name}.written.md", sub, True)
        write_json(out / f"{name}.json", res)
        progress(f"{name}: {res['score']:g} points ({status(res)})")
        return name, res

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, 64))) as pool:
        rows = list(pool.map(one, names))
    atomic_write_text(out / "class.csv", class_csv(a, rows))
    progress(f"wrote {len(rows)} results and {out / 'class.csv'}")
    return rows


def grade_one(a: Assignment, path: Path, out: Path, *, force: bool = False,
              isolation_mode: str = "auto", progress=print) -> dict:
    """Grade the one submission at `path` (a folder or zip, files at any depth) into `out`."""
    _check_single_out(out, force)
    sub = load_submission(path, a, strict=True)
    # the results folder is hidden too: no submission may touch earlier students' results
    g = prepare(a, isolation_mode, [path, out.parent.resolve()], progress=progress)
    res = g.grade(sub)
    write_json(out, res)
    _write_written(out.with_suffix(".written.md"), sub, force)
    progress(f"{sub.name}: {res['score']:g} points ({status(res)}) -> {out}")
    return res


def _write_written(path: Path, sub: Submission, force: bool) -> None:
    text = sub.files.get(WRITTEN_FILE)
    if text is not None and (force or not path.exists()):
        atomic_write_text(path, text.decode("utf-8", "replace"))
