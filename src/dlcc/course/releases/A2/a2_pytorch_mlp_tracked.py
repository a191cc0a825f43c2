"""A2, part (d): optimizers, learning-rate schedules and experiment tracking.

The 2021 course logged to Weights & Biases, which needs an account and a network. Here the
same calls go through `dlcc.track`, which writes locally and offline:

    python a2_pytorch_mlp_tracked.py --tracker tb        # TensorBoard (default)
    tensorboard --logdir result/runs                     # then open http://localhost:6006
    python a2_pytorch_mlp_tracked.py --tracker jsonl     # one JSON record per line
    python a2_pytorch_mlp_tracked.py --scheduler one_cycle --optimizer sgd --epochs 30

Other trackers: mlflow, wandb (offline mode, no account), none. Every run gets its own
folder result/runs/<time>-<scheduler>/. Check your work with `dlcc course test A2`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

import util
from a2_pytorch_mlp import make_loaders, train_one_epoch
from model import PytorchMLP, compute_test_accuracy

CONFIG_DEFAULTS = {"seed": 12345, "epochs": 50, "batch_size": 256, "learning_rate": 0.05,
                   "optimizer": "sgd", "num_hidden_layers": [300, 200, 200, 200, 100],
                   "scheduler": "step", "reg": 0.001, "num_val": 3000}


def make_optimizer(config: dict, params) -> torch.optim.Optimizer:
    """The course's optimizers, chosen by config["optimizer"].

    "sgd": SGD with lr = config["learning_rate"], momentum 0.9, weight_decay = config["reg"].
    "adam": Adam with the same lr and weight decay, betas (0.9, 0.999), eps 1e-8.
    Anything else: raise ValueError naming the value.
    """
    # TODO (A2.7): your code here
    # HINT: torch.optim.SGD(params, lr=..., momentum=..., weight_decay=...) and torch.optim.Adam
    raise NotImplementedError("A2.7: this part of make_optimizer() is not implemented yet")


def make_scheduler(config: dict, optimizer, steps_per_epoch: int):
    """The course's learning-rate schedules, chosen by config["scheduler"].

    "step": StepLR, halving the learning rate every 10 epochs; stepped once per epoch.
    "one_cycle": OneCycleLR over config["epochs"] epochs of `steps_per_epoch` batches, with
        max_lr 0.2, pct_start 0.3, cosine annealing, momentum cycled between 0.85 and 0.95,
        div_factor 50 (start at 0.2 / 50) and final_div_factor 1e4; stepped once per batch.
    Anything else: raise ValueError naming the value.

    Returns:
        (scheduler, interval) with interval "epoch" or "batch": when to call scheduler.step().
    """
    # TODO (A2.7): your code here
    # HINT: torch.optim.lr_scheduler.StepLR and torch.optim.lr_scheduler.OneCycleLR
    raise NotImplementedError("A2.7: this part of make_scheduler() is not implemented yet")


def run_training(config: dict, data: dict, tracker, model: nn.Module | None = None):
    """Train a PytorchMLP with the chosen optimizer and schedule, logging to `tracker`.

    Args:
        config: keys as in CONFIG_DEFAULTS.
        data: as returned by util.load_data.
        tracker: a dlcc.track Tracker (log_params, log_metrics(metrics, step), close). Its
            `step` is always the number of batches trained so far, as in dlcc's own training
            loop, so batch-level and epoch-level curves share one x axis.
    Returns:
        (model, history) with per-epoch lists loss_train, loss_val, accu_train, accu_val, lr
        and step (batches trained by the end of the epoch).
    """
    util.set_seed(config["seed"])
    loaders = make_loaders(data, config["batch_size"], config["num_val"], config["seed"])
    if model is None:
        model = PytorchMLP(32, 32, 3, config["num_hidden_layers"])
    loss_func = nn.CrossEntropyLoss()
    optimizer = make_optimizer(config, model.parameters())
    scheduler, interval = make_scheduler(config, optimizer, len(loaders["train"]))
    history = {"loss_train": [], "loss_val": [], "accu_train": [], "accu_val": [], "lr": [], "step": []}
    step = 0
    for epoch in range(config["epochs"]):
        t0 = time.time()
        lr = optimizer.param_groups[0]["lr"]  # the learning rate this epoch starts with
        losses = train_one_epoch(model, loaders["train"], loss_func, optimizer,
                                 scheduler=scheduler if interval == "batch" else None)
        for loss in losses:  # the course logged "batch loss" at every step
            step += 1
            tracker.log_metrics({"batch_loss": loss}, step=step)
        if interval == "epoch":
            scheduler.step()
        loss_val, accu_val = compute_test_accuracy(loaders["val"], model, loss_func)
        _, accu_train = compute_test_accuracy(loaders["train_eval"], model, loss_func)
        loss_train = float(np.mean(losses))
        # TODO (A2.8): your code here
        # HINT: one tracker.log_metrics({...}, step=step) call per epoch with the keys epoch
        # HINT: (counted from 1), loss_train, loss_val, accu_train, accu_val and lr, at the same
        # HINT: step as the batch losses (batches trained so far); then append them to history
        raise NotImplementedError("A2.8: this part of run_training() is not implemented yet")
        history["step"].append(step)
        print(f"epoch {epoch + 1}/{config['epochs']}: lr {lr:.4g}, loss train {loss_train:.4f} "
              f"val {loss_val:.4f}, accuracy train {accu_train:.4f} val {accu_val:.4f} "
              f"({time.time() - t0:.1f} s)")
    return model, history


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="A2: PyTorch MLP with schedules and tracking")
    for key, value in CONFIG_DEFAULTS.items():
        if isinstance(value, list):
            p.add_argument(f"--{key}", type=int, nargs="+", default=value)
        else:
            p.add_argument(f"--{key}", type=type(value), default=value)
    p.add_argument("--tracker", default="tb", help="tb | jsonl | mlflow | wandb | none")
    return p.parse_args(argv)


def main(argv=None) -> float:
    from dlcc.track import make_tracker
    from torch.utils.data import DataLoader

    from dataset import Cifar10Dataset

    args = parse_args(argv)
    config = {k: getattr(args, k) for k in CONFIG_DEFAULTS}
    run_dir = util.RESULT_DIR / "runs" / f"{time.strftime('%Y%m%d_%H%M%S')}-{config['scheduler']}"
    tracker = make_tracker(args.tracker, run_dir, run_dir.name, config)
    try:
        data = util.load_data()
        model, history = run_training(config, data, tracker)
        loss_test, accu_test = compute_test_accuracy(DataLoader(Cifar10Dataset(*data["test"]), 1000),
                                                     model, nn.CrossEntropyLoss())
        # the test split is evaluated once, after training, and logged apart
        tracker.log_metrics({"loss_test": loss_test, "accu_test": accu_test}, step=history["step"][-1])
        png = util.plot_curves(history, run_dir / "curves.png", run_dir.name)
        tracker.log_figure("curves", png, step=history["step"][-1])
    finally:
        tracker.close()
    print(f"test accuracy {accu_test:.4f}; logs in {run_dir}")
    return accu_test


if __name__ == "__main__":
    main()
