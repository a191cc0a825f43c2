"""`dlcc course report RESULTS... --out DIR`: what the class got wrong, from results.json files.

Writes `report.md` (summary), `tasks.csv` (pass rate and mean points per task), `tests.csv`
(pass rate, most common failure message and mean duration per test) and `scores.png` (a
histogram of total scores).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from dlcc.errors import InputError
from dlcc.utils.io import atomic_write_text


def _load(paths: list[Path]) -> list[tuple[str, dict]]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(p.glob("*.json"))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"results path {p} does not exist",
                             fix="pass results .json files or their folder")
    out = []
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{f} is not a readable results.json ({exc})",
                             fix="pass the files written by `dlcc course grade`") from None
        if not isinstance(data, dict) or not isinstance(data.get("tests"), list) or "score" not in data:
            raise InputError(f"{f} is not a results.json (no `score` and `tests`)",
                             fix="pass the files written by `dlcc course grade`")
        out.append((f.stem, data))
    if not out:
        raise InputError("no results files found", fix="pass results .json files or their folder")
    return out


def _first_line(message: str) -> str:
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else "(no message)"
    return re.sub(r"\d+(\.\d+)?", "#", line)[:160]  # numbers vary between students


def class_report(paths: list[Path], out: Path, force: bool = False) -> list[Path]:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; the report is a folder of four files",
                         fix="pass --out with a new or existing directory")
    results = _load(paths)
    targets = [out / n for n in ("report.md", "tasks.csv", "tests.csv", "scores.png")]
    if not force and any(t.exists() for t in targets):
        raise InputError(f"{out} already holds a report; dlcc will not overwrite it",
                         fix="pass --force or another --out")
    out.mkdir(parents=True, exist_ok=True)
    tasks: dict[str, dict] = defaultdict(lambda: {"earned": 0.0, "max": 0.0, "passed": 0, "n": 0})
    tests: dict[str, dict] = defaultdict(lambda: {"passed": 0, "n": 0, "time": 0.0, "fails": Counter()})
    scores = []
    for _, res in results:
        scores.append(float(res["score"]))
        per_task: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for t in res["tests"]:
            key = t.get("number") or "?"
            per_task[key][0] += float(t.get("score", 0))
            per_task[key][1] += float(t.get("max_score", 0))
            rec = tests[t["name"]]
            rec["n"] += 1
            rec["time"] += float((t.get("extra_data") or {}).get("duration_s", 0.0))
            if t.get("status") == "passed":
                rec["passed"] += 1
            else:
                msg = (t.get("extra_data") or {}).get("message") or t.get("output", "")
                rec["fails"][_first_line(msg)] += 1
        for key, (earned, mx) in per_task.items():
            tasks[key]["earned"] += earned
            tasks[key]["max"] += mx
            tasks[key]["n"] += 1
            tasks[key]["passed"] += earned >= mx - 1e-9
    n = len(results)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["task", "full_marks_rate", "mean_points", "max_points"])
    for key in sorted(tasks):
        t = tasks[key]
        w.writerow([key, round(t["passed"] / t["n"], 3), round(t["earned"] / t["n"], 3),
                    round(t["max"] / t["n"], 3)])
    atomic_write_text(out / "tasks.csv", buf.getvalue())
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["test", "pass_rate", "most_common_failure", "failures_with_it", "mean_duration_s"])
    for name in sorted(tests):
        t = tests[name]
        common = t["fails"].most_common(1)
        w.writerow([name, round(t["passed"] / t["n"], 3), common[0][0] if common else "",
                    common[0][1] if common else 0, round(t["time"] / t["n"], 3)])
    atomic_write_text(out / "tests.csv", buf.getvalue())
    _histogram(scores, out / "scores.png")
    lines = [f"# Class report: {n} submissions", "",
             f"mean score {sum(scores) / n:.2f}, median {sorted(scores)[n // 2]:.2f}, "
             f"min {min(scores):g}, max {max(scores):g}", "", "## Tasks (share with full marks)", "",
             "| task | full marks | mean points |", "|---|---|---|"]
    for key in sorted(tasks):
        t = tasks[key]
        lines.append(f"| {key} | {t['passed'] / t['n']:.0%} | "
                     f"{t['earned'] / t['n']:.2f} / {t['max'] / t['n']:g} |")
    lines += ["", "## Most failed tests", "", "| test | pass rate | most common failure |", "|---|---|---|"]
    worst = sorted(tests.items(), key=lambda kv: kv[1]["passed"] / kv[1]["n"])[:10]
    for name, t in worst:
        common = t["fails"].most_common(1)
        lines.append(f"| {name} | {t['passed'] / t['n']:.0%} | {common[0][0] if common else ''} |")
    lines += ["", "## Slowest tests", "", "| test | mean seconds |", "|---|---|"]
    for name, t in sorted(tests.items(), key=lambda kv: -kv[1]["time"] / kv[1]["n"])[:5]:
        lines.append(f"| {name} | {t['time'] / t['n']:.2f} |")
    lines += ["", "![score histogram](scores.png)", ""]
    atomic_write_text(out / "report.md", "\n".join(lines))
    return targets


def _histogram(scores: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=min(20, max(5, len(set(scores)))), color="#4477aa", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("submissions")
    ax.set_title(f"{len(scores)} submissions")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
