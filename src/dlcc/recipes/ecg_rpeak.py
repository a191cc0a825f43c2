"""Recipes `ecg-rpeak-transformer`, `ecg-rpeak-gru`, `ecg-rpeak-tcn`: R-peak (trigger)
detection in two-lead ECG, course A4's trigger-detection task on MIT-BIH.

Data: MIT-BIH Arrhythmia records through `dlcc.data.load_mitbih` (default) or, with
`--set data.source=synthetic`, generated records with known R peaks (no data needed). Records
are split into train / validation / test *by record* — a test record is never seen in
training, not even a different minute of it. Every record is checked, resampled to 360 Hz and
z-scored per lead (`dlcc.signals.prepare_record`).

Training: random chunks of `data.chunk_length` samples with Gaussian-smoothed soft targets,
binary cross-entropy on the per-sample logits, AdamW with warm-up + cosine, gradient clipping,
the best epoch by validation loss kept (`dlcc.train.train_and_report`). Evaluation: the model runs over each whole test record
in overlapping windows, peaks are picked (threshold, local maximum, 200 ms minimum distance;
`detect.threshold=auto` picks the threshold with the best F1 on the validation records), and detections are matched to the annotated beats within ±150 ms.

Writes: metrics.json (`test_f1`, `test_sensitivity`, `test_ppv`, `test_loss`, `val_loss`,
`val_f1`, ...), per_record.json, ecg_test_<record>.png (leads with true and detected
triggers), curves.png, model.pt (with the chosen threshold), checkpoints/, and with `detect.save_probs=true` probs.npz (the
per-sample probabilities `[T]` of every validation and test record, keys "val/<record>" and
"test/<record>").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import TrainConfig

# a fixed split of the 16 MIT-BIH records in ../shared/data (a seed-0 permutation, cut 10/2/4)
TRAIN = ["103", "201", "105", "200", "100", "106", "114", "108", "210", "203"]
VAL = ["109", "119"]
TEST = ["208", "116", "101", "233"]


@dataclass
class SyntheticEcg:
    records: int = setting(6, "generated records (split 4/1/1 of 6)", ge=3)
    seconds: float = setting(60.0, "length of each generated record", gt=0)


@dataclass
class EcgSignals:
    """What every ECG recipe's data section has: the source, leads, chunks, targets, augmentation."""

    source: Literal["mitbih", "synthetic"] = setting("mitbih", "mitbih (real records) or synthetic (generated)")
    n_leads: int = setting(2, "leads used (the first is data.first_lead)", ge=1)
    first_lead: str = setting("MLII", "the lead put first")
    chunk_length: int = setting(1024, "samples per training chunk (360 Hz)", ge=16)
    chunks_per_record: int = setting(200, "random chunks per record per epoch", ge=1)
    sigma: float = setting(8.0, "width (samples) of the Gaussian soft target around each R peak", gt=0)
    augment: bool = setting(True, "random amplitude scaling and noise on training chunks")
    # the augmentations below act only with data.augment=true; 0 keeps the plain augmentation
    # (dlcc.signals.augment explains each one)
    augment_stretch: float = setting(0.0, "largest relative time stretch of a training chunk (0: off)", ge=0, lt=1)
    augment_leads: float = setting(0.0, "probability of random virtual leads (other electrode placements)",
                                   ge=0, le=1)
    augment_single_lead: float = setting(0.0, "probability of one lead copied into every input", ge=0, le=1)
    augment_artefacts: float = setting(0.0, "probability of motion, muscle and wander bursts, mains hum, "
                                            "clipping", ge=0, le=1)
    synthetic: SyntheticEcg = section(SyntheticEcg)


@dataclass
class EcgData(EcgSignals):
    train_records: list[str] = setting(TRAIN, "MIT-BIH records to train on")
    val_records: list[str] = setting(VAL, "records for model selection and the threshold")
    test_records: list[str] = setting(TEST, "records evaluated once at the end")

    def check(self, where: str) -> None:
        if self.source != "mitbih":
            return
        for split in ("train", "val", "test"):
            if not getattr(self, f"{split}_records"):
                raise ConfigError(f"{where}{split}_records is empty",
                                  fix=f"list at least one record, e.g. --set {where}{split}_records=[100]")
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            both = sorted(set(getattr(self, f"{a}_records")) & set(getattr(self, f"{b}_records")))
            if both:
                raise ConfigError(f"record(s) {', '.join(both)} are in both {where}{a}_records and {where}{b}_records; "
                                  "the split must be by record", fix="list each record in one split only")


