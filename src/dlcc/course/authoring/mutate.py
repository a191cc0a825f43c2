"""`dlcc course mutate ID [--n N]`: how many single-line bugs in the solution do the tests miss?

Each mutant (see `mutants`) is graded like a submission, in the sandbox, by the public and
hidden tests: first only its own task's tests, stopping at the first failure; a mutant those
miss is graded again by every test. A mutant that fails any test is killed. A survivor counts
as equivalent only when its outputs equal the solution's on 100 random float64 inputs (see
`equivalence`); every other survivor is a gap in the tests, listed with file, line and
mutation. The score: killed / (mutants - equivalent survivors).
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from dlcc.course.authoring import equivalence
from dlcc.course.authoring.format import Assignment
from dlcc.course.authoring.mutants import Mutant, all_mutants
from dlcc.course.grading.grade import prepare
from dlcc.course.grading.submission import Submission
from dlcc.errors import ConfigError


@dataclass
class Outcome:
    mutant: Mutant
    status: str                  # killed | survived | equivalent | error
    by: str = ""                 # the first failing test, or why it survived / is equivalent


@dataclass
class MutationReport:
    assignment: str
    total: int                   # mutants generated
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    isolation: str = ""
    seed: int = 0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def kill_rate(self) -> float:
        counted = len(self.outcomes) - self.count("equivalent") - self.count("error")
        return self.count("killed") / counted if counted else 1.0

    def markdown(self) -> str:
        graded = len(self.outcomes)
        sample = "all" if graded == self.total else f"a random sample (seed {self.seed}) of"
        lines = [f"# Mutation testing of {self.assignment}", "",
                 f"{sample} {graded} of {self.total} single-line mutants of the solution regions, graded "
                 f"in the sandbox ({self.isolation}) in {self.seconds / 60:.1f} min.", "",
                 f"- killed: {self.count('killed')}",
                 f"- survived, not equivalent: {self.count('survived')}",
                 f"- survived, equivalent (same outputs on {equivalence.N_INPUTS} random float64 inputs): "
                 f"{self.count('equivalent')}",
                 f"- grader errors: {self.count('error')}",
                 f"- **killed {self.kill_rate:.1%} of the non-equivalent mutants**", ""]
        for status, title in (("survived", "Survivors (gaps in the tests)"),
                              ("equivalent", "Equivalent survivors"), ("error", "Grader errors")):
            rows = [o for o in self.outcomes if o.status == status]
            if rows:
                lines += [f"## {title}", "", "| file:line | task | mutation | mutated line | why |",
                          "|---|---|---|---|---|"]
                lines += [f"| {o.mutant.file}:{o.mutant.line} | {o.mutant.task} | `{o.mutant.operator}` | "
                          f"`{o.mutant.after[:90]}` | {o.by[:120]} |" for o in rows]
                lines.append("")
        by_task: dict[str, list[int]] = {}
        for o in self.outcomes:
            by_task.setdefault(o.mutant.task, [0, 0])[o.status == "killed"] += 1
        lines += ["## Per task (killed / graded)", "", "| task | killed | graded |", "|---|---|---|"]
        lines += [f"| {t} | {k} | {s + k} |" for t, (s, k) in sorted(by_task.items())]
        return "\n".join(lines)


def _first_failure(res: dict) -> str | None:
    if res["extra_data"].get("grader_error"):
        return None
    failed = [t for t in res["tests"] if t["status"] != "passed" and "written" not in t["tags"]]
    return failed[0]["name"] if failed else ""


def grade_mutant(grader, a: Assignment, m: Mutant) -> Outcome:
    files = {name: (a.code_dir / name).read_bytes() for name in a.student_files}
    files[m.file] = m.source.encode("utf-8")
    sub = Submission(f"mutant-{m.file}-{m.line}", a.code_dir, files)
    for task in (m.task, None):  # its own task's tests first, then all of them
        res = grader.grade(sub, task=task, exitfirst=True)
        failed = _first_failure(res)
        if failed is None:
            return Outcome(m, "error", res["extra_data"]["grader_error"][:200])
        if failed:
            return Outcome(m, "killed", failed)
    verdict = equivalence.check(a, m)
    return Outcome(m, "equivalent" if verdict.equivalent else "survived", verdict.reason)


def _solution_passes(grader, a: Assignment, progress) -> None:
    """A test that fails on the solution would "kill" every mutant: refuse to measure then."""
    progress(f"{a.id}: grading the solution first ...")
    files = {name: (a.code_dir / name).read_bytes() for name in a.student_files}
    res = grader.grade(Submission("solution", a.code_dir, files))
    failed = _first_failure(res)
    if failed is None or failed:
        raise ConfigError(f"{a.id}: the solution itself fails "
                          f"{failed or res['extra_data']['grader_error'][:300]}, so no mutant can be "
                          "judged", fix=f"run `dlcc course check {a.id}` and fix the tests first")


def mutate(a: Assignment, n: int | None = None, seed: int = 0, jobs: int = 2,
           isolation_mode: str = "auto", progress=print) -> MutationReport:
    t0 = time.monotonic()
    every = all_mutants(a)
    chosen = every if n is None or n >= len(every) else \
        sorted(random.Random(seed).sample(every, n), key=lambda m: (m.file, m.line, m.operator))
    grader = prepare(a, isolation_mode, key=False, progress=progress)
    _solution_passes(grader, a, progress)
    progress(f"{a.id}: grading {len(chosen)} of {len(every)} mutants with {jobs} job(s) ...")
    report = MutationReport(a.id, len(every), isolation=grader.mode, seed=seed)
    done = [0]

    def one(m: Mutant) -> Outcome:
        outcome = grade_mutant(grader, a, m)
        done[0] += 1
        if outcome.status != "killed" or done[0] % 20 == 0:
            progress(f"  [{done[0]}/{len(chosen)}] {m.file}:{m.line} {m.operator}: {outcome.status}"
                     + (f" ({outcome.by[:100]})" if outcome.status != "killed" else ""))
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        report.outcomes = list(pool.map(one, chosen))
    report.seconds = time.monotonic() - t0
    return report
