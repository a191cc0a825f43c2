"""A2, part (c): train the PyTorch MLP on CIFAR-10.

Run `python a2_pytorch_mlp.py` (options: --help). With the defaults (50 epochs, hidden
300-200-200-200-100, batch 256, SGD lr 0.05 momentum 0.9) the course's target is a test
accuracy above 0.5. The curves go to result/<training_record>.png. Try a few epochs first:
`python a2_pytorch_mlp.py --num_epochs 3`. Check your work with `dlcc course test A2`.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, SubsetRandomSampler
from torchvision import transforms

import util
from dataset import Cifar10Dataset
from model import PytorchMLP, compute_test_accuracy


def train_one_epoch(model: nn.Module, loader, loss_func, optimizer, device="cpu",
                    scheduler=None) -> list[float]:
    """One pass over `loader`, one optimizer step per batch.

    Args:
        model: maps x [B, C, H, W] to logits [B, 10].
        loader: yields (x float32 [B, C, H, W], y int64 [B]).
        loss_func: e.g. nn.CrossEntropyLoss(); loss_func(logits, y) is the mean batch loss.
        optimizer: a torch optimizer over model.parameters().
        scheduler: stepped after every batch when given (OneCycle works per batch).
    Returns:
        the loss of every batch (Python floats), in order.
    """
    model.train()
    losses = []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        # TODO (A2.6): your code here
        # HINT: five lines: forward, loss, zero the old gradients, backward, update
        raise NotImplementedError("A2.6: this part of train_one_epoch() is not implemented yet")
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return losses


def make_loaders(data: dict, batch_size: int, num_val: int = 3000, seed: int = 0) -> dict:
    """Loaders "train", "val", "train_eval" and "test".

    `num_val` training images (a seeded random choice) are held out for validation; training
    batches are flipped left-right at random. "train_eval" reads as many training images as
    "val" without augmentation, to measure training accuracy cheaply each epoch."""
    X, Y = data["train"]
    order = np.random.default_rng(seed).permutation(len(Y))
    val_idx, train_idx = order[:num_val].tolist(), order[num_val:].tolist()
    train_set = Cifar10Dataset(X, Y, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.RandomHorizontalFlip(0.5)]))
    val_set = copy.copy(train_set)          # shares the image array: no second copy in memory
    val_set.transform = transforms.ToTensor()
    test_set = Cifar10Dataset(*data["test"])
    gen = torch.Generator().manual_seed(seed)
    return {"train": DataLoader(train_set, batch_size, sampler=SubsetRandomSampler(train_idx, gen)),
            "val": DataLoader(val_set, 1000, sampler=val_idx),
            "train_eval": DataLoader(val_set, 1000, sampler=train_idx[:num_val]),
            "test": DataLoader(test_set, 1000)}


def run_training(args, data: dict, model: nn.Module | None = None):
    """Train a PytorchMLP with SGD (momentum 0.9, weight decay args.reg).

    Args:
        args: namespace with num_epochs, batch_size, learning_rate, reg, num_hidden_layers,
            num_val, seed, use_gpu.
        data: as returned by util.load_data.
    Returns:
        (model, history): history holds per-epoch lists loss_train (mean batch loss of the
        epoch), loss_val, accu_train (on num_val training images) and accu_val.
    """
    util.set_seed(args.seed)
    device = util.find_device(args.use_gpu)
    loaders = make_loaders(data, args.batch_size, args.num_val, args.seed)
    if model is None:
        model = PytorchMLP(32, 32, 3, args.num_hidden_layers)
    model = model.to(device)
    loss_func = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate, momentum=0.9,
                                weight_decay=args.reg)
    history = {"loss_train": [], "loss_val": [], "accu_train": [], "accu_val": []}
    for epoch in range(args.num_epochs):
        t0 = time.time()
        losses = train_one_epoch(model, loaders["train"], loss_func, optimizer, device)
        loss_val, accu_val = compute_test_accuracy(loaders["val"], model, loss_func, device)
        _, accu_train = compute_test_accuracy(loaders["train_eval"], model, loss_func, device)
        for key, value in (("loss_train", float(np.mean(losses))), ("loss_val", loss_val),
                           ("accu_train", accu_train), ("accu_val", accu_val)):
            history[key].append(value)
        print(f"epoch {epoch + 1}/{args.num_epochs}: loss train {history['loss_train'][-1]:.4f} "
              f"val {loss_val:.4f}, accuracy train {accu_train:.4f} val {accu_val:.4f} "
              f"({time.time() - t0:.1f} s)")
    return model, history


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="A2: a PyTorch MLP on CIFAR-10")
    p.add_argument("--num_epochs", type=int, default=50)
    p.add_argument("--batch_size", type=int, default=256)
    p.add_argument("--learning_rate", type=float, default=0.05)
    p.add_argument("--reg", type=float, default=0.0, help="weight decay")
    p.add_argument("--num_hidden_layers", type=int, nargs="+", default=[300, 200, 200, 200, 100])
    p.add_argument("--num_val", type=int, default=3000)
    p.add_argument("--seed", type=int, default=1234)
    # The course used type=bool, so `--use_gpu False` meant True; a flag is safer.
    p.add_argument("--cpu", dest="use_gpu", action="store_false", help="do not use a GPU")
    p.add_argument("--training_record", default="pytorch_N_layer_MLP")
    return p.parse_args(argv)


def main(argv=None) -> float:
    args = parse_args(argv)
    data = util.load_data()
    model = PytorchMLP(32, 32, 3, args.num_hidden_layers)
    print(f"PytorchMLP {args.num_hidden_layers}: {sum(p.numel() for p in model.parameters()):,} parameters")
    t0 = time.time()
    model, history = run_training(args, data, model)
    test_loader = DataLoader(Cifar10Dataset(*data["test"]), 1000)
    device = util.find_device(args.use_gpu)
    loss_test, accu_test = compute_test_accuracy(test_loader, model, nn.CrossEntropyLoss(), device)
    png = util.plot_curves(history, util.RESULT_DIR / f"{args.training_record}.png", args.training_record)
    print(f"test loss {loss_test:.4f}, test accuracy {accu_test:.4f} (course target > 0.5); "
          f"training took {time.time() - t0:.0f} s; curves: {png}")
    return accu_test


if __name__ == "__main__":
    main()
