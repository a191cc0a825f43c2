"""The class table (`class.csv`) and each results file's status, from results.json dicts."""

from __future__ import annotations

import csv
import io

from dlcc.course.authoring.format import Assignment


def status(results: dict) -> str:
    extra = results.get("extra_data", {})
    if extra.get("invalid_submission"):
        return "invalid-submission"
    if extra.get("grader_error"):
        return "grader-error"
    return "ok"


def class_csv(a: Assignment, rows: list[tuple[str, dict]]) -> str:
    """One row per submission: total, status, points per task and per question, isolation."""
    question_ids = [q.id for q in a.questions]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["submission", "score", "autograded_max", "status", *a.task_ids, *question_ids,
                "isolation", "notes"])
    for name, res in rows:
        per: dict[str, float] = {}
        for t in res.get("tests", []):
            per[t["number"]] = per.get(t["number"], 0.0) + t["score"]
        extra = res.get("extra_data", {})
        notes = "; ".join(extra.get("notes", []) + [extra.get("grader_error") or "",
                                                     extra.get("invalid_submission") or ""]).strip("; ")
        pending = {m["id"] for m in extra.get("manual_questions", []) if m.get("score") is None}
        w.writerow([name, res["score"], extra.get("autograded_max_score", ""), status(res),
                    *[round(per.get(t, 0.0), 2) for t in a.task_ids],
                    *["pending" if q in pending else per.get(q, 0.0) for q in question_ids],
                    extra.get("isolation", {}).get("mode", ""), notes.replace("\n", " ")[:500]])
    return buf.getvalue()
