"""Points: split each task's points over its tests, and build Gradescope's results.json.

A task's points are shared by all its tests (public and hidden), in proportion to each test's
`weight` (default 1). A test earns its share only if it passed. Written questions add one entry
each; hand-graded ones are listed in `extra_data.manual_questions`, not scored.
"""

from __future__ import annotations

from dlcc.course.authoring.format import Assignment


def max_scores(a: Assignment, tests: list[dict]) -> dict[str, float]:
    """nodeid -> the points that test is worth."""
    weights: dict[str, float] = {}
    for t in tests:
        if t.get("task"):
            weights[t["task"]] = weights.get(t["task"], 0.0) + float(t.get("weight", 1.0))
    points = {task.id: task.points for task in a.tasks}
    out = {}
    for t in tests:
        task = t.get("task")
        if task in points and weights.get(task):
            out[t["nodeid"]] = points[task] * float(t.get("weight", 1.0)) / weights[task]
        else:
            out[t["nodeid"]] = 0.0
    return out


def split_by_kind(a: Assignment, tests: list[dict]) -> dict[str, dict[str, float]]:
    """task -> {"public": points, "hidden": points} (for the student's honest summary)."""
    shares = max_scores(a, tests)
    out = {t.id: {"public": 0.0, "hidden": 0.0} for t in a.tasks}
    for t in tests:
        if t.get("task") in out:
            out[t["task"]][t["kind"]] += shares[t["nodeid"]]
    return {k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in out.items()}


def result_name(t: dict) -> str:
    return f"{t.get('task') or 'untagged'} {t['file']}::{t['name']}"


def _output(t: dict) -> str:
    if t["outcome"] == "passed":
        text = "passed"
    elif t["outcome"] == "skipped":
        text = f"not run: {t['message']} (a grader problem; tell your instructor)"
    else:
        text = t["message"] or t["outcome"]
    if t.get("output"):
        text += "\n--- output of your code during this test ---\n" + t["output"]
    return text


def build_results(a: Assignment, report: dict, written: list[dict], *, submission: str,
                  notes: list[str], isolation: dict, elapsed: float,
                  grader_error: str | None = None) -> dict:
    tests = report.get("tests", []) if not grader_error else []
    shares = max_scores(a, tests)
    entries = []
    for t in sorted(tests, key=lambda t: (a.task_ids.index(t["task"]) if t.get("task") in a.task_ids
                                          else len(a.task_ids), t["kind"] != "public", t["nodeid"])):
        passed = t["outcome"] == "passed"
        entries.append({"name": result_name(t), "number": t.get("task") or "", "tags": [t["kind"]],
                        "score": round(shares[t["nodeid"]] if passed else 0.0, 4),
                        "max_score": round(shares[t["nodeid"]], 4),
                        "status": "passed" if passed else "failed", "output": _output(t),
                        "visibility": a.visibility.get(t["kind"], "visible"),
                        "extra_data": {"duration_s": round(float(t.get("duration", 0.0)), 3),
                                       "message": (t.get("message") or "")[:300]}})
    for w in written:
        entries.append({"name": f"{w['id']} {w['title']}", "number": w["id"], "tags": ["written"],
                        "score": w["score"], "max_score": w["max_score"],
                        "status": "passed" if w["score"] >= w["max_score"] else "failed",
                        "output": w["output"], "visibility": a.visibility.get("hidden", "visible")})
    manual = [{"id": q.id, "title": q.title, "points": q.points}
              for q in a.questions if q.kind == "manual"]
    score = round(sum(e["score"] for e in entries), 2)
    auto_max = round(a.code_points + sum(q.points for q in a.questions if q.kind != "manual"), 2)
    manual_pts = sum(m["points"] for m in manual)
    if grader_error:
        summary = (f"GRADER ERROR (not the student's fault; the instructor must fix it and grade "
                   f"again): {grader_error}")
    else:
        summary = f"{a.id}: {score:g} of {auto_max:g} autograded points"
        if manual:
            summary += (f"; {manual_pts:g} more points ({', '.join(m['id'] for m in manual)}) are "
                        "graded by hand and not included")
        summary += "."
    if notes:
        summary += "\n" + "\n".join(f"note: {n}" for n in notes)
    return {"score": score, "execution_time": round(elapsed, 2), "output": summary,
            "visibility": "visible", "stdout_visibility": "hidden", "tests": entries,
            "extra_data": {"assignment": a.id, "submission": submission, "isolation": isolation,
                           "autograded_max_score": auto_max, "manual_questions": manual,
                           "notes": notes, "grader_error": grader_error,
                           "sandbox_processes": report.get("sandbox_processes", 0),
                           "cpu_s": {"harness": report.get("harness_cpu_s"),
                                     "sandbox_reported": report.get("sandbox_cpu_s")}}}
