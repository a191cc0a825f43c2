"""Accuracy under attack: one row per ε, the numbers behind an accuracy-vs-ε curve.

    attack = make_attack("pgd", steps=20)                    # (model, x, y, eps) -> x_adv
    rows = accuracy_under_attack(model, x, y, [0, 1/255, 4/255, 8/255], attack)
    # [{"eps": 0.0, "accuracy": 0.93, "correct": 930, "n": 1000}, ...]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from dlcc.attacks.fgsm import fgsm
from dlcc.attacks.gradient import Bounds, check_eps
from dlcc.attacks.pgd import pgd
from dlcc.errors import InputError

Attack = Callable[[nn.Module, Tensor, Tensor, float], Tensor]
ATTACKS = ("fgsm", "pgd")


def make_attack(name: str, *, norm: str = "linf", steps: int = 20, restarts: int = 1, alpha: float | None = None,
                random_start: bool = True, bounds: Bounds = (0.0, 1.0),
                generator: torch.Generator | None = None) -> Attack:
    """An attack as `attack(model, x, y, eps) -> x_adv`: "fgsm" (L-inf, one step) or "pgd"."""
    if name == "fgsm":
        if norm != "linf":
            raise InputError(f"FGSM is an L-inf attack; norm={norm!r} needs PGD", fix="use --attack pgd --norm l2")
        return lambda model, x, y, eps: fgsm(model, x, y, eps, bounds=bounds)
    if name == "pgd":
        return lambda model, x, y, eps: pgd(model, x, y, eps, norm=norm, steps=steps, alpha=alpha,
                                            random_start=random_start, restarts=restarts, bounds=bounds,
                                            generator=generator)
    raise InputError(f"unknown attack {name!r}", fix=f"use one of {', '.join(ATTACKS)}")


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, batch_size: int = 256) -> Tensor:
    """Predicted classes `[N]` for inputs `[N, ...]`, in batches."""
    return torch.cat([model(x[i:i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def attack_all(model: nn.Module, x: Tensor, y: Tensor, eps: float, attack: Attack, batch_size: int = 256) -> Tensor:
    """`attack` applied to `x [N, ...]` batch by batch (ε = 0: `x` itself)."""
    if eps == 0:
        return x
    return torch.cat([attack(model, x[i:i + batch_size], y[i:i + batch_size], eps)
                      for i in range(0, len(x), batch_size)])


def accuracy_under_attack(model: nn.Module, x: Tensor, y: Tensor, eps_values: Sequence[float], attack: Attack, *,
                          batch_size: int = 256, norm: str = "linf", bounds: Bounds = (0.0, 1.0),
                          progress: Callable[[str], None] | None = None) -> list[dict]:
    """Accuracy of `model` on `attack(x)` at each ε (ε = 0: clean accuracy), in eval mode.

    Returns one row per ε: `{"eps", "accuracy", "correct", "n"}`.
    """
    eps_values = [check_eps(e, norm, bounds) for e in eps_values]
    was_training = model.training
    model.eval()
    rows = []
    try:
        for eps in eps_values:
            adv = attack_all(model, x, y, eps, attack, batch_size)
            correct = int((predict(model, adv, batch_size) == y).sum())
            rows.append({"eps": eps, "accuracy": correct / len(y), "correct": correct, "n": len(y)})
            if progress:
                progress(f"eps={eps:.4g}: accuracy {correct / len(y):.4f} ({correct}/{len(y)})")
    finally:
        model.train(was_training)
    return rows


