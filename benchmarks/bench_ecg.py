"""R-peak detection on held-out MIT-BIH records: deep taggers vs XQRS vs Pan–Tompkins.

    python benchmarks/bench_ecg.py [--models transformer,gru,tcn] [--folds 0|4] [--threads 2]
                                   [--set key=value ...] [--ensemble] [--save benchmarks/results/ecg_rpeak]

All detectors are scored in this one script on the same records with the same metric
(`dlcc.metrics.events`: one-to-one matching within ±150 ms; Se, +P, F1 pooled over records).

- `--folds 0` (default): the recipes' fixed split (train 10 records, validation 2, test 4).
- `--folds 4`: 4-fold cross-validation by record over all 16 records: each record is tested by
  a model that never saw it (per fold: test = every 4th record, validation = 2 of the rest).
  Four trainings per model: slow.
- `--ensemble`: also score the mean of the models' per-sample probabilities (threshold again
  chosen on the validation records): a deep ensemble, no extra training.

The deep models are the recipes `ecg-rpeak-<model>` run through `dlcc.recipes.runner` (their
per_record.json is read back); XQRS (`wfdb.processing.XQRS`) and our Pan–Tompkins run on lead
MLII in millivolts at 360 Hz. Target (issue 8): deep F1 >= 0.997 and better than both.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info  # noqa: E402

from dlcc.data import load_mitbih  # noqa: E402
from dlcc.data.ecg import mitbih_records  # noqa: E402
from dlcc.metrics.events import event_scores, pooled_scores  # noqa: E402
from dlcc.recipes.ecg_rpeak import TEST, TRAIN, VAL  # noqa: E402
from dlcc.recipes.runner import run_recipe  # noqa: E402
from dlcc.signals import pan_tompkins, xqrs  # noqa: E402


NOTES = """Notes:
- Reference beats: every beat annotation of the record (symbols N L R B A a J S V r F e j n E / f Q ?),
  the whole 30 minutes (no learning period excluded), for every detector alike.
- The deep models choose their detection threshold on their validation records
  (`detect.threshold=auto`); the test records play no part in training or in any choice.
- Deep-model wall times depend on the torch threads (`--threads`) and on other jobs sharing the
  2 cores: the load averages under "Machine" show how busy it was (near 2: this benchmark alone)."""


def classical(records) -> dict[str, dict[str, dict]]:
    """{"xqrs": {record: scores}, "pan-tompkins": {...}} on lead MLII."""
    out: dict[str, dict] = {"xqrs": {}, "pan-tompkins": {}}
    for rec in records:
        lead = rec.leads.index("MLII") if "MLII" in rec.leads else 0
        for name, detector in (("xqrs", xqrs), ("pan-tompkins", pan_tompkins)):
            start = time.perf_counter()
            found = detector(rec.signal[:, lead], rec.fs)
            out[name][rec.name] = {**event_scores(rec.r_peaks, found, rec.fs),
                                   "time_s": time.perf_counter() - start}
    return out


def folds(k: int) -> list[tuple[list, list, list]]:
    """(train, val, test) record lists: the recipe split (k=0) or k folds by record."""
    if k == 0:
        return [(TRAIN, VAL, TEST)]
    names = mitbih_records()
    out = []
    for i in range(k):
        test = names[i::k]
        rest = [n for n in names if n not in test]
        val = rest[i::max(1, len(rest) // 2)][:2]
        out.append(([n for n in rest if n not in val], val, test))
    return out


def deep(model: str, splits, overrides: list[str], work: Path) -> tuple[dict, float]:
    """Per-record test scores of recipe ecg-rpeak-<model> over all splits, and total wall time."""
    per: dict[str, dict] = {}
    start = time.perf_counter()
    for i, (train, val, test) in enumerate(splits):
        sets = [f"data.train_records={train}", f"data.val_records={val}", f"data.test_records={test}",
                *overrides]
        out, metrics = run_recipe(f"ecg-rpeak-{model}", sets, out=work / f"{model}-fold{i}", progress=False,
                                  log=lambda line: print(f"  [{model} fold {i}] {line}", flush=True))
        per.update(json.loads((out / "per_record.json").read_text())["test"])
        print(f"{model} fold {i}: test F1 {metrics['test_f1']:.4f} on {test}", flush=True)
    return per, time.perf_counter() - start


def ensemble(models: list[str], splits, work: Path) -> dict:
    """Per-record test scores of the mean probability of `models` (their runs saved probs.npz):
    the threshold is chosen on each fold's validation records, exactly as the recipes do."""
    import numpy as np

    from dlcc.metrics.events import evaluate_records
    from dlcc.recipes.ecg_rpeak import Detect, choose_detection, triggers

    det = Detect()
    per: dict[str, dict] = {}
    for i, (_, val, test) in enumerate(splits):
        saved = [np.load(work / f"{m}-fold{i}" / "probs.npz") for m in models]
        truth = {r.name: r.r_peaks for r in load_mitbih(val + test)}
        mean = {split: {r: np.mean([s[f"{split}/{r}"] for s in saved], axis=0) for r in names}
                for split, names in (("val", val), ("test", test))}
        fs = 360.0
        rules, _ = choose_detection(det, mean["val"], {r: truth[r] for r in val}, fs)
        found = triggers(mean["test"], fs, rules)
        scores, _ = evaluate_records({r: truth[r] for r in test}, found, fs, det.tolerance_s)
        per.update(scores)
        print(f"ensemble fold {i}: threshold {rules.threshold}", flush=True)
    return per


