"""A4, trigger detection: find the R wave of every heartbeat in a 2-lead ECG.

A cardiac MR scanner waits for the R wave (the "trigger") of each beat. The model reads a
chunk of ECG and gives, for every sample, the probability that it is a trigger; peak picking
turns that trace into trigger times. Detections within 150 ms of an annotated beat count as
found (sensitivity, positive predictivity and F1).

    python a4_ecg_trigger_detection.py                        # MIT-BIH, CPU-sized model (minutes)
    python a4_ecg_trigger_detection.py --source synthetic     # generated ECG, no data needed
    python a4_ecg_trigger_detection.py --n_layer 8 --n_head 8 --n_embd 256 --seq_length 1024 \\
        --num_epochs 10 --seconds 0                           # the course's model (a GPU helps)

Plots of test records with annotated (red) and detected (blue) triggers and the loss curves
go to result/ecg/. Check your work with `dlcc course test A4`.
"""

from __future__ import annotations

import argparse
import copy
import math
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

import util
from ecgdataset import ECGDataset
from transformer import ECGDetector, LossTriggerDetection


def train_one_epoch(model: nn.Module, loader, loss_func, optimizer, clip: float = 1.0, scheduler=None,
                    device="cpu") -> list[float]:
    """One pass over `loader`; one optimizer step per batch, with gradient clipping.

    Args:
        loader: yields (x [B, L, C], y [B, L], where) batches, as from an ECGDataset.
        loss_func: loss_func(logits, y) -> scalar tensor (e.g. LossTriggerDetection()).
        clip: rescale the gradients so that their overall norm (all parameters together) is
            at most `clip` before each step (torch.nn.utils.clip_grad_norm_).
        scheduler: stepped after every batch when given.
    Returns:
        the loss of every batch (Python floats), in order.
    """
    model.train()
    losses = []
    for x, y, _ in loader:
        x, y = x.to(device), y.to(device)
        # TODO (A4.7): your code here
        # HINT: forward, loss, zero_grad, backward, clip the gradient norm, step
        raise NotImplementedError("A4.7: this part of train_one_epoch() is not implemented yet")
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return losses


def find_triggers(probs: np.ndarray, p_thresh: float = 0.75, d_thresh: int = 10) -> np.ndarray:
    """Peak picking on a probability trace (the course's adaptive_trigger_finding).

    A sample i is a candidate when probs[i] > p_thresh and probs[i] is the largest value within
    2 samples on either side (probs[i] >= probs[j] for |i - j| <= 2). Candidates closer than
    d_thresh samples compete: take candidates from the most to the least probable (the earlier
    one first on a tie) and keep each one that is at least d_thresh samples from every
    candidate kept before it.

    Args:
        probs: [T] floats in [0, 1].
    Returns:
        int64 array of the kept sample indices, ascending.
    """
    probs = np.asarray(probs, dtype=np.float64)
    # TODO (A4.8): your code here
    # HINT: np.argsort(-probs[candidates], kind="stable") orders by probability, ties by index
    raise NotImplementedError("A4.8: this part of find_triggers() is not implemented yet")
    return triggers


@torch.no_grad()
def evaluate(model: nn.Module, loader, loss_func, device="cpu") -> float:
    """Mean loss over the batches of `loader`."""
    model.eval()
    losses = [loss_func(model(x.to(device)), y.to(device)).item() for x, y, _ in loader]
    model.train()
    return float(np.mean(losses)) if losses else float("nan")


