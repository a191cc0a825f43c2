"""`dlcc course grade`: grade one submission or a class folder, safely.

Per submission:

    parent (this process)            harness (trusted pytest)            sandbox (student code)
    copies allowed files + tests  -> runs public + hidden tests      -> imports student files,
    into a private 0700 folder       compares values it gets back       answers single calls
    grades written answers           writes a per-test JSON report      isolated (see isolation)
    writes results.json <-------------------------'

Scores come only from the harness's report (which student code cannot reach) and from the
answers file (parsed as data). A crash, timeout or hostile behaviour in one submission costs
that submission the affected tests, never the rest of the class.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dlcc.course import isolation, questions, runner, scoring
from dlcc.course.assignment import ANSWERS_FILE, Assignment
from dlcc.course.submission import Submission, class_members, is_single, load_submission
from dlcc.errors import InputError
from dlcc.utils.io import atomic_write_text, write_json

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
    """What student code must not see: the assignment (solutions, hidden tests, answers), the
    other assignments, the git history, other submissions and results."""
    paths = [a.root, a.root.parent, *extra]
    for parent in [a.root, *a.root.parents]:
        if (parent / ".git").exists():
            paths.append(parent / ".git")
            break
    return sorted({str(Path(p).resolve()) for p in paths if Path(p).exists()})


def grade_submission(a: Assignment, sub: Submission, *, mode: str, hide: list[str],
                     key: dict) -> dict:
    """Grade one submission; return the results.json dict."""
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
        files.update({g: str(soldir / g) for g in a.given_files if (soldir / g).is_file()})
        config = {"files": files, "limits": a.limits.as_dict(), "mode": mode,
                  "hide": [*hide, str(private)], "output_path": str(private / "student-output.txt"),
                  "hidden_dir": str(tests / "hidden"), "solution_dir": str(soldir), "uid": uid}
        write_json(private / "config.json", config)
        limit = a.limits.total_timeout_s * 2 + 300
        report = runner.run_harness(private, private / "config.json", test_dirs, limit)
        error = report.get("harness_error")
        if not error and report.get("collection_errors"):
            errs = report["collection_errors"]
            error = f"tests could not be collected: {errs[0]['path']}: {errs[0]['message'][-800:]}"
        if not error and report.get("grader_errors"):
            error = report["grader_errors"][0]
        if not error and not report.get("tests"):
            error = "no tests were found for this assignment"
        skipped = [t for t in report.get("tests", []) if t["outcome"] in ("skipped", "not run")]
        if not error and skipped:  # scores without these tests would be silently wrong
            error = (f"{len(skipped)} test(s) could not run on this grader, e.g. {skipped[0]['nodeid']}: "
                     f"{skipped[0]['message'][:300]}")
        written = questions.grade_answers(a, sub.files.get(ANSWERS_FILE), key) if key else []
        return scoring.build_results(a, report, written, submission=sub.name, notes=sub.notes,
                                     isolation=isolation.describe(mode, uid if mode == "namespace" else None),
                                     elapsed=time.monotonic() - t0, grader_error=error)
    finally:
        if mode == "namespace":
            isolation.kill_uid(uid, reap=False)  # in case the harness itself was stopped
        shutil.rmtree(private, ignore_errors=True)
        _give_slot(slot)


def invalid_results(a: Assignment, name: str, message: str, mode: str) -> dict:
    return {"score": 0.0, "execution_time": 0.0, "visibility": "visible",
            "output": f"{a.id}: this submission could not be read, so nothing was graded: {message}",
            "tests": [], "extra_data": {"assignment": a.id, "submission": name,
                                        "isolation": isolation.describe(mode),
                                        "invalid_submission": message}}


def status(results: dict) -> str:
    extra = results.get("extra_data", {})
    if extra.get("invalid_submission"):
        return "invalid-submission"
    if extra.get("grader_error"):
        return "grader-error"
    return "ok"


def _safe_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip("._") or "submission"
    out, n = base, 1
    while out in used:
        n += 1
        out = f"{base}-{n}"
    used.add(out)
    return out


def class_csv(a: Assignment, rows: list[tuple[str, dict]]) -> str:
    auto_q = [q for q in a.questions if q.kind != "manual"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["submission", "score", "autograded_max", "status", *a.task_ids,
                *[q.id for q in auto_q], "isolation", "notes"])
    for name, res in rows:
        per: dict[str, float] = {}
        for t in res.get("tests", []):
            per[t["number"]] = per.get(t["number"], 0.0) + t["score"]
        extra = res.get("extra_data", {})
        notes = "; ".join(extra.get("notes", []) + [extra.get("grader_error") or "",
                                                     extra.get("invalid_submission") or ""]).strip("; ")
        w.writerow([name, res["score"], extra.get("autograded_max_score", ""), status(res),
                    *[round(per.get(t, 0.0), 2) for t in a.task_ids],
                    *[per.get(q.id, 0.0) for q in auto_q],
                    extra.get("isolation", {}).get("mode", ""), notes.replace("\n", " ")[:500]])
    return buf.getvalue()


def _check_single_out(out: Path, force: bool) -> None:
    if out.is_dir():
        raise InputError(f"--out {out} is a directory; one submission writes one results file",
                         fix="pass --out results.json")
    if out.exists() and not force:
        raise InputError(f"{out} already exists; dlcc will not overwrite it",
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

    Every input is checked before anything is graded or written."""
    if not path.exists():
        raise InputError(f"submission {path} does not exist", fix="pass a folder or a .zip file")
    if is_single(path, a):
        _check_single_out(out, force)
        sub = load_submission(path, a)
        key = questions.load_key(a)
        mode, why = isolation.choose_mode(isolation_mode)
        progress(f"isolation: {mode} ({why})")
        res = grade_submission(a, sub, mode=mode, hide=hide_paths(a, [path]), key=key)
        write_json(out, res)
        progress(f"{sub.name}: {res['score']:g} points ({status(res)}) -> {out}")
        return [(sub.name, res)]
    members = class_members(path)
    if not members:
        raise InputError(f"no submission found in {path}: expected student files "
                         f"({', '.join(a.student_files)}) at its top level, or one folder or .zip "
                         "per student", fix="pass a submission folder, a .zip, or a class folder")
    _check_class_out(a, path, out, force)
    key = questions.load_key(a)
    mode, why = isolation.choose_mode(isolation_mode)
    progress(f"isolation: {mode} ({why}); {len(members)} submissions")
    out.mkdir(parents=True, exist_ok=True)
    hide = hide_paths(a, [path, out])
    used: set[str] = set()
    names = [(_safe_name(name, used), member) for name, member in members]

    def one(item: tuple[str, Path]) -> tuple[str, dict]:
        name, member = item
        try:
            sub = load_submission(member, a, name)
        except InputError as exc:  # one unreadable submission never stops the class
            res = invalid_results(a, name, exc.message, mode)
        else:
            res = grade_submission(a, sub, mode=mode, hide=hide, key=key)
        write_json(out / f"{name}.json", res)
        progress(f"{name}: {res['score']:g} points ({status(res)})")
        return name, res

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, 64))) as pool:
        rows = list(pool.map(one, names))
    atomic_write_text(out / "class.csv", class_csv(a, rows))
    progress(f"wrote {len(rows)} results and {out / 'class.csv'}")
    return rows
