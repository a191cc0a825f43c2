"""`dlcc course test`: run the public tests on a working copy and say honestly what that means.

Public tests are a sample. The table shows, per task, how many public tests pass, the points
those tests carry, and how many points depend on hidden tests that only the grader runs.
"""

from __future__ import annotations

from pathlib import Path

from dlcc.course import runner
from dlcc.course.authoring.format import Assignment
from dlcc.course.grading import scoring
from dlcc.errors import InputError


def task_split(a: Assignment) -> dict[str, dict[str, float]]:
    """task -> {"public": points, "hidden": points}."""
    if a.released:
        return {t["id"]: {"public": float(t.get("public_points", 0.0)),
                          "hidden": float(t.get("hidden_points", t.get("points", 0.0)))}
                for t in a.raw.get("tasks", [])}
    from dlcc.course.authoring.release import collect_all

    return scoring.split_by_kind(a, collect_all(a)["tests"])


def run(a: Assignment, workdir: Path, task: str | None = None, verbose: bool = False) -> tuple[dict, str]:
    if task is not None and task not in a.task_ids:
        raise InputError(f"--task {task}: {a.id} has no such task; its tasks are {', '.join(a.task_ids)}",
                         fix=f"pass one of: {' '.join(a.task_ids)}")
    tests_dir = a.public_tests_dir
    if not tests_dir.is_dir():
        raise InputError(f"{tests_dir} does not exist, so there are no public tests to run",
                         fix="run this in the folder made by `dlcc course release` (or pass --dir)")
    return runner.run_local(workdir, tests_dir, task=task, verbose=verbose,
                            timeout=a.limits.test_timeout_s)


def render(a: Assignment, workdir: Path, report: dict, task: str | None = None) -> tuple[str, bool]:
    """The table and failure details; returns (text, all selected public tests passed)."""
    split = task_split(a)
    tests = report.get("tests", [])
    tasks = [t for t in a.tasks if task in (None, t.id)]
    lines = [f"{a.id} — {a.title}", f"public tests run on {workdir}", ""]
    head = f"{'task':<8} {'title':<40} {'public tests':<14} {'public points':<15} hidden tests"
    lines += [head, "-" * len(head)]
    n_pass = n_all = 0
    pending = 0.0
    for t in tasks:
        mine = [r for r in tests if r.get("task") == t.id]
        passed = [r for r in mine if r["outcome"] == "passed"]
        weight = sum(r["weight"] for r in mine) or 1.0
        pub, hid = split.get(t.id, {}).get("public", 0.0), split.get(t.id, {}).get("hidden", t.points)
        earned = pub * sum(r["weight"] for r in passed) / weight
        n_pass, n_all, pending = n_pass + len(passed), n_all + len(mine), pending + hid
        counts = f"{len(passed)}/{len(mine)} passed" if mine else "none"
        hidden = f"{_p(hid)} points pending" if hid else "-"
        lines.append(f"{t.id:<8} {t.title[:40]:<40} {counts:<14} {f'{_p(earned)}/{_p(pub)}':<15} {hidden}")
    lines.append("")
    summary = f"public tests: {n_pass}/{n_all} passed"
    summary += (f" — hidden tests not run here, {_p(pending)} points pending" if pending
                else " — these tasks have no hidden tests")
    written = sum(q.points for q in a.questions)
    if written and task is None:
        summary += f"; written questions ({_p(written)} points) are checked after you submit"
    lines.append(summary)
    for err in report.get("collection_errors", []):
        lines += ["", f"ERROR collecting {err['path']}:", _indent(err["message"][-1500:])]
    failed = [r for r in tests if r["outcome"] != "passed"]
    for r in failed:
        lines += ["", f"{r['outcome'].upper()} {r.get('task') or '?'} {r['name']} ({r['file']})",
                  _indent(r["message"] or r["outcome"])]
        if r.get("output"):
            lines += ["    --- your code printed ---", _indent(r["output"][-1500:])]
    ok = not failed and not report.get("collection_errors") and n_all > 0
    return "\n".join(lines), ok


def _p(points: float) -> str:
    return f"{round(points, 2):g}"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
