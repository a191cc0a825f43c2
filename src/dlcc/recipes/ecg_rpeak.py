"""Recipes `ecg-rpeak-transformer`, `ecg-rpeak-gru`, `ecg-rpeak-tcn`: R-peak (trigger)
detection in two-lead ECG, course A4's trigger-detection task on MIT-BIH.

Data: MIT-BIH Arrhythmia records through `dlcc.data.load_mitbih` (default) or, with
`--set data.source=synthetic`, generated records with known R peaks (no data needed). Records
are split into train / validation / test *by record* — a test record is never seen in
training, not even a different minute of it. Every record is checked, resampled to 360 Hz and
z-scored per lead (`dlcc.signals.prepare_record`).

Training: random chunks of `data.chunk_length` samples with Gaussian-smoothed soft targets,
binary cross-entropy on the per-sample logits, AdamW with warm-up + cosine, gradient clipping,
the best epoch by validation loss kept. Evaluation: the model runs over each whole test record
in overlapping windows, peaks are picked (threshold, local maximum, 200 ms minimum distance;
`detect.threshold=auto` picks the threshold with the best F1 on the validation records), and detections are matched to the annotated beats within ±150 ms.

Writes: metrics.json (`test_f1`, `test_sensitivity`, `test_ppv`, `test_loss`, `val_loss`,
`val_f1`, ...), per_record.json, ecg_test_<record>.png (leads with true and detected
triggers), history.png, checkpoints/, and with `detect.save_probs=true` probs.npz (the
per-sample probabilities `[T]` of every validation and test record, keys "val/<record>" and
"test/<record>").
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from dlcc.recipes.registry import Recipe, RunContext

# a fixed split of the 16 MIT-BIH records in ../shared/data (a seed-0 permutation, cut 10/2/4)
TRAIN = ["103", "201", "105", "200", "100", "106", "114", "108", "210", "203"]
VAL = ["109", "119"]
TEST = ["208", "116", "101", "233"]

BASE = {
    "seed": 0,
    "data": {"source": "mitbih", "train_records": TRAIN, "val_records": VAL, "test_records": TEST,
             "n_leads": 2, "first_lead": "MLII", "chunk_length": 1024, "chunks_per_record": 200,
             "sigma": 8.0, "augment": True, "synthetic": {"records": 6, "seconds": 60}},
    "train": {"epochs": 10, "batch_size": 32, "lr": 1e-3, "weight_decay": 0.01, "warmup_steps": 50,
              "clip_grad_norm": 1.0},
    "detect": {"threshold": "auto", "min_distance_s": 0.2, "tolerance_s": 0.15, "hop": 512, "save_probs": False},
    "plots": {"records": 4, "seconds": 10},
}

MODELS = {
    "transformer": {"n_layer": 4, "n_head": 4, "n_embd": 64, "dropout": 0.1, "patch": 8, "causal": False},
    "gru": {"cell": "gru", "hidden": 64, "layers": 2, "bidirectional": True, "dropout": 0.0, "patch": 4},
    # non-causal: each output sees 1.4 s before and after its sample (4-fold CV F1 0.9941, the
    # causal variant 0.9795: benchmarks/results/ecg_rpeak_cv4*.md); causal=true for real-time triggers
    "tcn": {"channels": 32, "levels": 8, "kernel_size": 3, "dropout": 0.0, "causal": False},
}


def _defaults(kind: str) -> dict:
    cfg = copy.deepcopy(BASE)
    cfg["model"] = dict(MODELS[kind])
    return cfg


def build_model(kind: str, m: dict, n_leads: int, chunk_length: int) -> torch.nn.Module:
    """The tagger for recipe `kind` from the `model` config section."""
    from dlcc.models.rnn import RNNTagger
    from dlcc.models.tcn import TCN
    from dlcc.models.transformer import ECGDetector

    if kind == "transformer":
        return ECGDetector(n_leads, chunk_length, int(m["n_layer"]), int(m["n_head"]), int(m["n_embd"]),
                           float(m["dropout"]), bool(m["causal"]), int(m["patch"]))
    if kind == "gru":
        return RNNTagger(n_leads, int(m["hidden"]), int(m["layers"]), str(m["cell"]), bool(m["bidirectional"]),
                         float(m["dropout"]), int(m["patch"]))
    return TCN(n_leads, int(m["channels"]), int(m["levels"]), int(m["kernel_size"]), float(m["dropout"]),
               bool(m["causal"]))


def soft_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of sigmoid(logits) against soft targets in [0, 1], mean over all
    samples (the course's LossTriggerDetection, computed stably from logits). `[B, T]` each."""
    return F.binary_cross_entropy_with_logits(logits, targets)


