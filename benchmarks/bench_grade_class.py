"""Grading throughput: a class of A1 submissions graded by `dlcc course grade --jobs 2`.

The class (100 by default) is 70 correct solutions and 30 broken ones (the four bugs of
tests/course/test_a1.py: a summed loss, a forgotten L2 gradient, a transposed W3, batches off
by one). Reports the wall time of the whole run, the CPU seconds per submission (the trusted
harness, measured exactly with wait4, plus what each sandbox process reported when it ended)
and the slowest tests; writes results/grade_class_A1.{md,json}. The bar (issue 13): 100 A1
submissions in at most 15 minutes on 2 cores.

    DLCC_DATA=../shared/data python benchmarks/bench_grade_class.py [--n 100] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import LOAD_NOTE, loadavg, machine_markdown  # noqa: E402

REPO = HERE.parent
A1 = REPO / "assignments" / "A1" / "src"
BROKEN = {  # (file, exact old text, new text)
    "summed_loss": ("a1_mlp_3_layers.py", "    loss = -np.sum(labels * np.log(y_hat + 1e-8)) / data.shape[0]\n    params.update",
                    "    loss = -np.sum(labels * np.log(y_hat + 1e-8))\n    params.update"),
    "no_l2_gradient": ("a1_mlp_3_layers.py", "            grad[key] = grad[key] + 2 * reg * params[key]\n",
                       "            pass\n"),
    "transposed_w3": ("a1_mlp_3_layers.py", 'params["W3"] = np.random.randn(num_hidden2, num_output)',
                      'params["W3"] = np.random.randn(num_output, num_hidden2)'),
    "batches_off_by_one": ("a1_mlp_N_layers.py", "            start = it * args.batch_size\n",
                           "            start = (it + 1) * args.batch_size\n"),
}
ANSWERS = "A1.Q1: 5000\nA1.Q2: 5000\nA1.Q3: b\nA1.Q4: 0.5\nA1.Q5: [1, 1]\n"  # wrong on purpose


def make_class(klass: Path, n: int) -> dict[str, str]:
    """n submission folders; returns name -> kind."""
    kinds = {}
    broken = list(BROKEN)
    n_broken = round(n * 0.3)
    for i in range(n):
        kind = broken[i % len(broken)] if i < n_broken else "solution"
        name = f"s{i:03d}-{kind}"
        folder = klass / name
        folder.mkdir(parents=True)
        for f in ("a1_mlp_3_layers.py", "a1_mlp_N_layers.py"):
            shutil.copyfile(A1 / f, folder / f)
        (folder / "answers.yaml").write_text(ANSWERS)
        if kind != "solution":
            fname, old, new = BROKEN[kind]
            text = (folder / fname).read_text()
            assert text.count(old) == 1, f"{kind}: the solution no longer contains the text to break"
            (folder / fname).write_text(text.replace(old, new))
        kinds[name] = kind
    return kinds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlcc-bench-class-") as tmp:
        klass, out = Path(tmp) / "class", Path(tmp) / "results"
        kinds = make_class(klass, args.n)
        load_before = loadavg()
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "dlcc.cli", "course", "grade", "A1", str(klass),
                               "--out", str(out), "--jobs", str(args.jobs)],
                              cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        # every process of the run (grader, harnesses, sandboxes) was waited for, so this is
        # the whole run's CPU; on an idle machine the wall time is at least cpu / jobs
        cpu_total = (kids.ru_utime - kids0.ru_utime) + (kids.ru_stime - kids0.ru_stime)
        load_after = loadavg()
        if proc.returncode not in (0, 1):
            sys.exit(f"grading failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        results = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    cpu = {k: (r["extra_data"]["cpu_s"]["harness"] or 0) + (r["extra_data"]["cpu_s"]["sandbox_reported"] or 0)
           for k, r in results.items()}
    # rusage of the children misses processes bwrap's own init reaps in the sandbox's PID
    # namespace, so the idle estimate takes the larger of it and the per-submission sum
    cpu_work = max(cpu_total, sum(cpu.values()))
    elapsed = {k: r["execution_time"] for k, r in results.items()}
    by_kind: dict[str, list[float]] = {}
    for name, kind in kinds.items():
        by_kind.setdefault(kind, []).append(results[name]["score"])
    errors = [k for k, r in results.items() if r["extra_data"].get("grader_error")]
    durations: dict[str, list[float]] = {}
    for r in results.values():
        for t in r["tests"]:
            durations.setdefault(t["name"], []).append(t.get("extra_data", {}).get("duration_s", 0.0))
    slowest = sorted(((statistics.mean(v), k) for k, v in durations.items()), reverse=True)[:3]
    isolation = next(iter(results.values()))["extra_data"]["isolation"]["mode"]
    summary = {"submissions": len(results), "jobs": args.jobs, "isolation": isolation,
               "wall_s": round(wall, 1), "wall_per_submission_s": round(wall / len(results), 2),
               "cpu_total_s": round(cpu_total, 1), "cores_busy": round(cpu_total / wall, 2),
               "cpu_per_submission_sum_s": round(sum(cpu.values()), 1),
               "idle_wall_estimate_s": round(cpu_work / args.jobs, 1),
               "cpu_per_submission_s": {"mean": round(statistics.mean(cpu.values()), 2),
                                        "median": round(statistics.median(cpu.values()), 2),
                                        "max": round(max(cpu.values()), 2)},
               "elapsed_per_submission_s": {"mean": round(statistics.mean(elapsed.values()), 2),
                                            "max": round(max(elapsed.values()), 2)},
               "scores_by_kind": {k: sorted(set(v)) for k, v in by_kind.items()},
               "grader_errors": errors, "load_before": load_before, "load_after": load_after,
               "bar_15_min_met": wall <= 900,
               "bar_15_min_met_idle_estimate": cpu_work / args.jobs <= 900}
    lines = [f"# Grading a class of {len(results)} A1 submissions (`--jobs {args.jobs}`, {isolation})", "",
             f"- wall time: **{wall:.0f} s** ({wall / 60:.1f} min; bar: 15 min) — "
             f"{wall / len(results):.1f} s per submission",
             f"- CPU of the whole run (user+system of every process it started): {cpu_total:.0f} s = "
             f"{cpu_total / wall:.2f} cores busy on average (sandboxes reaped inside bwrap may be "
             f"missing); summed per submission: {sum(cpu.values()):.0f} s; on {args.jobs} idle cores "
             f"the work needs about {cpu_work / args.jobs / 60:.1f} min",
             f"- CPU per submission: mean {summary['cpu_per_submission_s']['mean']} s, median "
             f"{summary['cpu_per_submission_s']['median']} s, max {summary['cpu_per_submission_s']['max']} s "
             "(harness measured with wait4 + sandbox as reported)",
             f"- elapsed per submission (results' execution_time): mean "
             f"{summary['elapsed_per_submission_s']['mean']} s",
             "- scores by kind: " + ", ".join(f"{k} {v}" for k, v in summary["scores_by_kind"].items()),
             f"- grader errors: {len(errors)}",
             "- slowest tests (mean s): " + "; ".join(f"{k} {m:.2f}" for m, k in slowest),
             f"- load average before {load_before}, after {load_after}. {LOAD_NOTE}", "",
             "The MNIST regression test (3 epochs of the course settings) is most of the cost; MNIST is "
             "decoded once per run and shared read-only with every sandbox (`data: [mnist]`).", "",
             "## Machine", "", machine_markdown(), ""]
    text = "\n".join(lines)
    print(text)
    (HERE / "results" / "grade_class_A1.md").write_text(text)
    (HERE / "results" / "grade_class_A1.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