@dataclass
class Detect:
    threshold: float | Literal["auto"] = setting("auto", "probability threshold for a trigger, or auto (the best "
                                                         "F1 on the validation records)", gt=0, lt=1)
    min_distance_s: float = setting(0.2, "minimum time between two triggers", gt=0)
    twave: float | Literal["auto"] = setting(0.0, "T-wave rule: drop the weaker of two triggers within 360 ms "
                                                  "when below this fraction of the other (0: off; auto: chosen "
                                                  "on the validation records)", ge=0, lt=1)
    searchback: float | Literal["auto"] = setting(0.0, "search-back: in an RR gap over 1.66x the recent median, "
                                                       "accept a peak above this fraction of the threshold (0: off; "
                                                       "auto: chosen on the validation records)", ge=0, lt=1)
    tolerance_s: float = setting(0.15, "a trigger within this of an annotated beat is a hit", gt=0)
    hop: int = setting(512, "window hop when running over whole records", ge=1)
    save_probs: bool = setting(False, "save per-sample probabilities of validation and test records (probs.npz)")


@dataclass
class Plots:
    records: int = setting(4, "test records plotted", ge=0)
    seconds: float = setting(10.0, "seconds shown per plot", gt=0)


@dataclass
class TransformerModel:
    n_layer: int = setting(4, "encoder blocks", ge=1)
    n_head: int = setting(4, "attention heads", ge=1)
    n_embd: int = setting(64, "embedding width", ge=1)
    dropout: float = setting(0.1, "dropout", ge=0, lt=1)
    patch: int = setting(8, "samples per token", ge=1)
    causal: bool = setting(False, "attend to the past only (real-time triggers)")


@dataclass
class GRUModel:
    cell: Literal["gru", "lstm", "rnn"] = setting("gru", "recurrent cell")
    hidden: int = setting(64, "hidden units", ge=1)
    layers: int = setting(2, "stacked layers", ge=1)
    bidirectional: bool = setting(True, "read the signal both ways (not real-time)")
    dropout: float = setting(0.0, "dropout between layers", ge=0, lt=1)
    patch: int = setting(4, "samples per time step", ge=1)


@dataclass
class TCNModel:
    channels: int = setting(32, "channels of every level", ge=1)
    levels: int = setting(8, "dilated levels (dilation doubles per level)", ge=1)
    kernel_size: int = setting(3, "kernel width", ge=2)
    dropout: float = setting(0.0, "dropout", ge=0, lt=1)
    # non-causal: each output sees 1.4 s before and after its sample (4-fold CV F1 0.9941, the
    # causal variant 0.9795: benchmarks/results/ecg_rpeak_cv4*.md); causal=true for real-time triggers
    causal: bool = setting(False, "see the past only (real-time triggers)")


ECG_TRAIN = dict(epochs=10, batch_size=32, optimizer="adamw", lr=1e-3, weight_decay=0.01, schedule="warmup_cosine",
                 warmup_steps=50, clip_grad_norm=1.0, select="val_loss")


@dataclass
class EcgConfig:
    """The ecg-rpeak-tcn recipe's config; the other two replace the model section."""

    seed: int = setting(0, "seed for weights, chunks and augmentation", ge=0)
    data: EcgData = section(EcgData)
    model: TCNModel = section(TCNModel)
    train: TrainConfig = section(TrainConfig, **ECG_TRAIN)
    detect: Detect = section(Detect)
    plots: Plots = section(Plots)


@dataclass
class TransformerConfig(EcgConfig):
    model: TransformerModel = section(TransformerModel)


@dataclass
class GRUConfig(EcgConfig):
    model: GRUModel = section(GRUModel)


def build_model(cfg: EcgConfig, artifacts: dict | None = None) -> torch.nn.Module:
    """The tagger of `cfg.model` for `data.n_leads` leads."""
    from dlcc.models.rnn import RNNTagger
    from dlcc.models.tcn import TCN
    from dlcc.models.transformer import ECGDetector

    m, n_leads = cfg.model, cfg.data.n_leads
    if isinstance(m, TransformerModel):
        return ECGDetector(n_leads, cfg.data.chunk_length, m.n_layer, m.n_head, m.n_embd, m.dropout, m.causal, m.patch)
    if isinstance(m, GRUModel):
        return RNNTagger(n_leads, m.hidden, m.layers, m.cell, m.bidirectional, m.dropout, m.patch)
    return TCN(n_leads, m.channels, m.levels, m.kernel_size, m.dropout, m.causal)
