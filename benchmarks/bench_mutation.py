"""Mutation testing of the course assignments: `dlcc course mutate` on each, with machine info.

Writes results/mutation_<ID>.md: the report (kill rate, every survivor with file, line and
mutation, every equivalent survivor with why) followed by the machine it ran on. Heavy: every
mutant is graded in the sandbox (A1 about 5 minutes on 2 cores, A3 about 45).

    DLCC_DATA=../shared/data python benchmarks/bench_mutation.py [A1 A2 ...] [--n N] [--jobs 2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import LOAD_NOTE, loadavg, machine_busy_s, machine_markdown  # noqa: E402

from dlcc.course.authoring.discovery import get_assignment  # noqa: E402
from dlcc.course.authoring.mutate import mutate  # noqa: E402


def _cpu_s() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ids", nargs="*", default=["A1", "A2", "A3", "A4"])
    ap.add_argument("--n", type=int, default=None, help="a random sample of N mutants per assignment")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    for aid in args.ids:
        a = get_assignment(aid, HERE.parent / "assignments")
        cpu0, busy0, t0, load0 = _cpu_s(), machine_busy_s(), time.monotonic(), loadavg()
        report = mutate(a, n=args.n, jobs=args.jobs, progress=lambda m: print(m, flush=True))
        cpu, wall = _cpu_s() - cpu0, time.monotonic() - t0
        busy = None if busy0 is None else machine_busy_s() - busy0
        busy_line = ([] if busy is None else
                     [f"- the whole machine was busy {busy / 60:.1f} CPU-min = {busy / wall:.2f} cores on average, "
                      f"{busy / max(1, len(report.outcomes)):.1f} s per mutant (/proc/stat; this counts the "
                      "sandboxed test processes, which the line above misses when the sandbox's init reaps them)"])
        text = "\n".join([report.markdown(), "", "## Machine", "", machine_markdown(),
                          f"- wall {wall / 60:.1f} min; CPU (user+system, this process and every "
                          f"grading process it waited for) {cpu / 60:.1f} min = {cpu / wall:.2f} cores busy "
                          f"on average, {cpu / max(1, len(report.outcomes)):.1f} s per mutant",
                          *busy_line,
                          f"- load average before: {load0}, after: {loadavg()}. {LOAD_NOTE}", ""])
        (HERE / "results" / f"mutation_{aid}.md").write_text(text)
        print(text)


if __name__ == "__main__":
    main()