def warmup_cosine(optimizer, warmup_steps: int, total_steps: int, floor: float = 0.1):
    """Linear warm-up to the optimizer's lr, then cosine decay to floor * lr (per step)."""
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def run_training(args, train_records: list[dict], val_records: list[dict], model: nn.Module | None = None):
    """Train an ECGDetector on chunks of `train_records` with soft targets; keep the weights of
    the epoch with the lowest validation loss. Returns (model, history)."""
    util.set_seed(args.seed)
    device = util.find_device(args.use_gpu)
    smooth = util.SmoothingTrigger(args.sigma)
    train_set = ECGDataset(train_records, args.seq_length, args.num_starts, smooth, seed=args.seed)
    val_set = ECGDataset(val_records, args.seq_length, 1, smooth, seed=args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train_set, args.batch_size, shuffle=True, generator=gen)
    val_loader = DataLoader(val_set, args.batch_size)
    if model is None:
        model = ECGDetector(C=train_records[0]["signal"].shape[1], T=args.seq_length, n_layer=args.n_layer,
                            n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout)
    model = model.to(device)
    loss_func = LossTriggerDetection()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=args.reg)
    total = args.num_epochs * len(train_loader)
    scheduler = warmup_cosine(optimizer, min(args.warmup_steps, max(1, total // 10)), total)
    history = {"loss_train": [], "loss_val": []}
    best, best_loss = copy.deepcopy(model.state_dict()), float("inf")
    for epoch in range(args.num_epochs):
        t0 = time.time()
        losses = train_one_epoch(model, train_loader, loss_func, optimizer, args.clip, scheduler, device)
        loss_val = evaluate(model, val_loader, loss_func, device) if len(val_set) else float("nan")
        history["loss_train"].append(float(np.mean(losses)))
        history["loss_val"].append(loss_val)
        if not loss_val >= best_loss:  # also true for NaN (no validation data): keep the last
            best, best_loss = copy.deepcopy(model.state_dict()), loss_val
        print(f"epoch {epoch + 1}/{args.num_epochs}: loss train {history['loss_train'][-1]:.4f}, "
              f"val {loss_val:.4f} ({len(train_loader)} batches, {time.time() - t0:.1f} s)")
    model.load_state_dict(best)
    return model, history


def detect(model: nn.Module, signal: np.ndarray, window: int, p_thresh: float = 0.5,
           d_thresh: int = int(0.2 * util.FS)) -> np.ndarray:
    """Trigger samples of a whole record [T, C]: probabilities from the model on overlapping
    windows, then find_triggers (at least 200 ms between two heartbeats by default)."""
    return find_triggers(util.predict_probs(model, signal, window), p_thresh, d_thresh)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="A4: ECG trigger (R-peak) detection with a transformer")
    p.add_argument("--source", choices=["mitbih", "synthetic"], default="mitbih")
    p.add_argument("--seconds", type=float, default=300, help="use the first SECONDS of each record (0: all)")
    p.add_argument("--seq_length", type=int, default=256)
    p.add_argument("--num_starts", type=int, default=2)
    p.add_argument("--sigma", type=float, default=2.0)
    p.add_argument("--n_layer", type=int, default=2)
    p.add_argument("--n_head", type=int, default=2)
    p.add_argument("--n_embd", type=int, default=32)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--num_epochs", type=int, default=5)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--learning_rate", type=float, default=3e-3)
    p.add_argument("--reg", type=float, default=0.1, help="AdamW weight decay")
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--warmup_steps", type=int, default=100)
    p.add_argument("--p_thresh", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--cpu", dest="use_gpu", action="store_false")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    seconds = args.seconds or None
    if args.source == "mitbih":
        split = {k: util.load_records("mitbih", names, seconds=seconds) for k, names in util.MITBIH_SPLIT.items()}
    else:
        split = {"train": util.load_records("synthetic", seconds=seconds or 60, n_synthetic=4, seed=0),
                 "val": util.load_records("synthetic", seconds=seconds or 60, n_synthetic=1, seed=10),
                 "test": util.load_records("synthetic", seconds=seconds or 60, n_synthetic=2, seed=20)}
    model, history = run_training(args, split["train"], split["val"])
    out = util.RESULT_DIR / "ecg"
    scores = {}
    device = util.find_device(args.use_gpu)
    model = model.to("cpu") if device.type != "cpu" else model
    for record in split["test"]:
        found = detect(model, record["signal"], args.seq_length, args.p_thresh)
        scores[record["name"]] = util.detection_scores(record["r_peaks"], found)
        s = scores[record["name"]]
        print(f"record {record['name']}: sensitivity {s['sensitivity']:.4f}, positive predictivity "
              f"{s['ppv']:.4f}, F1 {s['f1']:.4f}")
        ten = 10 * util.FS
        util.plot_ecg_waves(record["signal"][:ten], record["r_peaks"][record["r_peaks"] < ten],
                            found[found < ten], out / f"ecg_test_{record['name']}.png", f"record {record['name']}")
    from dlcc.metrics.events import pooled_scores

    overall = pooled_scores(scores)
    print(f"all test records: sensitivity {overall['sensitivity']:.4f}, positive predictivity "
          f"{overall['ppv']:.4f}, F1 {overall['f1']:.4f}")
    util.plot_training_loss(history, out / "plot_training_loss.png", "ECG trigger detection")
    print(f"plots in {out}")
    return overall


if __name__ == "__main__":
    main()