def split_records(d: dict, seed: int) -> dict[str, list]:
    """{"train": [...], "val": [...], "test": [...]} records (raw, as the data layer gives them)."""
    from dlcc.errors import ConfigError

    if d["source"] == "synthetic":
        from dlcc.data import make_synthetic_ecg
        from dlcc.data.ecg import Record

        n, seconds = int(d["synthetic"]["records"]), float(d["synthetic"]["seconds"])
        if n < 3:
            raise ConfigError(f"data.synthetic.records={n}: need at least 3 (train, val, test)",
                              fix="--set data.synthetic.records=6")
        recs = []
        for i in range(n):
            signal, peaks = make_synthetic_ecg(seconds, fs=360, n_leads=int(d["n_leads"]), seed=seed * 1000 + i)
            recs.append(Record(f"syn{i}", signal, 360.0, tuple(f"lead{c}" for c in range(signal.shape[1])),
                               peaks, ("N",) * len(peaks)))
        n_test = max(1, n // 6)
        return {"train": recs[: n - 2 * n_test], "val": recs[n - 2 * n_test: n - n_test], "test": recs[n - n_test:]}
    if d["source"] != "mitbih":
        raise ConfigError(f"data.source={d['source']!r} is not 'mitbih' or 'synthetic'",
                          fix="--set data.source=mitbih (real records) or data.source=synthetic")
    names = {split: [str(r) for r in d[f"{split}_records"]] for split in ("train", "val", "test")}
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        both = sorted(set(names[a]) & set(names[b]))
        if both:
            raise ConfigError(f"record(s) {', '.join(both)} are in both data.{a}_records and data.{b}_records; "
                              "the split must be by record", fix="list each record in one split only")
    for split in ("train", "val", "test"):
        if not names[split]:
            raise ConfigError(f"data.{split}_records is empty", fix=f"list at least one record, e.g. --set data.{split}_records=[100]")
    from dlcc.data import load_mitbih

    return {split: load_mitbih(names[split]) for split in ("train", "val", "test")}


THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.05), 2)


def record_probs(model, records, window: int, hop: int, device) -> dict[str, np.ndarray]:
    """Per-sample trigger probabilities `[T]` for each prepared record, by name."""
    from dlcc.signals import predict_probs

    return {rec.name: predict_probs(model, rec.signal, window=window, hop=min(hop, window), device=device)
            for rec in records}


def triggers(probs: dict[str, np.ndarray], fs: float, threshold: float, min_distance_s: float) -> dict:
    from dlcc.signals import find_triggers

    return {name: find_triggers(p, fs, threshold, min_distance_s) for name, p in probs.items()}