def soft_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of sigmoid(logits) against soft targets in [0, 1], mean over all
    samples (the course's LossTriggerDetection, computed stably from logits). `[B, T]` each."""
    return F.binary_cross_entropy_with_logits(logits, targets)


def synthetic_records(d: EcgSignals, seed: int) -> list:
    """`data.synthetic.records` generated records (`dlcc.data.ecg.Record`, 360 Hz, names syn0, syn1, ...)."""
    from dlcc.data import make_synthetic_ecg
    from dlcc.data.ecg import Record

    recs = []
    for i in range(d.synthetic.records):
        signal, peaks = make_synthetic_ecg(d.synthetic.seconds, fs=360, n_leads=d.n_leads, seed=seed * 1000 + i)
        recs.append(Record(f"syn{i}", signal, 360.0, tuple(f"lead{c}" for c in range(signal.shape[1])),
                           peaks, ("N",) * len(peaks)))
    return recs


def split_records(d: EcgData, seed: int) -> dict[str, list]:
    """{"train": [...], "val": [...], "test": [...]} records (raw, as the data layer gives them)."""
    if d.source == "synthetic":
        recs = synthetic_records(d, seed)
        n = len(recs)
        n_test = max(1, n // 6)
        return {"train": recs[: n - 2 * n_test], "val": recs[n - 2 * n_test: n - n_test], "test": recs[n - n_test:]}
    from dlcc.data import load_mitbih

    return {split: load_mitbih(getattr(d, f"{split}_records")) for split in ("train", "val", "test")}


def record_probs(model, records, window: int, hop: int, device) -> dict[str, np.ndarray]:
    """Per-sample trigger probabilities `[T]` for each prepared record, by name."""
    from dlcc.signals import predict_probs

    return {rec.name: predict_probs(model, rec.signal, window=window, hop=min(hop, window), device=device)
            for rec in records}


def triggers(probs: dict[str, np.ndarray], fs: float, rules) -> dict:
    """Trigger indices per record from probability traces, by `rules` (a `TriggerRules`)."""
    from dlcc.signals.postprocess import detect_triggers

    return {name: detect_triggers(p, fs, rules) for name, p in probs.items()}


def choose_detection(det: Detect, probs: dict, truth: dict, fs: float):
    """(`TriggerRules`, pooled F1): `detect.*` numbers as given; each "auto" (threshold, twave,
    searchback) chosen by the best pooled F1 on the *validation* records (never the test records)."""
    from dlcc.signals.choose import choose_rules

    return choose_rules(probs, truth, fs, threshold=det.threshold, twave=det.twave, searchback=det.searchback,
                        min_distance_s=det.min_distance_s, tolerance_s=det.tolerance_s)


def choose_threshold(det: Detect, probs: dict, truth: dict, fs: float) -> float:
    """`detect.threshold` as a number, or for "auto" the grid value (0.05 ... 0.95) with the best
    pooled F1 on the validation records: the middle of a plateau of equally good values."""
    return choose_detection(det, probs, truth, fs)[0].threshold


def chunk_augment(d: EcgSignals):
    """What `data.augment*` ask for: False, True (gain, drift, noise, lead off) or a `ChunkAugment`."""
    extra = (d.augment_stretch, d.augment_leads, d.augment_single_lead, d.augment_artefacts)
    if not d.augment or not any(extra):
        return d.augment
    from dlcc.signals.augment import ChunkAugment

    return ChunkAugment(d.chunk_length, *extra)


def input_artifacts(d: EcgSignals, det: Detect, fs: float) -> dict:
    """How `dlcc predict` must prepare a recording for this model (saved in model.pt)."""
    return {"fs": fs, "n_leads": d.n_leads, "first_lead": d.first_lead, "window": d.chunk_length, "hop": det.hop}


def _plot_window(truth: np.ndarray, found: np.ndarray, fs: float, tolerance_s: float, length: int, n: int) -> int:
    """Start of the plot window: centred on the first miss or false trigger, else the record start."""
    tol = tolerance_s * fs
    missed = [t for t in truth if not len(found) or np.abs(found - t).min() > tol]
    false = [f for f in found if not len(truth) or np.abs(truth - f).min() > tol]
    errors = sorted(missed + false)
    if not errors:
        return 0
    return int(np.clip(errors[0] - length // 2, 0, max(0, n - length)))


def test_report(model, records: list, rules, cfg: EcgConfig, ctx: RunContext, name: str, device) -> tuple[dict, dict]:
    """Detect on the test records once: (test_* metrics, probability traces by record). Writes
    per_record.json and ecg_test_<record>.png (around the first error)."""
    from dlcc.metrics.events import evaluate_records
    from dlcc.signals import ECGChunks
    from dlcc.signals.plots import plot_triggers
    from dlcc.train import evaluate
    from dlcc.utils.io import write_json

    d, det = cfg.data, cfg.detect
    test_loss = evaluate(model, torch.utils.data.DataLoader(ECGChunks(records, d.chunk_length, d.sigma, "tiled"),
                                                            batch_size=64), soft_bce, device, metrics={})["loss"]
    probs = record_probs(model, records, d.chunk_length, det.hop, device)
    found = triggers(probs, records[0].fs, rules)
    fs = records[0].fs
    truth = {r.name: r.r_peaks for r in records}
    per_record, overall = evaluate_records(truth, found, fs, det.tolerance_s)
    write_json(ctx.out_dir / "per_record.json", {"test": per_record, "overall": overall})
    length = int(cfg.plots.seconds * fs)
    for rec in records[: cfg.plots.records]:
        start = _plot_window(rec.r_peaks, found[rec.name], fs, det.tolerance_s, length, len(rec.signal))
        sc = per_record[rec.name]
        plot_triggers(rec.signal, rec.r_peaks, found[rec.name], ctx.out_dir / f"ecg_test_{rec.name}.png",
                      fs, start, length, rec.leads,
                      title=f"{name} - record {rec.name}, {start / fs:.0f}-{(start + length) / fs:.0f} s: "
                            f"F1 {sc['f1']:.4f} (Se {sc['sensitivity']:.4f}, +P {sc['ppv']:.4f})")
    ctx.log(f"{name}: test F1 {overall['f1']:.4f} (Se {overall['sensitivity']:.4f}, +P {overall['ppv']:.4f}) "
            f"on records {', '.join(truth)}")
    return {"test_f1": overall["f1"], "test_sensitivity": overall["sensitivity"], "test_ppv": overall["ppv"],
            "test_tp": overall["tp"], "test_fp": overall["fp"], "test_fn": overall["fn"], "test_loss": test_loss}, probs


def run(cfg: EcgConfig, ctx: RunContext) -> dict:
    from dlcc.models.transformer import decay_groups
    from dlcc.signals import ECGChunks, prepare_record
    from dlcc.train import Task, train_and_report
    from dlcc.utils.device import choose_device

    device = choose_device(ctx.device)
    d, det = cfg.data, cfg.detect
    raw = split_records(d, cfg.seed)
    prep = {split: [prepare_record(r, d.n_leads, first_lead=d.first_lead) for r in recs] for split, recs in raw.items()}
    L = d.chunk_length
    train_ds = ECGChunks(prep["train"], L, d.sigma, "random", d.chunks_per_record, seed=cfg.seed,
                         augment=chunk_augment(d))
    train_loader = torch.utils.data.DataLoader(train_ds, batch_size=cfg.train.batch_size, shuffle=True,
                                               generator=torch.Generator().manual_seed(cfg.seed))
    val_loader = torch.utils.data.DataLoader(ECGChunks(prep["val"], L, d.sigma, "tiled"), batch_size=64)
    model = build_model(cfg)
    name = ctx.name or "ecg-rpeak"
    ctx.log(f"{name}: records " + "; ".join(f"{s} {', '.join(r.name for r in prep[s])}" for s in ("train", "val", "test")))
    fs = prep["test"][0].fs
    task = Task(model, train_loader, val_loader, soft_bce, metrics={}, param_groups=decay_groups(model, cfg.train.weight_decay),
                title=name, artifacts={"input": input_artifacts(d, det, fs), "detect": {"min_distance_s": det.min_distance_s}})
    chosen: dict = {}

    def validate(model, info):
        val_probs = record_probs(model, prep["val"], L, det.hop, device)
        rules, val_f1 = choose_detection(det, val_probs, {r.name: r.r_peaks for r in prep["val"]}, fs)
        task.artifacts["detect"].update(rules.to_dict())
        chosen.update(rules=rules, val_probs=val_probs)
        return {"val_f1": val_f1, "threshold": rules.threshold}

    def test(model, info):
        metrics, test_probs = test_report(model, prep["test"], chosen["rules"], cfg, ctx, name, device)
        if det.save_probs:   # for re-thresholding and ensembles (benchmarks/bench_ecg.py --ensemble)
            np.savez_compressed(ctx.out_dir / "probs.npz", **{f"val/{k}": v for k, v in chosen["val_probs"].items()},
                                **{f"test/{k}": v for k, v in test_probs.items()})
        return metrics

    return train_and_report(task, cfg.train, ctx, validate=validate, test=test)


RECIPES = [
    Recipe("ecg-rpeak-transformer", "transformer encoder tagger (course ECGDetector) for R-peak triggers",
           "mitbih (or data.source=synthetic)", TransformerConfig, run, build_model, tags=("sequences", "A4"),
           task="ecg-rpeak"),
    Recipe("ecg-rpeak-gru", "bidirectional GRU tagger for R-peak triggers",
           "mitbih (or data.source=synthetic)", GRUConfig, run, build_model, tags=("sequences", "A4"),
           task="ecg-rpeak"),
    Recipe("ecg-rpeak-tcn", "dilated TCN for R-peak triggers (model.causal=true: real-time)",
           "mitbih (or data.source=synthetic)", EcgConfig, run, build_model, tags=("sequences", "A4"),
           task="ecg-rpeak"),
]
