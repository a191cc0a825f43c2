"""ECG generative models: `ecg-beat-gan` (conditional beats, normal / ventricular) and
`ecg-lead-cyclegan` (unpaired MLII <-> V1 translation), each with its recipe defaults.

    python benchmarks/bench_ecg_gans.py [--save benchmarks/results/ecg_gans] [--only beat|cycle] [--threads 2]

Bar (issue 14): a beat classifier trained on real beats (dlcc's shipped beat judge) labels
>= 0.90 of the generated beats with their conditioning class; Fréchet distance against the
real-vs-real floor. The CycleGAN has no bar: its translation error on held-out records' true
pairs is reported beside baselines that need no learning.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, machine_info  # noqa: E402

from dlcc.recipes.runner import run_recipe  # noqa: E402

NOTES = """Notes:
- Beats: every N and V beat of lead MLII in the 16 MIT-BIH records (0.5 Hz high-pass, z-scored
  per record, 256 samples around the R peak); 10 % held out from training for the copy check.
  Fréchet distances are on the 64 penultimate features of dlcc's beat judge (held-out-record
  accuracy 0.981). Per class, all real beats take part: a random half is the reference, the
  other half the floor; the generated beats and the collapsed control (one real beat
  repeated) are as many as the floor.
- CycleGAN: MLII of records 100, 101, 103, 106, 108, 114 and V1 of records 105, 109, 119, 200,
  210 (no heart gives both leads); scored on the simultaneous MLII/V1 of records 116, 201, 208,
  233, never seen in training. Leads are z-scored, so errors are in standard deviations; r is
  the mean per-segment correlation (512 samples = 1.4 s). Baselines: the input copied, the
  input inverted (V1 often looks like an inverted MLII), and zero.
- CPU time is the process's user + system time; 2-core minutes = CPU seconds / 120."""


def run(recipe: str, sets: list[str], work: Path) -> dict:
    print(f"== dlcc run {recipe} " + " ".join(f"--set {s}" for s in sets), flush=True)
    cpu, wall = time.process_time(), time.perf_counter()
    out, m = run_recipe(recipe, sets, out=work / recipe, progress=False,
                        log=lambda line: print(f"  [{recipe}] {line}", flush=True))
    m["run_cpu_time_s"], m["run_wall_time_s"] = time.process_time() - cpu, time.perf_counter() - wall
    return {"recipe": recipe, "overrides": sets, "out": str(out), **m}


def beat_table(r: dict) -> str:
    lines = ["| class | Fréchet d. (GAN) | floor (real vs real) | collapsed | conditional accuracy |",
             "|---|---:|---:|---:|---:|"]
    for i, cls in enumerate(("normal", "ventricular")):
        lines.append(f"| {cls} | **{r[f'test_fd_{cls}']:.3f}** | {r[f'test_fd_floor_{cls}']:.3f} | "
                     f"{r[f'test_fd_collapsed_{cls}']:.2f} | {r['test_cond_accuracy_per_class'][i]:.4f} |")
    lines.append(f"| all | | | | **{r['test_cond_accuracy']:.4f}** |")
    return "\n".join(lines) + (f"\n\n{r['steps']} steps, {r['run_cpu_time_s']:.0f} CPU s "
                               f"({r['run_cpu_time_s'] / 120:.1f} 2-core minutes); copy check: NN ratio "
                               f"{r['test_nn_ratio']:.2f}, near-copies {r['test_near_copy_rate']:.3f} (new data: 0.01)")


def cycle_table(r: dict) -> str:
    lines = ["| MLII -> V1 (held-out pairs) | MAE | RMSE | r |", "|---|---:|---:|---:|"]
    for name, key in (("CycleGAN (unpaired)", "ab"), ("copy the MLII", "copy_ab"), ("inverted MLII", "inverted_ab")):
        lines.append(f"| {name} | {r[f'test_mae_{key}']:.3f} | {r[f'test_rmse_{key}']:.3f} | {r[f'test_corr_{key}']:.3f} |")
    lines.append(f"| zero | {r['test_mae_zero']:.3f} | 1.000 | - |")
    lines += ["", "| V1 -> MLII | MAE | RMSE | r |", "|---|---:|---:|---:|"]
    for name, key in (("CycleGAN (unpaired)", "ba"), ("copy the V1", "copy_ba"), ("inverted V1", "inverted_ba")):
        lines.append(f"| {name} | {r[f'test_mae_{key}']:.3f} | {r[f'test_rmse_{key}']:.3f} | {r[f'test_corr_{key}']:.3f} |")
    per = r.get("test_per_record_ab") or {}
    if per:
        lines += ["", "| record (MLII -> V1) | MAE | r |", "|---|---:|---:|"]
        lines += [f"| {rec} | {v['mae']:.3f} | {v['corr']:.3f} |" for rec, v in per.items()]
    return "\n".join(lines) + (f"\n\n{r['steps']} steps, {r['run_cpu_time_s']:.0f} CPU s "
                               f"({r['run_cpu_time_s'] / 120:.1f} 2-core minutes)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["beat", "cycle"], default=None)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--save", type=Path, default=None, help="write <save>.md, <save>.json and the figures")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-ecg-gans-"))
    load_before = os.getloadavg()
    rows, sections = [], []
    if args.only in (None, "beat"):
        r = run("ecg-beat-gan", args.set, work)
        ok = r["test_cond_accuracy"] >= 0.90
        sections.append(f"## ecg-beat-gan\n\n{beat_table(r)}\n\nBar (the beat judge labels >= 0.90 of generated beats "
                        f"with their class): {'met' if ok else 'NOT met'} ({r['test_cond_accuracy']:.4f}).")
        rows.append(r)
    if args.only in (None, "cycle"):
        r = run("ecg-lead-cyclegan", args.set if args.only == "cycle" else [], work)
        sections.append(f"## ecg-lead-cyclegan\n\n{cycle_table(r)}")
        rows.append(r)
    info = {**machine_info(), "load_average_before": load_before, "load_average_after": os.getloadavg()}
    text = "\n\n".join(sections)
    print(text)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        figures = []
        for r in rows:
            for png, what in (("beats.png", "real and generated beats"), ("translation.png", "held-out segments")):
                if (Path(r["out"]) / png).is_file():
                    shutil.copy(Path(r["out"]) / png, args.save.parent / f"{args.save.name}_{png}")
                    figures.append(f"{args.save.name}_{png} ({what})")
        machine = "\n".join(f"- {k}: {v}" for k, v in info.items())
        args.save.with_suffix(".md").write_text(
            f"# ECG generative models\n\n{text}\n\nFigures: {', '.join(figures)}.\n\n{NOTES}\n\nMachine ({LOAD_NOTE}):\n{machine}\n\n"
            f"Command: python benchmarks/bench_ecg_gans.py {' '.join(argv if argv is not None else sys.argv[1:])}\n")
        keep = [{k: v for k, v in r.items() if not isinstance(v, dict)} for r in rows]
        args.save.with_suffix(".json").write_text(json.dumps({"runs": keep, "machine": info}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
