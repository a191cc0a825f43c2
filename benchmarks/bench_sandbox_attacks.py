"""Hostile submissions against the grader in every isolation mode: which ones each contains.

Grades the class of hostile T0 submissions of tests/course/attacks.py once per mode that
works here (bwrap, namespace, fallback) and prints, per attack and mode, `contained` or what
escaped, and whether the results file named the gap. Writes results/sandbox_attacks.{md,json}.

    python benchmarks/bench_sandbox_attacks.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "course"))
import attacks  # noqa: E402
from machine import loadavg, machine_markdown  # noqa: E402

from dlcc.course.authoring.format import Assignment  # noqa: E402
from dlcc.course.grading.grade import grade  # noqa: E402
from dlcc.course.sandbox import launch, namespace  # noqa: E402
from coursepaths import TINY_ROOT  # noqa: E402

WHAT = {
    "wrong_formula": "an honest mistake (control)", "infinite_loop": "infinite loop in a call",
    "loop_at_import": "infinite loop at import", "fork_bomb": "fork bomb",
    "memory_hog": "memory bomb", "crash_at_import": "exception at import",
    "syntax_error": "syntax error", "sys_exit": "sys.exit(0)", "os_exit": "os._exit(0)",
    "fake_json": "prints a forged perfect results.json", "patch_everything":
    "monkeypatches numpy, numpy.testing, builtins, pytest", "conftest_attack":
    "ships conftest.py and pytest.py", "network": "TCP to the Internet and to loopback",
    "forge_channel": "writes forged frames on the grader's channel", "kill_parent":
    "kills its parent and pid 1", "daemon": "double fork + setsid (detached process)",
    "huge_output": "prints past the output limit", "huge_reply": "returns a huge value",
    "read_outside": "reads keys, hidden tests, other checkouts anywhere; runs a stolen solution",
    "forge_everywhere": "plants results.json/class.csv in every writable folder",
    "overwrite_results": "replaces an earlier student's results (world-writable folder)",
    "proc_snoop": "reads the grader's command line in /proc", "unix_socket":
    "connects to a world-writable Unix socket and an abstract one", "tcp_udp":
    "TCP and UDP to listeners on loopback and the host address", "linger":
    "leaves a detached `sleep` running", "shadow":
    "plants sitecustomize.py/numpy.py/conftest.py, then crashes to restart",
}


def run(mode: str) -> dict[str, dict]:
    tmp = Path(tempfile.mkdtemp(prefix="dlcc-attack-", dir="/tmp"))
    scene = attacks.Scene(tmp, tmp / "results")
    names = [n for n in attacks.EXPECTED if not (mode == "fallback" and n in attacks.NOT_IN_FALLBACK)]
    try:
        attacks.make_class(scene, tmp / "class", names)
        t0 = time.perf_counter()
        rows = dict(grade(Assignment.load(TINY_ROOT / "T0"), tmp / "class", scene.out, jobs=2,
                          force=True, isolation_mode=mode, progress=lambda m: None))
        wall = time.perf_counter() - t0
        out = {}
        for name, res in rows.items():
            proof = attacks.evidence(name, res, scene, attacks.EXPECTED[name][0])
            gaps = res["extra_data"]["isolation"]["not_contained"]
            named = bool(proof) and any(attacks.GAPS.get(name, "?") in g for g in gaps)
            out[name] = {"escaped": proof, "named_in_results": named, "score": res["score"]}
        out["_meta"] = {"wall_s": round(wall, 1), "not_contained": gaps}
        return out
    finally:
        scene.close()
        attacks.kill_lingering(scene)
        attacks.remove_forged(scene)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    available = {"bwrap": launch.probe_bwrap(), "namespace": namespace.probe(),
                 "fallback": (True, "always")}
    results = {m: run(m) for m, (ok, _) in available.items() if ok}
    modes = list(results)
    lines = ["# Hostile submissions per isolation mode", "",
             "`contained`: no evidence of the attack outside the sandbox and the honest score; "
             "`ESCAPED`: evidence found (named in the results' `not_contained`: yes/no); "
             "`not run`: would damage the grading machine in that mode (named in the results).", "",
             "| attack | what it does | " + " | ".join(modes) + " |",
             "|---|---|" + "---|" * len(modes)]
    for name in attacks.EXPECTED:
        cells = []
        for m in modes:
            r = results[m].get(name)
            if r is None:
                cells.append("not run")
            elif r["escaped"]:
                cells.append(f"ESCAPED ({'named' if r['named_in_results'] else 'NOT named'}): "
                             f"{r['escaped'][:90]}")
            else:
                cells.append("contained")
        lines.append(f"| {name} | {WHAT.get(name, '')} | " + " | ".join(cells) + " |")
    lines += ["", "Escapes per mode: " + ", ".join(
        f"{m} {sum(1 for k, r in results[m].items() if k != '_meta' and r['escaped'])}" for m in modes), ""]
    for m in modes:
        meta = results[m]["_meta"]
        lines.append(f"- {m}: {meta['wall_s']} s for the class; the results name as not contained: "
                     + ("; ".join(meta["not_contained"]) or "nothing"))
    lines += ["", "Modes not available here: " + (", ".join(
        f"{m} ({why})" for m, (ok, why) in available.items() if not ok) or "none"),
        "", "## Machine", "", machine_markdown(), f"- load average: {loadavg()}", ""]
    text = "\n".join(lines)
    print(text)
    out = HERE / "results"
    (out / "sandbox_attacks.md").write_text(text)
    (out / "sandbox_attacks.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
