"""The assignment format: `assignments/<ID>/assignment.yaml` and the folders beside it.

Instructor (source) tree:

    assignments/A1/
      assignment.yaml     title, tasks + points, student/given files, written questions, limits
      questions.md        the written questions (released)
      src/                the files students get; student files hold solution regions
      tests/              public tests (released as tests/)
      hidden/tests/       hidden tests (never released)
      hidden/answers.yaml answers of the auto-checked written questions (never released)

A released (student) tree holds the same files flat: `assignment.yaml` (without anything
secret, `released: true`), the stubbed student files, given files, `tests/`, `questions.md`,
`answers.yaml` (a template) and a `conftest.py` that loads the dlcc pytest plugin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dlcc.errors import ConfigError

ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
TASK_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z0-9_.-]+$")
QUESTION_KINDS = ("choice", "numeric", "text", "manual")
VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")
ANSWERS_FILE = "answers.yaml"
WRITTEN_FILE = "written_answers.md"   # answers of the hand-graded questions


@dataclass
class Task:
    id: str
    title: str
    points: float


@dataclass
class Question:
    id: str
    title: str
    points: float
    kind: str  # choice | numeric | text (auto-checked) | manual (by hand)
    choices: list[str] = field(default_factory=list)  # choice questions: the letters offered


@dataclass
class SandboxNeeds:
    """What an assignment's tests need inside the sandbox beyond calling functions."""

    subprocesses: bool = False   # start processes (fork, exec); refused by default
    network: str = "none"        # "loopback": sockets inside the sandbox's own network

    def as_dict(self) -> dict:
        return {"subprocesses": self.subprocesses, "network": self.network == "loopback"}


@dataclass
class Limits:
    test_timeout_s: float = 20.0     # time one test may spend in student code
    total_timeout_s: float = 600.0   # time the whole submission may spend in student code
    # Address space of the sandbox process (RLIMIT_AS). Importing torch alone maps ~4 GB of
    # address space (not resident memory), so the default leaves room for it.
    memory_mb: int = 6144
    processes: int = 64              # processes + threads of the sandbox uid (RLIMIT_NPROC)
    file_size_mb: int = 64           # largest file (or printed output) student code may write
    max_reply_mb: int = 512          # largest value one call may send back

    def as_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class Assignment:
    id: str
    title: str
    root: Path
    student_files: list[str]
    given_files: list[str]
    tasks: list[Task]
    questions: list[Question] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    visibility: dict = field(default_factory=lambda: {"public": "visible",
                                                      "hidden": "after_published"})
    released: bool = False
    needs: SandboxNeeds = field(default_factory=SandboxNeeds)
    data: list[str] = field(default_factory=list)   # datasets the tests load (shared decoded)
    raw: dict = field(default_factory=dict)

    # layout ------------------------------------------------------------------------------
    @property
    def code_dir(self) -> Path:
        return self.root if self.released else self.root / "src"

    @property
    def public_tests_dir(self) -> Path:
        return self.root / "tests"

    @property
    def hidden_tests_dir(self) -> Path:
        return self.root / "hidden" / "tests"

    @property
    def answers_path(self) -> Path:
        return self.root / "hidden" / ANSWERS_FILE

    @property
    def questions_path(self) -> Path:
        return self.root / "questions.md"

    @property
    def task_ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    @property
    def code_points(self) -> float:
        return sum(t.points for t in self.tasks)

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise ConfigError(f"assignment {self.id} has no task {task_id!r}; its tasks are "
                          f"{', '.join(self.task_ids)}", fix=f"pass one of: {' '.join(self.task_ids)}")

    @classmethod
    def load(cls, root: str | Path) -> "Assignment":
        root = Path(root)
        path = root / "assignment.yaml"
        if not path.is_file():
            raise ConfigError(f"{path} does not exist", fix="point at a folder holding assignment.yaml")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}", fix=f"fix the syntax in {path}") from None
        return _parse(raw, root, path)


def _need(raw: dict, key: str, kind, path: Path):
    if key not in raw:
        raise ConfigError(f"{path}: key {key!r} is missing", fix=f"add `{key}:` to {path}")
    value = raw[key]
    if not isinstance(value, kind):
        raise ConfigError(f"{path}: {key!r} should be a {getattr(kind, '__name__', kind)}, "
                          f"found {type(value).__name__} {value!r}", fix=f"fix `{key}:` in {path}")
    return value


