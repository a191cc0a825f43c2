"""Written questions: the answers template, and checking multiple-choice and numeric answers.

The key lives in `hidden/answers.yaml` (never released):

    A1.Q1: {answer: 5306}                      # numeric; default tolerance: 0.1 % relative
    A1.Q5: {answer: 0.1625, tolerance: 0.001}  # absolute tolerance
    A1.Q3: {answer: a}                         # one choice
    A1.Q6: {answer: [a, c]}                    # several choices: the exact set

Students fill in `answers.yaml` (a template made by the release). `manual` questions
(derivations, proofs) are graded by hand and reported as pending, never as 0 or full marks.
This module only parses YAML with `safe_load`; no student code runs here.
"""

from __future__ import annotations

import math
from fractions import Fraction
import yaml

from dlcc.course.assignment import ANSWERS_FILE, Assignment
from dlcc.errors import ConfigError

MAX_ANSWERS_BYTES = 256 * 1024


def _points(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


def template(a: Assignment) -> str:
    lines = [f"# Written answers for {a.id} (questions in questions.md). Keep the keys; replace null.",
             "# choice questions: the letter of your answer, e.g. b (a list such as [a, c] when",
             "#   several are right); numeric questions: a number, or a list of numbers.", ""]
    for q in a.questions:
        if q.kind != "manual":
            lines.append(f"{q.id}: null   # {q.kind}, {_points(q.points)}: {q.title}")
    manual = [q for q in a.questions if q.kind == "manual"]
    if manual:
        lines += ["", "# Graded by hand (hand these in as your instructor asks, not in this file):"]
        lines += [f"#   {q.id} ({_points(q.points)}): {q.title}" for q in manual]
    return "\n".join(lines) + "\n"


def load_key(a: Assignment) -> dict:
    path = a.answers_path
    auto = [q for q in a.questions if q.kind != "manual"]
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


def _number(value) -> float | None:
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


def _check_numeric(given, entry: dict) -> tuple[bool, str]:
    expected = entry["answer"]
    exp_list = expected if isinstance(expected, list) else [expected]
    got_list = given if isinstance(given, list) else [given]
    if len(got_list) != len(exp_list):
        return False, f"expected {len(exp_list)} number(s), found {len(got_list)}"
    for got, exp in zip(got_list, exp_list):
        g = _number(got)
        if g is None or not math.isfinite(g):
            return False, f"{got!r} is not a number"
        tol = float(entry.get("tolerance", 0.0))
        rel = float(entry.get("rel_tolerance", 1e-3 if "tolerance" not in entry else 0.0))
        if abs(g - float(exp)) > tol + rel * abs(float(exp)) + 1e-12:
            return False, "incorrect"
    return True, "correct"


def _choices(value) -> set[str] | None:
    items = value if isinstance(value, list) else [value]
    out = set()
    for item in items:
        if not isinstance(item, (str, int)) or isinstance(item, bool):
            return None
        out.add(str(item).strip().strip("()").lower())
    return out


def _check_choice(given, entry: dict) -> tuple[bool, str]:
    got, exp = _choices(given), _choices(entry["answer"])
    if got is None:
        return False, f"{given!r} is not a choice (write the letter, e.g. b)"
    return (got == exp), ("correct" if got == exp else "incorrect")


def grade_answers(a: Assignment, raw: bytes | None, key: dict) -> list[dict]:
    """One result per auto-checked question: {id, title, score, max_score, output}."""
    results = []
    answers, problem = {}, None
    if raw is None:
        problem = f"no {ANSWERS_FILE} in the submission"
    elif len(raw) > MAX_ANSWERS_BYTES:
        problem = f"{ANSWERS_FILE} is larger than {MAX_ANSWERS_BYTES} bytes"
    else:
        text = raw.decode("utf-8", "replace")
        try:
            if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=yaml.SafeLoader)):
                raise yaml.YAMLError("anchors and aliases (&x / *x) are not allowed here")
            answers = yaml.safe_load(text) or {}
            if not isinstance(answers, dict):
                problem, answers = f"{ANSWERS_FILE} should map question ids to answers", {}
        except yaml.YAMLError as exc:
            problem = f"{ANSWERS_FILE} is not valid YAML: {str(exc)[:300]}"
    for q in a.questions:
        if q.kind == "manual":
            continue
        given = answers.get(q.id)
        if problem:
            ok, text = False, problem
        elif given is None:
            ok, text = False, "no answer given"
        elif q.kind == "numeric":
            ok, text = _check_numeric(given, key[q.id])
        else:
            ok, text = _check_choice(given, key[q.id])
        shown = "" if given is None or problem else f"your answer {str(given)[:80]!r}: "
        results.append({"id": q.id, "title": q.title, "max_score": q.points,
                        "score": q.points if ok else 0.0, "output": shown + text})
    return results


def read_key_for_lint(a: Assignment) -> dict:
    """The key, or {} when missing (the linter reports that separately)."""
    try:
        return load_key(a)
    except ConfigError:
        return {}
