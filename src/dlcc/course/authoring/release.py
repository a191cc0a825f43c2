"""`dlcc course release ID --out DIR | --package`: build the student tree from the instructor's.

Only an explicit list of files is written: stubbed student files, given files, public tests,
questions.md, the answer templates (answers.yaml, written_answers.md), a student
assignment.yaml and a conftest.py. Hidden tests, answers and anything else in the assignment
folder never reach the release. The tree is built in a temporary folder and moved into place,
so a failure leaves no half-written release; an earlier release that a student has changed is
moved aside, never overwritten. `--package` writes the release that wheels ship.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml

from dlcc.course import runner
from dlcc.course.authoring.format import ANSWERS_FILE, WRITTEN_FILE, Assignment
from dlcc.course.authoring.markers import parse_regions, strip_solutions
from dlcc.course.grading import scoring
from dlcc.course.student import quiz
from dlcc.errors import ConfigError, InputError

CONFTEST = '''"""Lets plain `pytest` run the public tests here (same as `dlcc course test`)."""

pytest_plugins = ["dlcc.course.plugin"]
'''
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints",
                              ".DS_Store")


def stubbed_sources(a: Assignment) -> dict[str, str]:
    """name -> released text of each student file; raises ConfigError on marker problems."""
    out, problems = {}, []
    for name in a.student_files:
        path = a.code_dir / name
        if not path.is_file():
            raise ConfigError(f"student file {path} is listed in assignment.yaml but missing",
                              fix=f"create it or remove it from student_files in "
                                  f"{a.root / 'assignment.yaml'}")
        text = path.read_text(encoding="utf-8")
        regions, found = parse_regions(text, name)
        problems += found
        problems += [f"{name}:{r.begin}: task {r.task} is not in assignment.yaml"
                     for r in regions if r.task not in a.task_ids]
        out[name] = strip_solutions(text, regions)
    if problems:
        raise ConfigError(f"{a.id}: solution markers are broken:\n  " + "\n  ".join(map(str, problems)),
                          fix=f"fix the markers, then run `dlcc course check {a.id}`")
    return out


def student_yaml(a: Assignment, tests: list[dict]) -> str:
    split = scoring.split_by_kind(a, tests)
    data = {
        "id": a.id, "title": a.title, "released": True,
        "student_files": a.student_files, "given_files": a.given_files,
        "tasks": [{"id": t.id, "title": t.title, "points": t.points,
                   "public_points": split[t.id]["public"], "hidden_points": split[t.id]["hidden"]}
                  for t in a.tasks],
        "questions": [{"id": q.id, "title": q.title, "points": q.points, "kind": q.kind,
                       **({"choices": q.choices} if q.choices else {})} for q in a.questions],
        "limits": {"test_timeout_s": a.limits.test_timeout_s},
    }
    return ("# Released by `dlcc course release`. Points of hidden tests are shown so that\n"
            "# `dlcc course test` can say honestly what it did not check.\n"
            + yaml.safe_dump(data, sort_keys=False))


def write_tree(a: Assignment, dest: Path, tests: list[dict]) -> None:
    for name, text in stubbed_sources(a).items():
        (dest / name).write_text(text, encoding="utf-8")
    for name in a.given_files:
        src = a.code_dir / name
        if not src.is_file():
            raise ConfigError(f"given file {src} is listed in assignment.yaml but missing",
                              fix="create it or remove it from given_files")
        shutil.copyfile(src, dest / name)
    if a.public_tests_dir.is_dir():
        shutil.copytree(a.public_tests_dir, dest / "tests", ignore=SKIP)
    if a.questions_path.is_file():
        shutil.copyfile(a.questions_path, dest / "questions.md")
    if any(q.kind in quiz.AUTO for q in a.questions):
        (dest / ANSWERS_FILE).write_text(quiz.template(a), encoding="utf-8")
    if any(q.kind == "manual" for q in a.questions):
        (dest / WRITTEN_FILE).write_text(quiz.written_template(a), encoding="utf-8")
    (dest / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (dest / "assignment.yaml").write_text(student_yaml(a, tests), encoding="utf-8")


def collect_all(a: Assignment) -> dict:
    return runner.collect_tests([a.public_tests_dir, a.hidden_tests_dir], a.hidden_tests_dir)


def check_out(out: Path, force: bool) -> None:
    """Refuse an --out that is a file, or that holds anything but an earlier release (or
    anything at all, without --force). Nothing is written here."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is a file", fix="pass a new directory for --out")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise InputError(f"--out {out} already holds files; dlcc will not overwrite them",
                             fix="pass --force to replace an earlier release (edited files are "
                                 "moved aside, not lost), or choose a new directory")
        marker = out / "assignment.yaml"
        if not marker.is_file() or "released: true" not in marker.read_text(errors="replace"):
            raise InputError(f"--out {out} holds files that are not a dlcc release; "
                             "--force only replaces an earlier release", fix="choose another directory")


SKIP_NAMES = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".DS_Store"}


def _files(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of a tree, caches left out."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not SKIP_NAMES & set(p.relative_to(root).parts)}


def install_tree(tmp: Path, out: Path) -> Path | None:
    """Move the finished tree `tmp` to `out`. An earlier release at `out` that differs from
    the new one (a student's edited code, answers, notes, results) is moved aside, never
    deleted; returns where it went (None when there was nothing to keep)."""
    moved = None
    if out.exists():
        if _files(out) == _files(tmp):
            shutil.rmtree(out)
        else:
            moved = _aside(out)
            out.rename(moved)
    tmp.rename(out)
    return moved


def _aside(out: Path) -> Path:
    n = 1
    while (out.parent / f"{out.name}.old-{n}").exists():
        n += 1
    return out.parent / f"{out.name}.old-{n}"


def collected_tests(a: Assignment) -> list[dict]:
    report = collect_all(a)
    if report["collection_errors"]:
        err = report["collection_errors"][0]
        raise ConfigError(f"{a.id}: tests cannot be collected: {err['path']}: {err['message'][-600:]}",
                          fix=f"fix the test file, then run `dlcc course check {a.id}`")
    return report["tests"]


def release(a: Assignment, out: Path, force: bool = False, tests: list[dict] | None = None,
            moved: list[Path] | None = None) -> Path:
    """Build the student tree of `a` at `out`. With `force`, an earlier release at `out` is
    replaced; if it was changed, it is first moved aside and its new place appended to
    `moved`."""
    if a.released:
        raise InputError(f"{a.root} is already a released tree",
                         fix="release from the instructor's assignments folder")
    out = Path(out)
    check_out(out, force)
    tests = collected_tests(a) if tests is None else tests
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    tmp.chmod(0o755)
    try:
        write_tree(a, tmp, tests)
        aside = install_tree(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if aside is not None and moved is not None:
        moved.append(aside)
    return out


def package_release(a: Assignment) -> Path:
    """Write `a`'s release into the package (`dlcc/course/releases/<id>`), from which wheels
    ship it and `dlcc course get` copies it. Only in a source checkout (src/dlcc)."""
    from dlcc.course.authoring.discovery import packaged_root

    root = packaged_root()
    if root.parents[2].name != "src":
        raise InputError(f"dlcc is installed at {root.parents[1]}, not in a source checkout; the "
                         "packaged releases are made in the repository", fix="run this in a clone")
    root.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{a.id}-", dir=root))
    tmp.chmod(0o755)
    try:
        write_tree(a, tmp, collected_tests(a))
        if (root / a.id).exists():
            shutil.rmtree(root / a.id)  # generated, tracked by git: nothing to keep
        tmp.rename(root / a.id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root / a.id
