"""`dlcc course submit ID [--dir WORK] --out FILE.zip`: check a working copy, then pack
exactly what the grader takes.

Checked before anything is written (each problem: one line naming the file and the fix):

* WORK is a release of this assignment (its assignment.yaml);
* every student file is there and is valid Python;
* answers.yaml is valid YAML, names only this assignment's questions, and answers each
  auto-checked question in the right form (a number; a letter among the choices; a text);
* written_answers.md answers every hand-graded question under its `## <id>` heading;
* nothing is left unfinished: a task's stub (`raise NotImplementedError("A1.2: ...")`) or an
  unanswered question stops the submission unless `--partial` says that is intended.

Then the public tests run (as `dlcc course test`; `--no-tests` skips them). Failing tests do
not stop a submission: the grader grades what is there. The zip holds the student files,
answers.yaml and written_answers.md at its top level, and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dlcc.course.authoring.format import ANSWERS_FILE, WRITTEN_FILE, Assignment
from dlcc.course.student import quiz
from dlcc.errors import InputError
from dlcc.utils.io import atomic_write_zip


@dataclass
class Packing:
    """What goes into the zip, and what was left unfinished (file -> tasks or question ids)."""

    files: dict[str, bytes] = field(default_factory=dict)
    stubs: dict[str, list[str]] = field(default_factory=dict)
    unanswered: dict[str, list[str]] = field(default_factory=dict)

    @property
    def unfinished(self) -> list[str]:
        """One phrase per file, e.g. "tasks A1.1, A1.2 still raise the release's stub (a.py)"."""
        out = [f"task{'s' if len(t) > 1 else ''} {', '.join(t)} still raise the release's "
               f"NotImplementedError ({name})" for name, t in self.stubs.items()]
        out += [f"{', '.join(q)} unanswered ({name})" for name, q in self.unanswered.items()]
        return out


def working_copy(aid: str, workdir: Path, released_only: bool = True) -> Assignment:
    """The assignment in a student's folder (`released_only=False` also accepts the
    instructor's tree, whose tests `course test` can run on the solution)."""
    if not (workdir / "assignment.yaml").is_file():
        raise InputError(f"{workdir} holds no assignment.yaml, so it is not an assignment working copy",
                         fix=f"pass --dir with the folder made by `dlcc course get {aid}`")
    a = Assignment.load(workdir)
    if a.id != aid:
        raise InputError(f"{workdir / 'assignment.yaml'} is assignment {a.id}, not {aid}",
                         fix=f"use {a.id} in the command, or pass --dir with the {aid} folder")
    if released_only and not a.released:
        raise InputError(f"{workdir} is the instructor's tree of {aid} (with solutions), not a "
                         "student's copy", fix=f"submit from the folder made by `dlcc course get {aid}`")
    return a


def _stubs_left(a: Assignment, text: str) -> list[str]:
    tasks = "|".join(re.escape(t) for t in a.task_ids)
    return list(dict.fromkeys(re.findall(rf'raise NotImplementedError\("({tasks}): this part of', text)))


def _code(a: Assignment, workdir: Path, packing: Packing) -> None:
    for name in a.student_files:
        path = workdir / name
        if not path.is_file():
            raise InputError(f"{path} is missing; the grader needs every student file "
                             f"({', '.join(a.student_files)})",
                             fix=f"restore it (`dlcc course get {a.id} --out NEWDIR` has a fresh copy)")
        data = path.read_bytes()
        try:
            compile(data, str(path), "exec")
        except SyntaxError as exc:
            raise InputError(f"{path}:{exc.lineno}: {exc.msg}; the grader could not import it",
                             fix="fix the syntax error (run `dlcc course test` to see it in context)") from None
        except ValueError as exc:  # e.g. NUL bytes
            raise InputError(f"{path} is not a Python source file ({exc})", fix="fix the file") from None
        left = _stubs_left(a, data.decode("utf-8", "replace"))
        if left:
            packing.stubs[name] = left
        packing.files[name] = data


def _answers(a: Assignment, workdir: Path, packing: Packing) -> None:
    auto = [q for q in a.questions if q.kind in quiz.AUTO]
    if not auto:
        return
    path = workdir / ANSWERS_FILE
    if not path.is_file():
        raise InputError(f"{path} is missing; it holds your answers to {', '.join(q.id for q in auto)}",
                         fix=f"restore it from a fresh copy (`dlcc course get {a.id} --out NEWDIR`) "
                             "and fill it in")
    raw = path.read_bytes()
    try:
        answers = quiz.parse_answers(raw)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}", fix="fix the file; keep one `<id>: <answer>` per line") from None
    known = {q.id for q in a.questions}
    unknown = sorted(str(k) for k in answers if k not in known)
    if unknown:
        raise InputError(f"{path}: unknown question id(s) {', '.join(unknown)}; {a.id}'s questions "
                         f"are {', '.join(q.id for q in auto)}", fix="correct the ids (see questions.md)")
    for q in auto:
        given = answers.get(q.id)
        if given is None:
            packing.unanswered.setdefault(ANSWERS_FILE, []).append(q.id)
            continue
        problem = quiz.form_problem(q, given)
        if problem:
            raise InputError(f"{path}: {q.id} ({q.kind}): {problem}",
                             fix={"numeric": f"write a number, e.g. `{q.id}: 12.5`",
                                  "choice": f"write the letter, e.g. `{q.id}: b`",
                                  "text": f"write a few words, e.g. `{q.id}: my answer`"}[q.kind])
    packing.files[ANSWERS_FILE] = raw


def _written(a: Assignment, workdir: Path, packing: Packing) -> None:
    manual = [q for q in a.questions if q.kind == "manual"]
    if not manual:
        return
    path = workdir / WRITTEN_FILE
    if not path.is_file():
        raise InputError(f"{path} is missing; it holds your answers to the hand-graded questions "
                         f"{', '.join(q.id for q in manual)}",
                         fix=f"restore it from a fresh copy (`dlcc course get {a.id} --out NEWDIR`) "
                             "and write your answers under its headings")
    text = path.read_text(encoding="utf-8", errors="replace")
    sections = quiz.written_sections(text)
    for q in manual:
        body = sections.get(q.id)
        if body is None:
            raise InputError(f"{path}: no `## {q.id}` heading", fix=f"add `## {q.id}` and your answer below it")
        if not body or body == quiz.PLACEHOLDER:
            packing.unanswered.setdefault(WRITTEN_FILE, []).append(q.id)
    packing.files[WRITTEN_FILE] = text.encode("utf-8")


def check(a: Assignment, workdir: Path) -> Packing:
    """Everything the zip will hold; raises InputError on the first malformed file."""
    packing = Packing()
    _code(a, workdir, packing)
    _answers(a, workdir, packing)
    _written(a, workdir, packing)
    return packing


def check_out(out: Path, force: bool) -> None:
    if out.suffix.lower() != ".zip":
        raise InputError(f"--out {out} should be a .zip file", fix=f"pass --out {out.with_suffix('.zip').name}")
    if out.is_dir():
        raise InputError(f"--out {out} is a directory", fix="pass a file name ending in .zip")
    if out.exists() and not force:
        raise InputError(f"{out} already exists; dlcc will not overwrite it",
                         fix="pass --force to replace it, or choose another --out")


def pack(packing: Packing, out: Path) -> None:
    """Write the zip through a temporary file (a failure leaves no half-written zip)."""
    atomic_write_zip(out, packing.files)
