"""Practice questions that check themselves. Their answers ship with dlcc (unlike an
assignment's graded questions, whose key stays with the instructor).

A quiz is `quizzes/<lecture id>.yaml`:

    questions:
      - id: Q1
        kind: choice            # one letter;   "multi": a set of letters;   "number": a value
        text: Which ...?
        options: [first, second, third]
        answer: B               # multi: "AC";  number: 5.32 with `tolerance` (absolute)
        explain: Why B is right, and what the others get wrong.

`check(question, raw)` parses an answer and says whether it is right; an answer of the wrong
form (not a number, not an option) is an `InputError` naming the question and what it takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources

import yaml

from dlcc.errors import ConfigError, InputError
from dlcc.lectures.catalog import Lecture

KINDS = ("choice", "multi", "number")


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    text: str
    explain: str
    answer: object
    options: tuple[str, ...] = ()
    tolerance: float = 0.0

    @property
    def letters(self) -> str:
        return "ABCDEFGHIJ"[: len(self.options)]

    def expected(self) -> str:
        """The right answer as text."""
        if self.kind == "number":
            return f"{self.answer:g}" + (f" (± {self.tolerance:g})" if self.tolerance else "")
        return str(self.answer)

    def form(self) -> str:
        """What an answer must look like, for prompts and error messages."""
        if self.kind == "number":
            return "a number (e.g. 0.25, 1e-3 or 1/4)"
        joined = ", ".join(self.letters)
        return f"one of {joined}" if self.kind == "choice" else f"one or more of {joined} (e.g. AC)"


def _question(raw: dict, where: str) -> Question:
    try:
        kind = raw["kind"]
        if kind not in KINDS:
            raise ConfigError(f"{where}: kind {kind!r} is not one of {KINDS}")
        options = tuple(str(o) for o in raw.get("options", ()))
        answer = raw["answer"]
        if kind == "number":
            answer = float(answer)
        else:
            answer = str(answer).upper().replace(",", "").replace(" ", "")
            letters = "ABCDEFGHIJ"[: len(options)]
            if not answer or any(a not in letters for a in answer) or (kind == "choice" and len(answer) != 1):
                raise ConfigError(f"{where}: answer {answer!r} does not fit options {letters}")
        return Question(id=str(raw["id"]), kind=kind, text=str(raw["text"]).strip(),
                        explain=str(raw["explain"]).strip(), answer=answer, options=options,
                        tolerance=float(raw.get("tolerance", 0.0)))
    except KeyError as exc:
        raise ConfigError(f"{where}: missing field {exc}") from None


def load_quiz(lecture: Lecture) -> list[Question]:
    """The lecture's questions, in order.

    Raises:
        InputError: the lecture has no quiz yet.
    """
    name = f"{lecture.id}.yaml"
    source = resources.files("dlcc.lectures").joinpath("quizzes", name)
    if not source.is_file():
        raise InputError(f"lecture {lecture.id} has no quiz yet",
                         fix="see `dlcc lecture list` for the lectures with quizzes")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"quizzes/{name} is not valid YAML: {exc}") from None
    questions = [_question(q, f"quizzes/{name} question {i + 1}")
                 for i, q in enumerate(data["questions"])]
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"quizzes/{name}: question ids repeat: {ids}")
    return questions


def parse_answer(question: Question, raw: str):
    """The answer in comparable form (a float, or a string of sorted letters).

    Raises:
        InputError: the answer is not of the question's form.
    """
    text = str(raw).strip()
    if question.kind == "number":
        try:
            value = float(Fraction(text)) if "/" in text else float(text)
        except (ValueError, ZeroDivisionError):
            value = math.nan
        if not math.isfinite(value):
            raise InputError(f"{question.id}: {text!r} is not a number",
                             fix=f"answer {question.id} with {question.form()}")
        return value
    letters = text.upper().replace(",", "").replace(" ", "")
    ok = bool(letters) and all(ch in question.letters for ch in letters)
    if question.kind == "choice":
        ok = ok and len(letters) == 1
    if not ok:
        raise InputError(f"{question.id}: {text!r} is not an option",
                         fix=f"answer {question.id} with {question.form()}")
    return "".join(sorted(set(letters)))


def is_right(question: Question, value) -> bool:
    if question.kind == "number":
        return abs(value - question.answer) <= question.tolerance + 1e-12 * abs(question.answer)
    return value == "".join(sorted(question.answer))


def to_markdown(questions: list[Question], lecture: Lecture) -> str:
    """The questions as site markdown, each answer folded away under its question."""
    lines = [f"Check yourself with `dlcc lecture quiz {lecture.id}` (it explains each answer), "
             "or unfold the answers below.", ""]
    for n, q in enumerate(questions, 1):
        lines += [f"**{q.id}.** {q.text}", ""]
        lines += [f"- **{letter}.** {option}" for letter, option in zip(q.letters, q.options)]
        if q.options:
            lines.append("")
        lines += [f'??? note "Answer to {q.id}"', f"    **{q.expected()}.** " +
                  q.explain.replace("\n", "\n    "), ""]
    return "\n".join(lines)
