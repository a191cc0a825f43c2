"""Finding the answer key and the hidden tests in what students get.

`course check` scans the release, the installed dlcc package (what `pip install dlcc` gives a
student, shipped releases included) and the repository's docs for:

* numeric answers with three or more significant digits: any number in the text that has
  three or more significant digits and that the grader would accept as the answer;
* choice answers in their question's context: the question's id (`A1.Q3` or `Q3`) followed
  by `:`, `=`, `->`, `is` or `answer` and then the answer's letter(s), as in a key file;
* text answers of three or more characters, as words anywhere (case ignored);
* the distinctive lines of every hidden test (24 characters or more, not imports or
  decorators, not also in a released file of the assignment): a test's `def` line or a line
  with a string of 20 characters or more (an assertion's message) alone, any other such line
  when it stands next to another one (a single line such as `except DlccError as exc:` is
  an idiom of the library, not a leak).

Shorter numbers, single letters out of context and short words occur everywhere, so they
are not searched; write such questions so that their answers are not guessable instead.
Dataset manifests (checksums and byte sizes) are not read. A number that stands somewhere by
coincidence (1080 as an image height, say) is allowed there by the key entry itself:
`Z9.Q7: {answer: 1080, coincidences: ["dlcc/lectures/*"]}` (file name patterns as the
problems name them); `check` lists every place so allowed.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

from dlcc.course.authoring.format import Assignment
from dlcc.course.student import quiz

TEXT_SUFFIXES = {".py", ".md", ".txt", ".yaml", ".yml", ".json", ".cfg", ".toml", ".rst",
                 ".html", ".ipynb", ".csv", ".tex"}
SKIP_DIRS = {"__pycache__", ".git", ".pytest_cache", ".ipynb_checkpoints", "manifests"}
MAX_BYTES = 2 * 1024 * 1024
# a number not glued to a word (an "x" between numbers, as in 32x32, does not glue)
NUMBER_RE = re.compile(r"(?<![A-Za-wyz_\d.])-?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
                       r"(?:[eE][-+]?\d+)?(?![A-Za-wyz_\d])")
SEPARATOR = r"[\s,;x×*]+"   # between the numbers of a list answer: "7, 49, 49", "7x49x49"
MIN_LINE = 24


def read_texts(roots: list[Path], label: str | None = None) -> dict[str, str]:
    """name -> text of every text file under the given folders (or the files themselves)."""
    out = {}
    for root in roots:
        if not root.exists():
            continue
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if (path.is_file() and path.suffix.lower() in TEXT_SUFFIXES
                    and not SKIP_DIRS & set(path.parts) and path.stat().st_size <= MAX_BYTES):
                name = f"{label}/{path.relative_to(root)}" if label and root.is_dir() else str(path)
                out[name] = path.read_text(encoding="utf-8", errors="replace")
    return out


def significant_digits(token: str) -> int:
    mantissa = re.split(r"[eE]", token.replace(",", "").lstrip("-"))[0]
    digits = mantissa.replace(".", "").lstrip("0")
    if "." not in mantissa:
        digits = digits.rstrip("0")  # 5300 has two significant digits
    return len(digits)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _numeric(qid: str, entry: dict, texts: dict[str, str]) -> list[str]:
    """A single answer: each number the grader would accept. A list answer: its numbers in
    order (one element of a list, such as 64 in [17, 64, 3], says nothing by itself)."""
    answers = entry["answer"] if isinstance(entry["answer"], list) else [entry["answer"]]
    expected = [quiz.number(v) for v in answers]
    if None in expected or max(significant_digits(repr(float(e)).removesuffix(".0"))
                               for e in expected) < 3:
        return []
    tols = [quiz.tolerance(entry, v) for v in answers]
    problems = []
    for name, text in texts.items():
        found = [(m.start(), m.end(), m.group(0)) for m in NUMBER_RE.finditer(text)]
        for i in range(len(found) - len(expected) + 1):
            run = found[i:i + len(expected)]
            gaps = [text[a[1]:b[0]] for a, b in zip(run, run[1:])]
            if any(not re.fullmatch(SEPARATOR, g) for g in gaps):
                continue
            values = [quiz.number(tok) for _, _, tok in run]
            if all(v is not None and abs(v - e) <= t for v, e, t in zip(values, expected, tols)) and \
                    max(significant_digits(tok) for _, _, tok in run) >= 3:
                shown = text[run[0][0]:run[-1][1]]
                problems.append(f"{name}:{_line(text, run[0][0])}: contains {shown}, which the "
                                f"grader accepts as the answer to {qid}")
    return problems


def _choice(a: Assignment, qid: str, entry: dict, texts: dict[str, str]) -> list[str]:
    answer = entry["answer"] if isinstance(entry["answer"], list) else [entry["answer"]]
    letters = r"\s*,\s*".join(rf"['\"]?{re.escape(str(x).strip())}['\"]?" for x in answer)
    short = qid.split(".", 1)[1] if qid.startswith(a.id + ".") else qid
    pattern = re.compile(
        rf"(?<![\w.])(?:{re.escape(a.id)}\.)?{re.escape(short)}\b[*_`]*\s*"
        rf"(?:[:=]|->|=>|\bis\b|\banswer\b)\s*[\[{{(]?\s*(?:answer\s*[:=]\s*)?[\[(]?\s*{letters}"
        rf"\s*[)\]]?(?![\w])", re.IGNORECASE)
    return [f"{name}:{_line(text, m.start())}: gives the answer to {qid} ({m.group(0).strip()[:60]!r})"
            for name, text in texts.items() for m in pattern.finditer(text)]


def _text(qid: str, entry: dict, texts: dict[str, str]) -> list[str]:
    answers = entry["answer"] if isinstance(entry["answer"], list) else [entry["answer"]]
    problems = []
    for value in answers:
        words = quiz.normalize_text(value)
        if len(words) < 3:
            continue
        body = r"\s+".join(re.escape(w) for w in words.split())
        pattern = re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)
        problems += [f"{name}:{_line(text, m.start())}: contains {value!r}, the answer to {qid}"
                     for name, text in texts.items() for m in pattern.finditer(text)]
    return problems


def answer_leaks(a: Assignment, key: dict, texts: dict[str, str]) -> tuple[list[str], list[str]]:
    """(problems, places allowed as coincidences by the key)."""
    problems, allowed = [], []
    for q in a.questions:
        entry = key.get(q.id)
        if not isinstance(entry, dict) or "answer" not in entry:
            continue
        found = {"numeric": _numeric, "text": _text}.get(q.kind, lambda *_: [])(q.id, entry, texts)
        if q.kind == "choice":
            found = _choice(a, q.id, entry, texts)
        patterns = entry.get("coincidences") or []
        for problem in found:
            name = problem.split(":", 1)[0]
            (allowed if any(fnmatch.fnmatch(name, p) for p in patterns) else problems).append(problem)
    return problems, allowed


def distinctive_hidden_lines(a: Assignment, released: dict[str, str]) -> dict[str, str]:
    """stripped line -> 'file:line' of each distinctive line of the hidden tests."""
    public = {line.strip() for text in released.values() for line in text.splitlines()}
    out = {}
    for path in sorted(a.hidden_tests_dir.rglob("*.py")) if a.hidden_tests_dir.is_dir() else []:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            s = line.strip()
            if (len(s) >= MIN_LINE and s not in public and not s.startswith(("import ", "from ", "@"))
                    and re.search(r"[A-Za-z]{3}", s)):
                out.setdefault(s, f"{path.relative_to(a.root)}:{no}")
    return out


LONG_STRING = re.compile(r"([\"'])(?:(?!\1).){20,}\1")


def _telling(line: str) -> bool:
    """A hidden line that gives the test away by itself."""
    return line.startswith("def test_") or bool(LONG_STRING.search(line))


def hidden_test_leaks(a: Assignment, released: dict[str, str], texts: dict[str, str]) -> list[str]:
    lines = distinctive_hidden_lines(a, released)
    problems = []
    for name, text in texts.items():
        rows = [(no, line.strip()) for no, line in enumerate(text.splitlines(), 1) if line.strip()]
        hits = [lines.get(s) for _, s in rows]
        for i, (no, stripped) in enumerate(rows):
            if hits[i] and (_telling(stripped) or (i > 0 and hits[i - 1]) or
                            (i + 1 < len(rows) and hits[i + 1])):
                problems.append(f"{name}:{no}: holds a line of the hidden test {hits[i]}")
    return problems


def _statement_sequence(code: str) -> list[str]:
    """Normalized dumps of a file's simple statements, in source order."""
    found = [(n.lineno, ast.dump(n, include_attributes=False)) for n in ast.walk(ast.parse(code))
             if isinstance(n, ast.stmt) and not isinstance(n, COMPOUND)]
    return [d for _, d in sorted(found)]


COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While,
            ast.With, ast.Try)


def solution_runs(a: Assignment, texts: dict[str, str], shortest: int = 3) -> list[str]:
    """Places where `shortest` or more consecutive statements of one solution region (given
    code left out) stand in the same order: a solution copied somewhere. Single statements
    (`loss.backward()`) are idioms everywhere, so only runs count."""
    from dlcc.course.authoring import markers
    from dlcc.course.authoring.check import _outside_regions

    given = set().union(*[_outside_regions(a, n) for n in a.student_files])
    runs = []
    for name in a.student_files:
        path = a.code_dir / name
        for r in markers.parse_regions(path.read_text(encoding="utf-8"), name)[0] if path.is_file() else []:
            region = [d for d in _statement_sequence(r.code) if d not in given]
            runs += [(r, region[i:i + shortest]) for i in range(len(region) - shortest + 1)]
    problems = []
    for fname, text in texts.items():
        if not fname.endswith(".py"):
            continue
        try:
            seq = _statement_sequence(text)
        except SyntaxError:
            continue
        windows = {tuple(seq[i:i + shortest]) for i in range(len(seq) - shortest + 1)}
        hit = {r.task + f" {r.file}:{r.begin}" for r, run in runs if tuple(run) in windows}
        problems += [f"{fname}: holds {shortest}+ consecutive statements of the solution region {h}"
                     for h in sorted(hit)]
    return problems


def student_texts(a: Assignment, release_tree: Path) -> dict[str, str]:
    """Everything a student gets: the release, the installed package, the repository's docs."""
    import dlcc

    package = Path(dlcc.__file__).resolve().parent
    texts = read_texts([release_tree], "release")
    texts.update(read_texts([package], "dlcc"))
    repo = a.root.parent.parent
    if (repo / "pyproject.toml").is_file() or (repo / ".git").exists():  # a course repository
        texts.update(read_texts([repo / "docs"], "docs"))
        texts.update(read_texts([repo / "README.md"]))
    return texts


def scan(a: Assignment, key: dict, release_tree: Path) -> tuple[list[str], list[str]]:
    """(problems, coincidences the key allows) in everything students get."""
    released = read_texts([release_tree], "release")
    texts = student_texts(a, release_tree)
    problems, allowed = answer_leaks(a, key, texts)
    return problems + hidden_test_leaks(a, released, texts), allowed
