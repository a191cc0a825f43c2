"""The same MLP (784-256-128-10, batch 128) trained in dlcc.scratch and in PyTorch on MNIST.

Both start from identical weights, see the same batches in the same order, and use the same
optimizer (SGD, Nesterov momentum 0.9, cosine schedule), in one process on the CPU. Prints a
table of per-epoch time and accuracies and writes it, with machine info, to
benchmarks/results/scratch_mlp.md (and .json).

    DLCC_DATA=../shared/data python benchmarks/bench_scratch_mlp.py --epochs 15

Target (issue 4): scratch epoch time <= 1.2x PyTorch's; best scratch test accuracy >= 0.98.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, machine_markdown  # noqa: E402

from dlcc.data import load_mnist  # noqa: E402
from dlcc.recipes.mlp_numpy import split_train_val, standardize  # noqa: E402
from dlcc.scratch.fit import evaluate  # noqa: E402
from dlcc.scratch.losses import cross_entropy  # noqa: E402
from dlcc.scratch.models import mlp  # noqa: E402
from dlcc.scratch.optim import SGD  # noqa: E402
from dlcc.scratch.schedules import CosineAnnealingLR  # noqa: E402

SIZES = [784, 256, 128, 10]


def prepare():
    raw = load_mnist()
    (x, y), (xt, yt) = raw["train"], raw["test"]
    x = x.reshape(len(x), -1).astype(np.float32)
    xt = xt.reshape(len(xt), -1).astype(np.float32)
    (xtr, ytr), (xv, yv) = split_train_val(x, y.astype(np.int64), 10000, seed=0)
    (xtr, xv, xt), _ = standardize(xtr, xv, xt)
    return (xtr, ytr), (xv, yv), (xt, yt.astype(np.int64))


def orders(n: int, epochs: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


def train_scratch(train, epochs, batch, lr, perms):
    model = mlp(SIZES, rng=0)
    opt = SGD(model, lr=lr, momentum=0.9, nesterov=True)
    sched = CosineAnnealingLR(opt, T_max=epochs)
    x, y = train
    times = []
    for epoch in range(epochs):
        start = time.perf_counter()
        order = perms[epoch]
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            logits = model.forward(x[idx])
            _, dlogits = cross_entropy(logits, y[idx])
            model.backward(dlogits, input_grad=False)  # torch skips it too: x needs no grad
            opt.step()
        sched.step()
        times.append(time.perf_counter() - start)
    return model, times


def torch_model_like(model) -> torch.nn.Sequential:
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                              torch.nn.ReLU(), torch.nn.Linear(128, 10))
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    return net


def train_torch(net, train, epochs, batch, lr, perms):
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    x, y = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for epoch in range(epochs):
        start = time.perf_counter()
        order = torch.from_numpy(perms[epoch])
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = loss_fn(net(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        times.append(time.perf_counter() - start)
    return times


@torch.no_grad()
def torch_accuracy(net, x, y) -> float:
    return float((net(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "scratch_mlp"))
    args = parser.parse_args()

    train, val, test = prepare()
    perms = orders(len(train[0]), args.epochs)
    scratch, t_scratch = train_scratch(train, args.epochs, args.batch_size, args.lr, perms)
    net = torch_model_like(mlp(SIZES, rng=0))
    t_torch = train_torch(net, train, args.epochs, args.batch_size, args.lr, perms)

    # The first epoch of each includes warm-up (page faults, allocator, BLAS threads): use the median.
    med_s, med_t = float(np.median(t_scratch)), float(np.median(t_torch))
    scratch.eval()
    acc = {
        "scratch_val": evaluate(scratch, cross_entropy, *val)["accuracy"],
        "scratch_test": evaluate(scratch, cross_entropy, *test)["accuracy"],
        "torch_val": torch_accuracy(net.eval(), *val),
        "torch_test": torch_accuracy(net, *test),
    }
    result = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
              "scratch_epoch_s": t_scratch, "torch_epoch_s": t_torch,
              "scratch_median_epoch_s": med_s, "torch_median_epoch_s": med_t,
              "ratio_scratch_over_torch": med_s / med_t, **acc, "machine": machine_info(),
              "numpy_threads_note": "NumPy uses OpenBLAS with its default threads; torch its default threads"}
    rows = [("dlcc.scratch", med_s, acc["scratch_val"], acc["scratch_test"]),
            ("PyTorch", med_t, acc["torch_val"], acc["torch_test"])]
    table = ["| engine | median epoch (s) | val acc | test acc |", "|---|---|---|---|"]
    table += [f"| {n} | {t:.2f} | {v:.4f} | {te:.4f} |" for n, t, v, te in rows]
    verdict = "met" if med_s / med_t <= 1.2 else "NOT met"
    text = "\n".join([
        f"# Scratch MLP vs PyTorch: MLP {SIZES}, batch {args.batch_size}, {args.epochs} epochs, MNIST 50k/10k/10k",
        "", *table, "",
        f"time ratio scratch / torch: **{med_s / med_t:.2f}x** (target <= 1.2x: {verdict}); "
        f"best scratch test accuracy {acc['scratch_test']:.4f} (target >= 0.98: "
        f"{'met' if acc['scratch_test'] >= 0.98 else 'NOT met'})",
        "", f"load average at the end: {open('/proc/loadavg').read().split()[:3]}",
        "", "## Machine", machine_markdown(), ""])
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    if not math.isfinite(med_s):
        sys.exit(1)


if __name__ == "__main__":
    main()
