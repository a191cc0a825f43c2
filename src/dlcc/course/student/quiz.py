"""Written questions: the answer templates, checking a student's answers file, and grading it.

Four kinds of question (`kind:` in assignment.yaml):

    numeric   a number (or a list of numbers); integers exact, others 0.1 % relative
    choice    a letter (or a set of letters), from `choices:` when the question lists them
    text      a short text, compared without case, spaces or punctuation at the ends
    manual    graded by hand: answered in written_answers.md, one `## <id>` section each

The key lives in `hidden/answers.yaml` (never released). The examples here belong to a
made-up assignment, Z9, so that nothing students install gives an answer away:

    Z9.Q1: {answer: 4096}                      # numeric
    Z9.Q2: {answer: 2.5, tolerance: 0.01}      # numeric, absolute tolerance
    Z9.Q3: {answer: c}                         # one choice
    Z9.Q4: {answer: [a, d]}                    # several choices: exactly this set
    Z9.Q5: {answer: [vanishing gradient, vanishing gradients]}   # text: any of these

Only YAML data is parsed here (`safe_load`, no aliases); no student code runs.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import yaml

from dlcc.course.authoring.format import ANSWERS_FILE, WRITTEN_FILE, Assignment, Question
from dlcc.errors import ConfigError

MAX_ANSWERS_BYTES = 256 * 1024
AUTO = ("numeric", "choice", "text")
PLACEHOLDER = "(write your answer here)"


def _points(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


def template(a: Assignment) -> str:
    """The answers.yaml a release holds: every auto-checked question, unanswered."""
    lines = [f"# Written answers for {a.id} (questions in questions.md). Keep the keys; replace null.",
             "# numeric: a number (or a list of numbers); choice: the letter, e.g. b (a list such",
             "#   as [a, c] when several are right); text: a few words.", ""]
    for q in a.questions:
        if q.kind in AUTO:
            offered = f" ({', '.join(q.choices)})" if q.choices else ""
            lines.append(f"{q.id}: null   # {q.kind}{offered}, {_points(q.points)}: {q.title}")
    manual = [q for q in a.questions if q.kind == "manual"]
    if manual:
        lines += ["", f"# Graded by hand, answered in {WRITTEN_FILE}:"]
        lines += [f"#   {q.id} ({_points(q.points)}): {q.title}" for q in manual]
    return "\n".join(lines) + "\n"


def written_template(a: Assignment) -> str:
    """The written_answers.md a release holds: one section per hand-graded question."""
    lines = [f"# {a.id}: answers graded by hand", "",
             "Write each answer under its heading (Markdown; LaTeX in $...$ is fine). Keep the",
             "headings. `dlcc course submit` checks that every section is answered.", ""]
    for q in a.questions:
        if q.kind == "manual":
            lines += [f"## {q.id}: {q.title} ({_points(q.points)})", "", PLACEHOLDER, ""]
    return "\n".join(lines)


def written_sections(text: str) -> dict[str, str]:
    """Question id -> the text under its `## <id>` heading."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^##\s+([A-Za-z][\w.-]*)\b", line)
        if m:
            current = m.group(1).rstrip(":")
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def load_key(a: Assignment) -> dict:
    path = a.answers_path
    auto = [q for q in a.questions if q.kind in AUTO]
    if not auto:
        return {}
    if not path.is_file():
        raise ConfigError(f"{path} is missing; it holds the answers of {', '.join(q.id for q in auto)}",
                          fix=f"create {path}")
    key = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for q in auto:
        entry = key.get(q.id)
        if not isinstance(entry, dict) or "answer" not in entry:
            raise ConfigError(f"{path}: no answer for {q.id}", fix=f"add `{q.id}: {{answer: ...}}`")
    return key


def read_key_for_lint(a: Assignment) -> dict:
    """The key, or {} when missing (the linter reports that separately)."""
    try:
        return load_key(a)
    except ConfigError:
        return {}


# --------------------------------------------------------------------------- reading answers

