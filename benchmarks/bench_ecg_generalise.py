"""Does the shipped R-peak detector generalise? A nested cross-validation by record.

    python benchmarks/bench_ecg_generalise.py [--folds 4] [--threads 2] [--work DIR] [--set k=v ...]
                                              [--save benchmarks/results/ecg_generalise] [--ship]

Outer loop: 4-fold cross-validation by record over the 16 MIT-BIH records (fold i tests
records[i::4], the same test folds as `bench_ecg.py --folds 4`). Inside each fold the recipe
`ecg-rpeak-ensemble` runs on the 12 other records only: it trains 4 members by an inner
cross-validation, chooses threshold, T-wave and search-back rules on their out-of-fold
probabilities, and evaluates the ensemble on the 4 test records once. Nothing about the test
records enters any choice. Pan–Tompkins and XQRS run on the same records in the same script
(lead MLII, mV, 360 Hz), scored with the same matcher (±150 ms, pooled Se, +P, F1).

Also reported: each member alone on the test records with the ensemble's rules ("single
member": what ensembling adds), and the process CPU time. `--ship` then trains the recipe on
all 16 records and writes the weights `dlcc predict --model ecg-rpeak` uses into
src/dlcc/predict/models/ecg-rpeak/. Finished folds are read back from --work (resumable).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ecg import classical  # noqa: E402
from machine import LOAD_NOTE, loadavg, machine_info  # noqa: E402

from dlcc.data import load_mitbih  # noqa: E402
from dlcc.data.ecg import mitbih_records  # noqa: E402
from dlcc.metrics.events import pooled_scores, scores_from_counts  # noqa: E402
from dlcc.recipes.runner import run_recipe  # noqa: E402

RECIPE = "ecg-rpeak-ensemble"
SHIP_DIR = Path(__file__).resolve().parents[1] / "src" / "dlcc" / "predict" / "models" / "ecg-rpeak"
BAR_F1, BAR_MARGIN = 0.996, 0.004


def outer_folds(k: int) -> list[tuple[list[str], list[str]]]:
    """(cross-validation records, test records) per outer fold."""
    names = mitbih_records()
    return [([n for n in names if n not in names[i::k]], names[i::k]) for i in range(k)]


def run_fold(i: int, records: list[str], test: list[str], sets: list[str], work: Path) -> dict:
    out = work / f"fold{i}"
    if (out / "metrics.json").is_file():
        print(f"fold {i}: read back from {out}", flush=True)
    else:
        if out.exists():
            shutil.rmtree(out)
        run_recipe(RECIPE, [f"data.records={records}", f"data.test_records={test}", *sets], out=out, progress=False,
                   log=lambda line: print(f"  [fold {i}] {line}", flush=True))
    metrics = json.loads((out / "metrics.json").read_text())
    per = json.loads((out / "per_record.json").read_text())["test"]
    print(f"fold {i}: test F1 {metrics['test_f1']:.4f} on {test}", flush=True)
    return {"metrics": metrics, "per_record": per}


def ship(sets: list[str], work: Path) -> Path:
    """Train on all records and copy the run (config, weights, metrics, OOF scores) into the package."""
    out = work / "ship"
    if not (out / "metrics.json").is_file():
        if out.exists():
            shutil.rmtree(out)
        run_recipe(RECIPE, list(sets), out=out, progress=False, log=lambda line: print(f"  [ship] {line}", flush=True))
    SHIP_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("config.yaml", "model.pt", "metrics.json", "oof.json"):
        shutil.copy2(out / name, SHIP_DIR / name)
    print(f"shipped {out} -> {SHIP_DIR}", flush=True)
    return SHIP_DIR


def table(results: dict[str, dict], records: list[str]) -> str:
    names = list(results)
    lines = ["| record | beats | " + " | ".join(f"{n} F1" for n in names) + " |", "|---|---:|" + "---:|" * len(names)]
    for r in records:
        beats = results[names[0]][r]["tp"] + results[names[0]][r]["fn"]
        lines.append(f"| {r} | {beats} | " + " | ".join(f"{results[n][r]['f1']:.4f}" for n in names) + " |")
    return "\n".join(lines)


def overall_table(overall: dict[str, dict]) -> str:
    lines = ["| detector | Se | +P | F1 | TP | FP | FN |", "|---|---:|---:|---:|---:|---:|---:|"]
    for n, s in overall.items():
        lines.append(f"| {n} | {s['sensitivity']:.4f} | {s['ppv']:.4f} | **{s['f1']:.4f}** | {s['tp']} | {s['fp']} | "
                     f"{s['fn']} |")
    return "\n".join(lines)


def plot(results: dict[str, dict], records: list[str], overall: dict[str, dict], path: Path) -> None:
    """Per-record F1 of every detector (bars), the pooled F1 in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(results)
    x = np.arange(len(records))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(12, 4))
    for i, name in enumerate(names):
        ax.bar(x + (i - (len(names) - 1) / 2) * width, [results[name][r]["f1"] for r in records], width,
               label=f"{name} (pooled F1 {overall[name]['f1']:.4f})")
    ax.set_xticks(x, records)
    ax.set_ylim(0.9, 1.0)
    ax.set_xlabel("MIT-BIH record (each tested by models that never saw it)")
    ax.set_ylabel("F1 (±150 ms)")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("R-peak detection, 4-fold cross-validation by record")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="recipe override")
    parser.add_argument("--work", type=Path, default=Path("bench-ecg-generalise"), help="run directories")
    parser.add_argument("--save", type=Path, default=None, help="write <save>.md and <save>.json")
    parser.add_argument("--ship", action="store_true", help="first train on all records and ship the weights")
    parser.add_argument("--skip-cv", action="store_true", help="only --ship")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before, cpu0, wall0 = loadavg(), time.process_time(), time.perf_counter()
    if args.ship:
        ship(args.set, args.work)
        print(f"ship: {time.process_time() - cpu0:.0f} s CPU, {time.perf_counter() - wall0:.0f} s wall", flush=True)
    if args.skip_cv:
        return 0
    folds = outer_folds(args.folds)
    records = [r for _, test in folds for r in test]
    results = {name: per for name, per in classical(load_mitbih(records)).items()}
    cpu_cv, wall_cv = time.process_time(), time.perf_counter()
    runs = [run_fold(i, rec, test, args.set, args.work) for i, (rec, test) in enumerate(folds)]
    cpu_cv, wall_cv = time.process_time() - cpu_cv, time.perf_counter() - wall_cv
    results["ensemble"] = {r: s for run in runs for r, s in run["per_record"].items()}
    overall = {n: pooled_scores({r: results[n][r] for r in records}) for n in results}
    members = len(runs[0]["metrics"]["test_member_counts"])
    single = [scores_from_counts(*[sum(run["metrics"]["test_member_counts"][k][j] for run in runs) for j in range(3)])
              for k in range(members)]
    overall_single = {f"single member {k} (all folds)": s for k, s in enumerate(single)}
    f1, pt = overall["ensemble"]["f1"], overall["pan-tompkins"]["f1"]
    verdict = (f"Bar: pooled F1 >= {BAR_F1} and >= Pan–Tompkins + {BAR_MARGIN} ({pt + BAR_MARGIN:.4f}): "
               f"**{'met' if f1 >= BAR_F1 and f1 >= pt + BAR_MARGIN else 'not met'}** (ensemble {f1:.4f}).")
    rules = "\n".join(f"| {i} | {', '.join(test)} | {run['metrics']['val_f1']:.4f} | {run['metrics']['threshold']:g} | "
                      f"{run['metrics']['twave']:g} | {run['metrics']['searchback']:g} | "
                      f"{run['metrics']['test_f1']:.4f} | "
                      f"{', '.join(f'{v:.4f}' for v in run['metrics']['test_member_f1'])} |"
                      for i, (run, (_, test)) in enumerate(zip(runs, folds)))
    text = (f"{table(results, records)}\n\n{overall_table({**overall, **overall_single})}\n\n{verdict}\n\n"
            "Choices made inside each outer fold (out-of-fold F1 of its 12 records, and the rules chosen there):\n\n"
            "| fold | test records | out-of-fold F1 | threshold | T-wave | search-back | test F1 | members' test F1 |\n"
            "|---|---|---:|---:|---:|---:|---:|---|\n" + rules)
    print(text)
    info = {**machine_info(), "load_average_before": load_before, "load_average_after": loadavg()}
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        header = (f"# Generalisation of the R-peak detector: nested cross-validation by record\n\n"
                  f"Outer: {args.folds}-fold cross-validation by record over the {len(records)} MIT-BIH records "
                  f"(the test folds of ecg_rpeak_cv4*.md); inner: `{RECIPE}` on each fold's other records "
                  f"(overrides: {args.set or 'none'}). Tolerance ±150 ms, every beat annotation, whole records.\n"
                  f"Cross-validation: {cpu_cv:.0f} s process CPU time, {wall_cv:.0f} s wall "
                  f"({args.threads} torch threads, `nice -n 5`).\n\n")
        machine = "\n".join(f"- {k}: {v}" for k, v in info.items())
        args.save.with_suffix(".md").write_text(
            f"{header}{text}\n\n![per-record F1]({args.save.with_suffix('.png').name})\n\n"
            f"Machine ({LOAD_NOTE}):\n{machine}\n\n"
            f"Command: python benchmarks/bench_ecg_generalise.py {' '.join(sys.argv[1:] if argv is None else argv)}\n")
        plot(results, records, overall, args.save.with_suffix(".png"))
        args.save.with_suffix(".json").write_text(json.dumps(
            {"records": records, "folds": [{"records": rec, "test": test} for rec, test in folds],
             "overrides": args.set, "machine": info, "cpu_time_s": cpu_cv, "wall_time_s": wall_cv,
             "per_record": results, "overall": overall, "single_members": single,
             "fold_metrics": [run["metrics"] for run in runs]}, indent=2, default=float) + "\n")
    os.sync()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
