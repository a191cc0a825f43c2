"""A DVC pipeline of a recipe, timed step by step, and the fresh-clone reproduction bar.

    python benchmarks/bench_pipeline.py [--recipe mnist1d-mlp] [--set train.epochs=50 ...]
                                        [--save benchmarks/results/pipeline]

Steps (real `dlcc`, `git` and `dvc` subprocesses in a temporary folder):
  init            dlcc pipeline init RECIPE p --remote remote ; git commit
  first repro     dvc repro (prepare, train, evaluate, export)
  no-op repro     dvc repro again: no stage runs
  one-param repro train.lr changed in params.yaml: train, evaluate, export run, prepare does not
  push            dvc push to the local folder remote
  clone + pull    git clone ; dvc pull: the model and data, no training
  fresh repro     in the clone: dvc repro --force, every stage recomputed

Bar (issue 16): the fresh clone's metrics.json equals the original's, every key (timings live
in timings.json). CPU time is the children's user+system time (robust to the shared machine's
load); wall time is shown too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import report  # noqa: E402

BIN = str(Path(sys.executable).parent)


def env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
            "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@dlcc.invalid", "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@dlcc.invalid", "MPLBACKEND": "Agg"}


def timed(commands: list, cwd: Path) -> dict:
    """Run the commands one after the other (each an argv, or (argv, folder) to run it elsewhere
    than `cwd`); wall and children-CPU seconds, stages run."""
    before, start, out = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter(), ""
    for command in commands:
        argv, folder = command if isinstance(command, tuple) else (command, cwd)
        done = subprocess.run(argv, cwd=folder, env=env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        out += done.stdout + done.stderr
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": round(time.perf_counter() - start, 2),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
            "stages": re.findall(r"Running stage '([^']+)'", out)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="mnist1d-mlp")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="params of the pipeline")
    parser.add_argument("--save", type=Path, help="write SAVE.md and SAVE.json")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    project, clone = root / "p", root / "clone"
    sets = [a for s in args.set for a in ("--set", s)]
    steps = {}
    # init stages its files in the project's own repository; the commit is the user's step
    steps["init"] = timed([[sys.executable, "-m", "dlcc", "pipeline", "init", args.recipe, str(project), *sets,
                            "--remote", str(root / "remote")], (["git", "commit", "-qm", "pipeline"], project)], root)
    steps["first repro"] = timed([["dvc", "repro"]], project)
    steps["no-op repro"] = timed([["dvc", "repro"]], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["lr"] = params["train"]["lr"] / 2
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    steps["one-param repro (train.lr)"] = timed([["dvc", "repro"]], project)
    steps["push"] = timed([["git", "add", "-A"], ["git", "commit", "-qm", "lr/2"], ["dvc", "push"]], project)
    steps["clone + pull"] = timed([["git", "clone", "-q", str(project), str(clone)], (["dvc", "pull"], clone)], root)
    pulled_equal = (clone / "model" / "model.pt").read_bytes() == (project / "model" / "model.pt").read_bytes()
    steps["fresh repro (--force)"] = timed([["dvc", "repro", "--force"]], clone)

    original = json.loads((project / "metrics.json").read_text())
    reproduced = json.loads((clone / "metrics.json").read_text())
    differing = sorted(k for k in original.keys() | reproduced.keys() if original.get(k) != reproduced.get(k))
    same_bytes = (project / "metrics.json").read_bytes() == (clone / "metrics.json").read_bytes()
    timings = {"original": json.loads((project / "timings.json").read_text()),
               "fresh clone": json.loads((clone / "timings.json").read_text())}

    lines = [f"# dlcc pipeline: {args.recipe} as a DVC project", "",
             f"Command: python benchmarks/bench_pipeline.py --recipe {args.recipe}"
             + (f" --set {' '.join(args.set)}" if args.set else ""), "",
             "| step | stages run | wall s | CPU s (children) |", "|---|---|---:|---:|"]
    for name, step in steps.items():
        lines.append(f"| {name} | {', '.join(step['stages']) or '-'} | {step['wall_s']} | {step['cpu_s']} |")
    lines += ["", "## Fresh clone: metrics.json", "",
              "| key | original | fresh clone |", "|---|---|---|"]
    for key in sorted(original):
        value = original[key]
        if isinstance(value, dict):
            continue
        lines.append(f"| {key} | {value} | {reproduced.get(key)} |")
    lines += ["", f"Keys that differ: {differing or 'none'} (of {len(original)}); metrics.json byte-identical: "
                  f"{same_bytes}; model pulled from the remote identical: {pulled_equal}.",
              f"Timings (timings.json, not compared): original {timings['original']}, "
              f"clone {timings['fresh clone']}.",
              "", "Wall times come from a machine shared with other jobs; CPU times are the children's "
                  "user+system seconds (dlcc's imports are ~3 s of each stage)."]
    report(lines, args.save, {"recipe": args.recipe, "set": args.set, "steps": steps,
                              "metrics_original": original, "metrics_fresh_clone": reproduced,
                              "differing_keys": differing, "byte_identical": same_bytes,
                              "pulled_model_identical": pulled_equal, "timings": timings})
    return 0 if not differing else 1


if __name__ == "__main__":
    sys.exit(main())
