"""`dlcc course handgrade ID RESULTS --template FILE.csv | --merge FILE.csv`: hand-graded points.

The grader leaves manual questions pending and copies each student's written_answers.md
beside their results (`<name>.written.md`). The instructor writes a CSV template, fills it in
while reading those files, and merges it back:

    submission,A1.Q6 (max 5),A1.Q7 (max 5),comment
    alice,4.5,5,"Q6: the KL step is missing"
    bob,,3,                                    <- a blank cell stays pending

Merging checks the whole file first (unknown students or questions, scores that are not
numbers, negative or above the maximum: one clear error, nothing written), then adds one
entry per graded question to each results file (tagged `manual`), updates its score and
summary, and rewrites class.csv. Merging again replaces the earlier hand-graded points of the
questions the sheet has columns for (a blank cell makes one pending again).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from dlcc.course.authoring.format import Assignment
from dlcc.course.grading.class_table import class_csv
from dlcc.errors import InputError
from dlcc.utils.io import atomic_write_text, write_json

HEADER_RE = re.compile(r"^\s*(?P<id>[A-Za-z][\w.-]*)\s*(?:\(max [\d.]+\))?\s*$")


def _manual(a: Assignment) -> list:
    manual = [q for q in a.questions if q.kind == "manual"]
    if not manual:
        raise InputError(f"{a.id} has no hand-graded questions", fix="nothing to grade by hand")
    return manual


def _results(a: Assignment, folder: Path) -> dict[str, dict]:
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder of results", fix="pass the --out folder of `dlcc course grade`")
    out = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(f"{path} is not valid JSON ({exc})", fix="restore it from `dlcc course grade`") from None
        if isinstance(data, dict) and data.get("extra_data", {}).get("assignment") == a.id:
            out[path.stem] = data
    if not out:
        raise InputError(f"{folder} holds no results of {a.id}", fix="pass the --out folder of `dlcc course grade`")
    return out


def template(a: Assignment, folder: Path, csv_path: Path, force: bool = False) -> Path:
    manual = _manual(a)
    results = _results(a, folder)
    if csv_path.exists() and not force:
        raise InputError(f"{csv_path} already exists; dlcc will not overwrite it",
                         fix="pass --force, or --merge it if it is filled in")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["submission", *[f"{q.id} (max {q.points:g})" for q in manual], "comment"])
    for name, res in results.items():
        done = {m["id"]: m.get("score") for m in res["extra_data"].get("manual_questions", [])}
        w.writerow([name, *["" if done.get(q.id) is None else f"{done[q.id]:g}" for q in manual], ""])
    atomic_write_text(csv_path, buf.getvalue())
    return csv_path


def read_scores(a: Assignment, csv_path: Path, students: set[str]) -> dict[str, dict]:
    """name -> {"scores": {qid: float}, "comment": str}; every cell checked first."""
    manual = {q.id: q for q in _manual(a)}
    if not csv_path.is_file():
        raise InputError(f"{csv_path} does not exist", fix="write it with --template first")
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    if not rows or not rows[0] or rows[0][0].strip() != "submission":
        raise InputError(f"{csv_path}: the first column must be `submission`",
                         fix="start from the file --template writes")
    columns = []
    for col, head in enumerate(rows[0][1:], start=2):
        m = HEADER_RE.match(head)
        if head.strip() == "comment":
            columns.append("comment")
        elif m and m["id"] in manual:
            columns.append(m["id"])
        else:
            raise InputError(f"{csv_path}: column {col} ({head!r}) is not a hand-graded question of "
                             f"{a.id} ({', '.join(manual)}) or `comment`", fix="correct the header")
    out = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        name = row[0].strip()
        if name not in students:
            raise InputError(f"{csv_path}:{line}: no results for submission {name!r} in the results folder",
                             fix="use the names of the results files (the --template lists them)")
        if name in out:
            raise InputError(f"{csv_path}:{line}: submission {name!r} appears twice", fix="keep one row")
        entry = {"scores": {}, "comment": "", "graded": [c for c in columns if c != "comment"]}
        for column, cell in zip(columns, row[1:]):
            if column == "comment":
                entry["comment"] = cell.strip()
            elif cell.strip():
                entry["scores"][column] = _score(cell, manual[column], csv_path, line)
        out[name] = entry
    return out


def _score(cell: str, q, csv_path: Path, line: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise InputError(f"{csv_path}:{line}: {q.id} score {cell!r} is not a number",
                         fix=f"write a number from 0 to {q.points:g}, or leave it blank") from None
    if not 0 <= value <= q.points:
        raise InputError(f"{csv_path}:{line}: {q.id} score {value:g} is outside 0..{q.points:g}",
                         fix=f"write a number from 0 to {q.points:g}")
    return value


def apply_scores(res: dict, q_titles: dict[str, tuple[str, float]], entry: dict) -> dict:
    """The results dict with the hand-graded entries of `entry`. Each question with a column
    in the sheet is replaced (a blank cell makes it pending again); one without keeps its
    earlier score, so a sheet may grade a single question."""
    columns = set(entry.get("graded", entry["scores"]))
    tests = [t for t in res["tests"] if "manual" not in t.get("tags", []) or t.get("number") not in columns]
    for qid, score in entry["scores"].items():
        title, points = q_titles[qid]
        tests.append({"name": f"{qid} {title}", "number": qid, "tags": ["written", "manual"],
                      "score": score, "max_score": points,
                      "status": "passed" if score >= points else "failed",
                      "output": entry["comment"] or "graded by hand", "visibility": "visible"})
    res["tests"] = tests
    extra = res["extra_data"]
    for m in extra.get("manual_questions", []):
        if m["id"] in columns:
            m["score"] = entry["scores"].get(m["id"])
    res["score"] = round(sum(t["score"] for t in tests), 2)
    pending = [m["id"] for m in extra.get("manual_questions", []) if m.get("score") is None]
    summary = res["output"].split("\n")
    first = re.sub(r"; [\d.]+ more points \(.*?\) are graded by hand and not included", "", summary[0])
    first = re.sub(r"; hand-graded questions (pending: .*|included)\.?$", "", first).rstrip(".")
    summary[0] = first + (f"; hand-graded questions pending: {', '.join(pending)}." if pending
                          else "; hand-graded questions included.")
    res["output"] = "\n".join(summary)
    return res


def merge(a: Assignment, folder: Path, csv_path: Path) -> list[str]:
    results = _results(a, folder)
    scores = read_scores(a, csv_path, set(results))
    titles = {q.id: (q.title, q.points) for q in a.questions if q.kind == "manual"}
    for name, entry in scores.items():
        write_json(folder / f"{name}.json", apply_scores(results[name], titles, entry))
    atomic_write_text(folder / "class.csv", class_csv(a, sorted(results.items())))
    return sorted(scores)