def table(results: dict[str, dict], records: list[str], times: dict[str, float]) -> str:
    names = list(results)
    lines = ["| record | beats | " + " | ".join(f"{n} F1" for n in names) + " |",
             "|---|---:|" + "---:|" * len(names)]
    for r in records:
        beats = results[names[0]][r]["tp"] + results[names[0]][r]["fn"]
        lines.append(f"| {r} | {beats} | " + " | ".join(f"{results[n][r]['f1']:.4f}" for n in names) + " |")
    lines += ["", "| detector | Se | +P | F1 | TP | FP | FN | wall time |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        s = pooled_scores({r: results[n][r] for r in records})
        lines.append(f"| {n} | {s['sensitivity']:.4f} | {s['ppv']:.4f} | **{s['f1']:.4f}** | {s['tp']} | "
                     f"{s['fp']} | {s['fn']} | {times.get(n, 0):.0f} s |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="transformer,gru,tcn")
    parser.add_argument("--folds", type=int, default=0, help="0: the recipe split; k: k-fold by record")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe override for every deep model, e.g. train.epochs=5")
    parser.add_argument("--ensemble", action="store_true",
                        help="also score the mean probability of all --models (an ensemble)")
    parser.add_argument("--save", type=Path, default=None, help="write <save>.md and <save>.json")
    parser.add_argument("--work", type=Path, default=None, help="run directories (default: a temp dir)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    splits = folds(args.folds)
    records = [r for _, _, test in splits for r in test]
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-ecg-"))

    start = time.perf_counter()
    results = classical(load_mitbih(records))
    times = {name: sum(v["time_s"] for v in res.values()) for name, res in results.items()}
    print(f"classical detectors done in {time.perf_counter() - start:.0f} s", flush=True)
    models = [m for m in args.models.split(",") if m]
    overrides = [*args.set, "detect.save_probs=true"] if args.ensemble else args.set
    for model in models:
        results[model], times[model] = deep(model, splits, overrides, work)
    if args.ensemble and len(models) > 1:
        name = "ensemble (" + " + ".join(models) + ")"
        results[name] = ensemble(models, splits, work)
        times[name] = sum(times[m] for m in models)

    text = table(results, records, times)
    info = {**machine_info(), "load_average_before": load_before, "load_average_after": os.getloadavg()}
    header = (f"# R-peak detection on held-out MIT-BIH records\n\n"
              f"Split: {'recipe split, test records ' + ', '.join(records) if args.folds == 0 else f'{args.folds}-fold cross-validation by record over all {len(records)} records'}; "
              f"tolerance ±150 ms; overrides: {args.set or 'none'}.\n"
              f"Wall time of the deep models = training + detection on the test records"
              f"{' (all folds)' if args.folds else ''}; classical = detection only.\n\n")
    machine = "\n".join(f"- {k}: {v}" for k, v in info.items())
    print(text)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.with_suffix(".md").write_text(
            f"{header}{text}\n\n{NOTES}\n\nMachine (the load averages show how busy it was):\n{machine}\n"
            f"\nCommand: python benchmarks/bench_ecg.py {' '.join(argv if argv is not None else sys.argv[1:])}\n")
        args.save.with_suffix(".json").write_text(json.dumps(
            {"records": records, "folds": args.folds, "overrides": args.set, "machine": info,
             "times_s": times, "per_record": results,
             "overall": {n: pooled_scores({r: results[n][r] for r in records}) for n in results}},
            indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