def _parse(raw: dict, root: Path, path: Path) -> Assignment:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level", fix="see docs/course.md")
    aid = str(_need(raw, "id", (str, int), path))
    if not ID_RE.match(aid):
        raise ConfigError(f"{path}: id {aid!r} is not a valid assignment id (letters, digits, _ -)",
                          fix="use an id such as A1")
    title = str(_need(raw, "title", str, path))
    student = [str(f) for f in _need(raw, "student_files", list, path)]
    given = [str(f) for f in raw.get("given_files", []) or []]
    for name in student + given:
        if "/" in name or "\\" in name or name.startswith(".") or name in (ANSWERS_FILE, WRITTEN_FILE):
            raise ConfigError(f"{path}: {name!r} must be a plain file name in src/",
                              fix=f"fix the file lists in {path}")
    for name in student:
        if not name.endswith(".py"):
            raise ConfigError(f"{path}: student file {name!r} must be a .py file",
                              fix=f"fix `student_files:` in {path}")
    tasks = []
    for i, t in enumerate(_need(raw, "tasks", list, path)):
        if not isinstance(t, dict) or "id" not in t or "points" not in t:
            raise ConfigError(f"{path}: task #{i + 1} needs `id` and `points`, found {t!r}",
                              fix=f"write it as `- {{id: {aid}.{i + 1}, title: ..., points: 10}}`")
        tid = str(t["id"])
        if not TASK_RE.match(tid) or not tid.startswith(aid + "."):
            raise ConfigError(f"{path}: task id {tid!r} should look like {aid}.{i + 1}",
                              fix=f"rename the task in {path}")
        tasks.append(Task(tid, str(t.get("title", tid)), _points(t["points"], tid, path)))
    _unique([t.id for t in tasks], "task", path)
    questions = []
    for i, q in enumerate(raw.get("questions", []) or []):
        if not isinstance(q, dict) or "id" not in q or "points" not in q:
            raise ConfigError(f"{path}: question #{i + 1} needs `id`, `points` and `kind`",
                              fix=f"write it as `- {{id: {aid}.Q{i + 1}, points: 2, kind: choice}}`")
        kind = str(q.get("kind", "manual"))
        if kind not in QUESTION_KINDS:
            raise ConfigError(f"{path}: question {q['id']} has kind {kind!r}, expected one of "
                              f"{', '.join(QUESTION_KINDS)}", fix=f"fix the question in {path}")
        choices = q.get("choices") or []
        if not isinstance(choices, list) or (choices and kind != "choice") or \
                not all(isinstance(c, str) and re.fullmatch(r"[a-z]", c) for c in choices):
            raise ConfigError(f"{path}: question {q['id']}: `choices` must be a list of single "
                              f"letters on a choice question, found {choices!r}",
                              fix=f"write e.g. `choices: [a, b, c, d]` in {path}")
        questions.append(Question(str(q["id"]), str(q.get("title", q["id"])),
                                  _points(q["points"], q["id"], path), kind, list(choices)))
    _unique([t.id for t in tasks] + [q.id for q in questions], "task/question", path)
    limits = Limits()
    for key, value in (raw.get("limits") or {}).items():
        if not hasattr(limits, key):
            raise ConfigError(f"{path}: unknown limit {key!r}; known: {', '.join(vars(limits))}",
                              fix=f"fix `limits:` in {path}")
        if not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{path}: limit {key} must be a positive number, found {value!r}",
                              fix=f"fix `limits:` in {path}")
        setattr(limits, key, type(getattr(limits, key))(value))
    visibility = {"public": "visible", "hidden": "after_published", **(raw.get("visibility") or {})}
    for key, value in visibility.items():
        if value not in VISIBILITY:
            raise ConfigError(f"{path}: visibility {key}: {value!r} is not one of {VISIBILITY}",
                              fix=f"fix `visibility:` in {path}")
    return Assignment(aid, title, root.resolve(), student, given, tasks, questions, limits,
                      visibility, bool(raw.get("released", False)), _needs(raw, path),
                      _data(raw, path), raw)


def _needs(raw: dict, path: Path) -> SandboxNeeds:
    spec = raw.get("sandbox") or {}
    known = {"subprocesses", "network"}
    if not isinstance(spec, dict) or set(spec) - known:
        raise ConfigError(f"{path}: `sandbox:` takes only {', '.join(sorted(known))}, found {spec!r}",
                          fix="write e.g. `sandbox: {subprocesses: true, network: loopback}`")
    subprocesses, network = spec.get("subprocesses", False), spec.get("network", "none")
    if not isinstance(subprocesses, bool) or network not in ("none", "loopback"):
        raise ConfigError(f"{path}: sandbox needs: subprocesses must be true/false and network "
                          f"none or loopback, found {spec!r}", fix=f"fix `sandbox:` in {path}")
    return SandboxNeeds(subprocesses, network)


def _data(raw: dict, path: Path) -> list[str]:
    data = raw.get("data") or []
    if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
        raise ConfigError(f"{path}: `data:` must be a list of dataset names, found {data!r}",
                          fix="write e.g. `data: [mnist]` (names from `dlcc data list`)")
    return data


def _points(value, owner, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{path}: points of {owner} must be a number >= 0, found {value!r}",
                          fix=f"fix the points in {path}")
    return float(value)


def _unique(ids: list[str], what: str, path: Path) -> None:
    seen = set()
    for i in ids:
        if i in seen:
            raise ConfigError(f"{path}: {what} id {i!r} appears twice", fix=f"rename one in {path}")
        seen.add(i)
