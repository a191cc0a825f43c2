"""Grading overhead: the same tests on the same (solution) code, graded in the sandbox by
`dlcc course grade` versus run by bare pytest in one process.

For each assignment the public tests are used (hidden tests need the grader's `solution`
fixture, which bare pytest does not have): a copy of the assignment without hidden tests is
graded, and the same test files run under pytest with the student code imported in-process.
Reports wall time and CPU time (children) of both, and their ratio. Issue 5's target: <= 1.3x.

    DLCC_DATA=../shared/data python benchmarks/bench_grade_overhead.py [A1 A2 ...]
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, machine_markdown  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
    return wall, cpu, proc.returncode


def bench(assignment: str, work: Path) -> dict:
    src = REPO / "assignments" / assignment
    meta = yaml.safe_load((src / "assignment.yaml").read_text())
    copy = work / "assignments" / assignment
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(copy / "hidden" / "tests", ignore_errors=True)
    (copy / "hidden" / "tests").mkdir(parents=True)
    submission = work / f"sub-{assignment}"
    submission.mkdir()
    for name in [*meta["student_files"], *meta.get("given_files", [])]:
        shutil.copy(src / "src" / name, submission / name)
    for extra in (src / "src").iterdir():  # data files the given code may read
        if extra.is_file() and not (submission / extra.name).exists():
            shutil.copy(extra, submission / extra.name)

    bare_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "dlcc.course.plugin", "-p", "no:cacheprovider",
                "--dlcc-mode", "local", "--dlcc-workdir", str(submission), str(copy / "tests")]
    grade_cmd = [sys.executable, "-m", "dlcc", "course", "grade", assignment, str(submission),
                 "--assignments", str(work / "assignments"), "--out", str(work / f"{assignment}.json"), "--force"]
    # Alternate the two, twice, and keep each one's fastest run: the first run of anything pays
    # for cold file caches, and a busy machine's load drifts.
    bare_runs, graded_runs = [], []
    for _ in range(2):
        bare_runs.append(_timed(bare_cmd, submission))
        graded_runs.append(_timed(grade_cmd, work))
    bare, graded = min(bare_runs), min(graded_runs)
    result = json.loads((work / f"{assignment}.json").read_text())
    code_tests = [t for t in result["tests"] if "written" not in t.get("tags", [])]
    passed = sum(t["status"] == "passed" for t in code_tests)
    return {"assignment": assignment, "tests": len(code_tests), "passed": passed,
            "bare_wall_s": bare[0], "bare_cpu_s": bare[1], "grade_wall_s": graded[0], "grade_cpu_s": graded[1],
            "ratio_wall": graded[0] / bare[0], "ratio_cpu": graded[1] / bare[1],
            "isolation": result.get("extra_data", {}).get("isolation")}


def main() -> None:
    names = sys.argv[1:] or ["A1", "A2"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            rows.append(bench(name, Path(tmp)))
            print(rows[-1], flush=True)
    table = ["| assignment | public tests passed | bare pytest wall / CPU (s) | dlcc grade wall / CPU (s) | ratio wall | ratio CPU |",
             "|---|---:|---:|---:|---:|---:|"]
    table += [f"| {r['assignment']} | {r['passed']}/{r['tests']} | {r['bare_wall_s']:.1f} / {r['bare_cpu_s']:.1f} | "
              f"{r['grade_wall_s']:.1f} / {r['grade_cpu_s']:.1f} | {r['ratio_wall']:.2f}x | {r['ratio_cpu']:.2f}x |"
              for r in rows]
    text = "\n".join(["# Grading overhead: sandboxed `dlcc course grade` vs bare pytest (same public tests, solution code)",
                      "", *table, "", "Target (issue 5): <= 1.3x. Isolation: " + ", ".join(str(r["isolation"]) for r in rows),
                      f"Load average at the end: {open('/proc/loadavg').read().split()[:3]}", "",
                      "## Machine", machine_markdown(), ""])
    print(text)
    out = REPO / "benchmarks" / "results" / "grade_overhead"
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"rows": rows, "machine": machine_info()}, indent=2))


if __name__ == "__main__":
    main()