def parse_answers(raw: bytes) -> dict:
    """The answers file as a mapping; raises ValueError with a student-readable message."""
    if len(raw) > MAX_ANSWERS_BYTES:
        raise ValueError(f"{ANSWERS_FILE} is larger than {MAX_ANSWERS_BYTES} bytes")
    text = raw.decode("utf-8", "replace")
    try:
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise ValueError(f"{ANSWERS_FILE}: anchors and aliases (&x / *x) are not allowed")
        answers = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{ANSWERS_FILE} is not valid YAML: {str(exc)[:300]}") from None
    if not isinstance(answers, dict):
        raise ValueError(f"{ANSWERS_FILE} should map question ids to answers")
    return answers


def number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            return float(Fraction(text)) if "/" in text else float(text)
        except (ValueError, ZeroDivisionError):
            return None
    return None


def _choices(value) -> set[str] | None:
    items = value if isinstance(value, list) else [value]
    out = set()
    for item in items:
        if not isinstance(item, (str, int)) or isinstance(item, bool):
            return None
        out.add(str(item).strip().strip("()").lower())
    return out


def normalize_text(value) -> str:
    return re.sub(r"\s+", " ", str(value)).strip(" .,;:!?\"'").lower()


def form_problem(q: Question, given) -> str | None:
    """Why `given` is not an answer of the right form for `q` (None when it is)."""
    if q.kind == "numeric":
        items = given if isinstance(given, list) else [given]
        bad = [g for g in items if number(g) is None or not math.isfinite(number(g))]
        return f"{bad[0]!r} is not a number" if bad else None
    if q.kind == "choice":
        got = _choices(given)
        if got is None or not got:
            return f"{given!r} is not a choice (write the letter, e.g. b)"
        unknown = sorted(got - set(q.choices)) if q.choices else []
        return f"{', '.join(unknown)} is not one of the choices {', '.join(q.choices)}" if unknown else None
    if q.kind == "text":
        return None if isinstance(given, (str, int, float)) and normalize_text(given) else \
            f"{given!r} is not a short text answer"
    return None


# --------------------------------------------------------------------------- grading

def _check_numeric(given, entry: dict) -> tuple[bool, str]:
    expected = entry["answer"]
    exp_list = expected if isinstance(expected, list) else [expected]
    got_list = given if isinstance(given, list) else [given]
    if len(got_list) != len(exp_list):
        return False, f"expected {len(exp_list)} number(s), found {len(got_list)}"
    for got, exp in zip(got_list, exp_list):
        if abs(number(got) - float(exp)) > tolerance(entry, exp):
            return False, "incorrect"
    return True, "correct"


def tolerance(entry: dict, expected) -> float:
    """Absolute tolerance of a numeric key entry around `expected` (as written in the key):
    `tolerance:` (absolute) or `rel_tolerance:` when given, else exact for an integer (a
    count one bias off is wrong) and 0.1 % relative for any other number."""
    tol = float(entry.get("tolerance", 0.0))
    exact = isinstance(expected, int) and not isinstance(expected, bool)
    default = 0.0 if exact or "tolerance" in entry else 1e-3
    rel = float(entry.get("rel_tolerance", default))
    return tol + rel * abs(float(expected)) + 1e-9


def _check(q: Question, given, entry: dict) -> tuple[bool, str]:
    problem = form_problem(q, given)
    if problem:
        return False, problem
    if q.kind == "numeric":
        return _check_numeric(given, entry)
    if q.kind == "choice":
        ok = _choices(given) == _choices(entry["answer"])
    else:
        accepted = entry["answer"] if isinstance(entry["answer"], list) else [entry["answer"]]
        ok = normalize_text(given) in {normalize_text(a) for a in accepted}
    return ok, "correct" if ok else "incorrect"


def grade_answers(a: Assignment, raw: bytes | None, key: dict) -> list[dict]:
    """One result per auto-checked question: {id, title, score, max_score, output}."""
    results = []
    answers, problem = {}, None
    if raw is None:
        problem = f"no {ANSWERS_FILE} in the submission"
    else:
        try:
            answers = parse_answers(raw)
        except ValueError as exc:
            problem = str(exc)
    for q in a.questions:
        if q.kind not in AUTO:
            continue
        given = answers.get(q.id)
        if problem:
            ok, text = False, problem
        elif given is None:
            ok, text = False, "no answer given"
        else:
            ok, text = _check(q, given, key[q.id])
        shown = "" if given is None or problem else f"your answer {str(given)[:80]!r}: "
        results.append({"id": q.id, "title": q.title, "max_score": q.points,
                        "score": q.points if ok else 0.0, "output": shown + text})
    return results