def choose_threshold(setting, probs: dict, truth: dict, fs: float, det: dict) -> float:
    """`detect.threshold` as a number, or for "auto" the grid value (0.05 ... 0.95) with the best
    pooled F1 on the *validation* records (never the test records)."""
    from dlcc.errors import ConfigError
    from dlcc.metrics.events import evaluate_records

    if str(setting) != "auto":
        try:
            return float(setting)
        except ValueError:
            raise ConfigError(f"detect.threshold={setting!r} is not a number or 'auto'",
                              fix="--set detect.threshold=0.5 (or auto)") from None

    def f1(th: float) -> float:
        found = triggers(probs, fs, th, float(det["min_distance_s"]))
        return evaluate_records(truth, found, fs, float(det["tolerance_s"]))[1]["f1"]

    scores = np.array([f1(th) for th in THRESHOLDS])
    best = THRESHOLDS[scores >= scores.max() - 1e-12]
    return float(best[len(best) // 2])     # the middle of a plateau of equally good thresholds


def _plot_window(truth: np.ndarray, found: np.ndarray, fs: float, tolerance_s: float, length: int, n: int) -> int:
    """Start of the plot window: centred on the first miss or false trigger, else the record start."""
    tol = tolerance_s * fs
    missed = [t for t in truth if not len(found) or np.abs(found - t).min() > tol]
    false = [f for f in found if not len(truth) or np.abs(truth - f).min() > tol]
    errors = sorted(missed + false)
    if not errors:
        return 0
    return int(np.clip(errors[0] - length // 2, 0, max(0, n - length)))


def run(cfg: dict, ctx: RunContext, kind: str, name: str) -> dict:
    from dlcc.metrics.events import evaluate_records
    from dlcc.models.transformer import decay_groups
    from dlcc.signals import ECGChunks, prepare_record
    from dlcc.signals.plots import plot_triggers
    from dlcc.train import BestModel, evaluate, fit, make_scheduler, plot_history
    from dlcc.utils.device import choose_device
    from dlcc.utils.io import write_json

    device = choose_device(ctx.device)
    d, t, det = cfg["data"], cfg["train"], cfg["detect"]
    raw = split_records(d, ctx.seed)
    prep = {split: [prepare_record(r, int(d["n_leads"]), first_lead=d["first_lead"]) for r in recs]
            for split, recs in raw.items()}
    L, sigma = int(d["chunk_length"]), float(d["sigma"])
    train_ds = ECGChunks(prep["train"], L, sigma, "random", int(d["chunks_per_record"]), seed=ctx.seed,
                         augment=bool(d["augment"]))
    val_ds = ECGChunks(prep["val"], L, sigma, "tiled")
    train_loader = torch.utils.data.DataLoader(train_ds, batch_size=int(t["batch_size"]), shuffle=True,
                                               generator=torch.Generator().manual_seed(ctx.seed))
    val_loader = torch.utils.data.DataLoader(val_ds, batch_size=64)
    model = build_model(kind, cfg["model"], int(d["n_leads"]), L)
    epochs = int(t["epochs"])
    optimizer = torch.optim.AdamW(decay_groups(model, float(t["weight_decay"])), lr=float(t["lr"]))
    total = epochs * len(train_loader)
    scheduler, interval = (make_scheduler("warmup_cosine", optimizer, epochs, len(train_loader),
                                          warmup_steps=max(1, min(int(t["warmup_steps"]), total - 1)))
                           if total > 1 else (None, "epoch"))
    tracker, tracking = ctx.open_tracker(cfg, name)
    callbacks = [*ctx.callbacks, *tracking]
    callbacks.append(BestModel("val_loss", "min"))
    ctx.log(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters; records "
            + "; ".join(f"{s} {', '.join(r.name for r in prep[s])}" for s in ("train", "val", "test")))
    trainer = fit(model, train_loader, val_loader, soft_bce, optimizer, epochs, scheduler=scheduler,
                  scheduler_interval=interval, callbacks=callbacks, device=device,
                  clip_grad_norm=t["clip_grad_norm"], metrics={}, out_dir=ctx.out_dir, resume=ctx.resume,
                  progress=ctx.progress, config=cfg, log=ctx.log)
    model = trainer.model

    fs, tol = prep["test"][0].fs, float(det["tolerance_s"])
    test_loss = evaluate(model, torch.utils.data.DataLoader(ECGChunks(prep["test"], L, sigma, "tiled"), batch_size=64),
                         soft_bce, device, metrics={})["loss"]
    hop, dist = int(det["hop"]), float(det["min_distance_s"])
    val_probs = record_probs(model, prep["val"], L, hop, device)
    val_truth = {r.name: r.r_peaks for r in prep["val"]}
    threshold = choose_threshold(det["threshold"], val_probs, val_truth, fs, det)
    _, val_scores = evaluate_records(val_truth, triggers(val_probs, fs, threshold, dist), fs, tol)
    test_probs = record_probs(model, prep["test"], L, hop, device)
    found = triggers(test_probs, fs, threshold, dist)
    if det["save_probs"]:   # for re-thresholding and ensembles (benchmarks/bench_ecg.py --ensemble)
        np.savez_compressed(ctx.out_dir / "probs.npz", **{f"val/{k}": v for k, v in val_probs.items()},
                            **{f"test/{k}": v for k, v in test_probs.items()})
    truth = {r.name: r.r_peaks for r in prep["test"]}
    per_record, overall = evaluate_records(truth, found, fs, tol)
    write_json(ctx.out_dir / "per_record.json", {"test": per_record, "overall": overall})

    length = int(float(cfg["plots"]["seconds"]) * fs)
    for rec in prep["test"][: int(cfg["plots"]["records"])]:
        start = _plot_window(rec.r_peaks, found[rec.name], fs, tol, length, len(rec.signal))
        s = per_record[rec.name]
        path = plot_triggers(rec.signal, rec.r_peaks, found[rec.name], ctx.out_dir / f"ecg_test_{rec.name}.png",
                             fs, start, length, rec.leads,
                             title=f"{name} - record {rec.name}, {start / fs:.0f}-{(start + length) / fs:.0f} s: "
                                   f"F1 {s['f1']:.4f} (Se {s['sensitivity']:.4f}, +P {s['ppv']:.4f})")
        if tracker is not None:
            tracker.log_figure(f"ecg_test_{rec.name}", path, trainer.global_step)
    plot_history(trainer.history, ctx.out_dir / "history.png", title=name)

    best = min((h for h in trainer.history if "val_loss" in h), key=lambda h: h["val_loss"], default={})
    metrics = {
        "test_f1": overall["f1"], "test_sensitivity": overall["sensitivity"], "test_ppv": overall["ppv"],
        "test_tp": overall["tp"], "test_fp": overall["fp"], "test_fn": overall["fn"], "test_loss": test_loss,
        "val_loss": best.get("val_loss"), "val_f1": val_scores["f1"], "best_epoch": best.get("epoch"),
        "threshold": threshold,
        "n_params": sum(p.numel() for p in model.parameters()),
    }
    if tracker is not None:
        tracker.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, trainer.global_step)
        tracker.close()
    ctx.log(f"{name}: test F1 {overall['f1']:.4f} (Se {overall['sensitivity']:.4f}, +P {overall['ppv']:.4f}) "
            f"on records {', '.join(truth)}")
    return metrics


def _runner(kind: str, name: str):
    return lambda cfg, ctx: run(cfg, ctx, kind, name)


RECIPES = [
    Recipe(f"ecg-rpeak-{kind}", summary, "mitbih (or data.source=synthetic)", _defaults(kind),
           _runner(kind, f"ecg-rpeak-{kind}"), tags=("sequences", "A4"))
    for kind, summary in (
        ("transformer", "transformer encoder tagger (course ECGDetector) for R-peak triggers"),
        ("gru", "bidirectional GRU tagger for R-peak triggers"),
        ("tcn", "dilated TCN for R-peak triggers (model.causal=true: real-time)"),
    )
]
