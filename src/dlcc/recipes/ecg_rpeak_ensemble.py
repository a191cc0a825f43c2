"""Recipe `ecg-rpeak-ensemble`: the R-peak detector that `dlcc predict --model ecg-rpeak` ships,
built so that every choice is made on records the choosing model never trained on.

1. `data.records` are split by record into `data.folds` folds (fold k = every folds-th record
   from the k-th). Member k - a non-causal TCN, as `ecg-rpeak-tcn` - trains on the other folds
   with the augmentations of `dlcc.signals.augment` (time stretch, virtual leads, one lead,
   noise and artefact bursts) and keeps the epoch with the lowest loss on fold k.
2. Each record's *out-of-fold* probabilities come from the one member that never saw it. On
   all of them together the threshold and the T-wave and search-back rules
   (`dlcc.signals.postprocess`) are chosen by pooled F1 (`detect.* = auto`).
3. The detector is the mean probability of the members (`dlcc.models.ensemble`), with those
   rules. `data.test_records`, when given, are evaluated once, at the end; the members' own
   test F1 is reported beside the ensemble's (`test_member_f1`, `test_member_counts`), for
   information only.

`benchmarks/bench_ecg_generalise.py` runs this recipe inside each training split of a 4-fold
cross-validation by record (a nested cross-validation); the shipped weights are this recipe
on all 16 records (docs/ecg-rpeak-model.md).

Writes: member<k>/ (each member's curves, history, model.pt), oof.json (the out-of-fold scores
per record and the rule search), model.pt (the ensemble with its rules), metrics.json, and
with test records per_record.json and ecg_test_<record>.png.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.recipes.ecg_rpeak import (ECG_TRAIN, Detect, EcgSignals, Plots, TCNModel, chunk_augment,
                                    choose_detection, input_artifacts, record_probs, soft_bce,
                                    synthetic_records, test_report, triggers)
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import TrainConfig

# the 16 MIT-BIH records in ../shared/data
ALL_RECORDS = ["100", "101", "103", "105", "106", "108", "109", "114", "116", "119", "200", "201", "203",
               "208", "210", "233"]


@dataclass
class EnsembleData(EcgSignals):
    records: list[str] = setting(ALL_RECORDS, "records of the cross-validation (members train and are chosen on them)")
    test_records: list[str] = setting([], "records evaluated once at the end (empty: none)")
    folds: int = setting(4, "members: folds of the cross-validation by record over data.records", ge=2)

    def check(self, where: str) -> None:
        if self.source != "mitbih":
            return
        if len(self.records) < self.folds:
            raise ConfigError(f"{where}records has {len(self.records)} record(s), fewer than {where}folds={self.folds}",
                              fix=f"list at least {self.folds} records, or lower --set {where}folds=...")
        both = sorted(set(self.records) & set(self.test_records))
        if both:
            raise ConfigError(f"record(s) {', '.join(both)} are in both {where}records and {where}test_records; "
                              "the split must be by record", fix="list each record in one of them only")


@dataclass
class EnsembleConfig:
    seed: int = setting(0, "seed for weights, chunks and augmentation (member k uses seed + k)", ge=0)
    data: EnsembleData = section(EnsembleData, augment_stretch=0.15, augment_leads=0.5, augment_single_lead=0.15,
                                 augment_artefacts=0.5)
    model: TCNModel = section(TCNModel)
    train: TrainConfig = section(TrainConfig, **ECG_TRAIN)
    detect: Detect = section(Detect, twave="auto", searchback="auto")
    plots: Plots = section(Plots)


def build_model(cfg: EnsembleConfig, artifacts: dict | None = None) -> torch.nn.Module:
    """`data.folds` TCNs of `cfg.model` averaged (`MeanProbability`)."""
    from dlcc.models.ensemble import MeanProbability
    from dlcc.models.tcn import TCN

    m = cfg.model
    return MeanProbability([TCN(cfg.data.n_leads, m.channels, m.levels, m.kernel_size, m.dropout, m.causal)
                            for _ in range(cfg.data.folds)])


def fold_records(names: list[str], folds: int) -> list[list[str]]:
    """Fold k = names[k::folds] (by record: a record is in exactly one fold)."""
    return [names[k::folds] for k in range(folds)]


def _records(cfg: EnsembleConfig) -> tuple[list, list]:
    """(prepared cross-validation records, prepared test records)."""
    from dlcc.signals import prepare_record

    d = cfg.data
    if d.source == "synthetic":
        raw = synthetic_records(d, cfg.seed)
        n_test = max(1, len(raw) // 6)
        pool, test = raw[: len(raw) - n_test], raw[len(raw) - n_test:]
    else:
        from dlcc.data import load_mitbih

        pool, test = load_mitbih(d.records), load_mitbih(d.test_records) if d.test_records else []
    prep = [prepare_record(r, d.n_leads, first_lead=d.first_lead) for r in pool + test]
    return prep[: len(pool)], prep[len(pool):]


def train_member(k: int, train: list, held_out: list, cfg: EnsembleConfig, ctx: RunContext, device) -> dict:
    """Train member k on `train`, keep its best epoch on `held_out`; returns its metrics with
    "model" and "oof" (probabilities of the held-out records)."""
    from dlcc.models.tcn import TCN
    from dlcc.models.transformer import decay_groups
    from dlcc.signals import ECGChunks
    from dlcc.train import Task, train_and_report
    from dlcc.utils.seed import seed_everything

    d, m, seed = cfg.data, cfg.model, cfg.seed + k
    seed_everything(seed)
    model = TCN(d.n_leads, m.channels, m.levels, m.kernel_size, m.dropout, m.causal)
    L = d.chunk_length
    train_ds = ECGChunks(train, L, d.sigma, "random", d.chunks_per_record, seed=seed, augment=chunk_augment(d))
    loader = torch.utils.data.DataLoader(train_ds, batch_size=cfg.train.batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))
    val = torch.utils.data.DataLoader(ECGChunks(held_out, L, d.sigma, "tiled"), batch_size=64)
    title = f"{ctx.name or 'ecg-rpeak-ensemble'} member {k}"
    sub = dataclasses.replace(ctx, out_dir=ctx.out_dir / f"member{k}", name=title, resume=False)
    sub.out_dir.mkdir(parents=True, exist_ok=True)
    ctx.log(f"{title}: trains on {', '.join(r.name for r in train)}; chosen on {', '.join(r.name for r in held_out)}")
    oof: dict = {}

    def validate(model, info):
        oof.update(record_probs(model, held_out, L, cfg.detect.hop, device))
        return {}

    task = Task(model, loader, val, soft_bce, metrics={}, param_groups=decay_groups(model, cfg.train.weight_decay),
                title=title)
    metrics = train_and_report(task, cfg.train, sub, validate=validate)
    return {**metrics, "model": model, "oof": oof}


def run(cfg: EnsembleConfig, ctx: RunContext) -> dict:
    from dlcc.metrics.events import evaluate_records
    from dlcc.models.ensemble import MeanProbability
    from dlcc.train.run import save_model
    from dlcc.utils.device import choose_device
    from dlcc.utils.io import write_json

    device = choose_device(ctx.device)
    d, det = cfg.data, cfg.detect
    pool, test = _records(cfg)
    by_name = {r.name: r for r in pool}
    folds = fold_records([r.name for r in pool], d.folds)
    members, oof, member_metrics = [], {}, []
    for k, held in enumerate(folds):
        train = [by_name[n] for n in by_name if n not in held]
        result = train_member(k, train, [by_name[n] for n in held], cfg, ctx, device)
        members.append(result.pop("model"))
        oof.update(result.pop("oof"))
        member_metrics.append(result)
    fs = pool[0].fs
    truth = {r.name: r.r_peaks for r in pool}
    rules, oof_f1 = choose_detection(det, oof, truth, fs)
    per_record, _ = evaluate_records(truth, triggers(oof, fs, rules), fs, det.tolerance_s)
    write_json(ctx.out_dir / "oof.json", {"folds": folds, "rules": rules.to_dict(), "f1": oof_f1,
                                          "per_record": per_record})
    ctx.log(f"out-of-fold F1 {oof_f1:.4f} on {len(pool)} records; threshold {rules.threshold:g}, "
            f"T-wave rule {rules.twave:g}, search-back {rules.searchback:g}")
    ensemble = MeanProbability(members).to(device).eval()
    single = "copy" if d.augment and d.augment_single_lead > 0 else "refuse"
    artifacts = {"input": {**input_artifacts(d, det, fs), "single_lead": single},
                 "detect": rules.to_dict(), "members": len(members), "records": [r.name for r in pool]}
    save_model(ctx.out_dir / "model.pt", ensemble, artifacts)
    metrics = {"n_params": sum(p.numel() for p in ensemble.parameters()),
               "train_time_s": sum(m["train_time_s"] for m in member_metrics),
               "fit_cpu_time_s": sum(m.get("fit_cpu_time_s", 0.0) for m in member_metrics),
               "val_f1": oof_f1, "val_loss": float(np.mean([m["val_loss"] for m in member_metrics])),
               "threshold": rules.threshold, "twave": rules.twave, "searchback": rules.searchback,
               "member_best_epoch": [m.get("best_epoch") for m in member_metrics]}
    if test and ctx.evaluate_test:
        test_metrics, _ = test_report(ensemble, test, rules, cfg, ctx, ctx.name or "ecg-rpeak-ensemble", device)
        metrics.update(test_metrics)
        members_scores = [member_test_scores(m, test, rules, cfg, device) for m in members]
        metrics["test_member_f1"] = [s["f1"] for s in members_scores]
        metrics["test_member_counts"] = [[s["tp"], s["fp"], s["fn"]] for s in members_scores]
    return metrics


def member_test_scores(model, test: list, rules, cfg: EnsembleConfig, device) -> dict:
    """One member's pooled test scores with the ensemble's rules (to see what ensembling adds)."""
    from dlcc.metrics.events import evaluate_records

    probs = record_probs(model, test, cfg.data.chunk_length, cfg.detect.hop, device)
    found = triggers(probs, test[0].fs, rules)
    return evaluate_records({r.name: r.r_peaks for r in test}, found, test[0].fs, cfg.detect.tolerance_s)[1]


RECIPE = Recipe("ecg-rpeak-ensemble", "cross-validated TCN ensemble for R peaks on unseen recordings "
                                      "(the detector `dlcc predict --model ecg-rpeak` ships)",
                "mitbih (or data.source=synthetic)", EnsembleConfig, run, build_model,
                tags=("sequences",), resumable=False, lightning=False, task="ecg-rpeak")
