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


class ScratchRun:
    """The scratch MLP, trained one epoch at a time (so epochs can interleave with torch's)."""

    def __init__(self, epochs: int, lr: float):
        self.model = mlp(SIZES, rng=0)
        self.opt = SGD(self.model, lr=lr, momentum=0.9, nesterov=True)
        self.sched = CosineAnnealingLR(self.opt, T_max=epochs)

    def epoch(self, x, y, order, batch) -> float:
        start = time.perf_counter()
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            logits = self.model.forward(x[idx])
            _, dlogits = cross_entropy(logits, y[idx])
            self.model.backward(dlogits, input_grad=False)  # torch skips it too: x needs no grad
            self.opt.step()
        self.sched.step()
        return time.perf_counter() - start


def torch_model_like(model) -> torch.nn.Sequential:
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                              torch.nn.ReLU(), torch.nn.Linear(128, 10))
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    return net


class TorchRun:
    """The same network, optimizer and schedule in PyTorch."""

    def __init__(self, net, epochs: int, lr: float):
        self.net = net
        self.opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True)
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, T_max=epochs)
        self.loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(self, x, y, order, batch) -> float:
        start = time.perf_counter()
        order = torch.from_numpy(order)
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = self.loss_fn(self.net(x[idx]), y[idx])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        self.sched.step()
        return time.perf_counter() - start


@torch.no_grad()
def torch_accuracy(net, x, y) -> float:
    return float((net(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=0,
                        help="threads for both NumPy's BLAS and torch (0: each library's default)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "scratch_mlp"))
    args = parser.parse_args()

    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
    train, val, test = prepare()
    perms = orders(len(train[0]), args.epochs)
    scratch_run = ScratchRun(args.epochs, args.lr)
    torch_run = TorchRun(torch_model_like(mlp(SIZES, rng=0)), args.epochs, args.lr)
    xt, yt = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    t_scratch, t_torch = [], []
    # Epochs alternate between the engines so that both see the same machine load.
    for epoch in range(args.epochs):
        t_scratch.append(scratch_run.epoch(*train, perms[epoch], args.batch_size))
        t_torch.append(torch_run.epoch(xt, yt, perms[epoch], args.batch_size))
        print(f"epoch {epoch + 1}: scratch {t_scratch[-1]:.2f} s, torch {t_torch[-1]:.2f} s", flush=True)
    scratch, net = scratch_run.model, torch_run.net

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
              "threads": args.threads or "library defaults"}
    rows = [("dlcc.scratch", med_s, acc["scratch_val"], acc["scratch_test"]),
            ("PyTorch", med_t, acc["torch_val"], acc["torch_test"])]
    table = ["| engine | median epoch (s) | val acc | test acc |", "|---|---|---|---|"]
    table += [f"| {n} | {t:.2f} | {v:.4f} | {te:.4f} |" for n, t, v, te in rows]
    verdict = "met" if med_s / med_t <= 1.2 else "NOT met"
    text = "\n".join([
        f"# Scratch MLP vs PyTorch: MLP {SIZES}, batch {args.batch_size}, {args.epochs} epochs, MNIST 50k/10k/10k",
        "", f"threads (BLAS and torch): {args.threads or 'library defaults'}; epochs interleaved",
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
