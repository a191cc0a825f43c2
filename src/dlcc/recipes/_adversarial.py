"""Adversarial training and robust accuracy for the CIFAR-10 recipes (`adversarial.*` settings).

`--set adversarial.enabled=true` trains on single-step FGSM examples from a random start
(`adversarial.method`: N-FGSM, de Jorge et al. 2022, or FGSM-RS, Wong et al. 2020;
`dlcc.attacks.AdversarialBatches`), and the test report adds the accuracy under a PGD
attack (L-inf, `adversarial.test_steps` steps, random start) on a seeded subset of the test
images, next to the clean accuracy on the same images. `adversarial.evaluate=true` reports it
for a standard-trained model too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlcc.config import setting
from dlcc.errors import ConfigError


@dataclass
class Adversarial:
    enabled: bool = setting(False, "fast adversarial training on single-step attacks from a random start")
    method: Literal["n-fgsm", "fgsm-rs"] = setting("n-fgsm", "n-fgsm: noise 2 eps, step eps, not projected (de Jorge "
                                                             "et al. 2022); fgsm-rs: start in the eps-ball, step 1.25 "
                                                             "eps, projected (Wong et al. 2020)")
    eps: float = setting(8 / 255, "L-inf radius in pixel units (8/255 = 0.0314 is eight grey levels)", gt=0, le=1)
    alpha: float | None = setting(None, "the attack's step in pixel units (null: the method's, eps or 1.25 eps)",
                                  gt=0, le=1)
    evaluate: bool = setting(False, "report PGD robust test accuracy also without adversarial training")
    test_images: int = setting(1000, "test images attacked for test_pgd_accuracy", ge=1)
    test_steps: int = setting(20, "PGD steps of the robust test accuracy (step 2.5 eps / steps)", ge=1)
    monitor_images: int = setting(0, "also measure PGD accuracy on this many test images at every evaluation "
                                     "(a robustness curve; nothing is selected on it; 0: off)", ge=0)

    def check(self, where: str) -> None:
        if self.alpha is not None and self.alpha > 2 * self.eps:
            raise ConfigError(f"{where}alpha={self.alpha:g} is more than twice {where}eps={self.eps:g}: the step "
                              "would leave the eps-ball from any start",
                              fix=f"--set {where}alpha={1.25 * self.eps:.4g}")


def adversarial_loader(loader, model: torch.nn.Module, adv: Adversarial):
    """`loader`, or its batches made adversarial when `adv.enabled`."""
    if not adv.enabled:
        return loader
    from dlcc.attacks import AdversarialBatches
    from dlcc.data.cifar_gpu import CIFAR10_MEAN, CIFAR10_STD

    return AdversarialBatches(loader, model, adv.eps, adv.method, adv.alpha, mean=CIFAR10_MEAN, std=CIFAR10_STD)


class RobustSubset:
    """A seeded subset of the test images (pixels in [0, 1]) and the PGD attack on them."""

    def __init__(self, model: torch.nn.Module, loaders: dict, adv: Adversarial, seed: int, n: int):
        from dlcc.data.cifar_gpu import CIFAR10_MEAN, CIFAR10_STD
        from dlcc.models.pixels import PixelInput

        images, labels = loaders["test_images"], loaders["test"].labels.cpu()
        keep = np.sort(np.random.default_rng(seed + 2).permutation(len(labels))[:n])
        device = next(model.parameters()).device
        self.x = torch.from_numpy(np.ascontiguousarray(images[keep])).permute(0, 3, 1, 2).float().div(255).to(device)
        self.y = labels[torch.from_numpy(keep)].to(device)
        self.model = PixelInput(model, CIFAR10_MEAN, CIFAR10_STD).to(device)
        self.adv, self.seed = adv, seed

    def accuracies(self) -> tuple[float, float]:
        """(clean, PGD) accuracy; the random starts are seeded the same way every time."""
        from dlcc.attacks import accuracy_under_attack, make_attack

        generator = torch.Generator(self.x.device).manual_seed(self.seed)
        attack = make_attack("pgd", steps=self.adv.test_steps, generator=generator)
        rows = accuracy_under_attack(self.model, self.x, self.y, [0.0, self.adv.eps], attack, batch_size=500)
        return rows[0]["accuracy"], rows[1]["accuracy"]


def robust_monitors(model: torch.nn.Module, loaders: dict, adv: Adversarial, seed: int, ctx) -> list:
    """An `EvalMonitor` of PGD accuracy on `adv.monitor_images` test images at every evaluation
    (outside the training clock; nothing is selected on it), when that is > 0."""
    if not adv.monitor_images or not ctx.evaluate_test:
        return []
    from dlcc.train import EvalMonitor

    subset = RobustSubset(model, loaders, adv, seed, adv.monitor_images)
    return [EvalMonitor(lambda: subset.accuracies()[1], key="test_pgd_accuracy")]


def robust_report(model: torch.nn.Module, loaders: dict, adv: Adversarial, seed: int, log=None,
                  monitors: list = ()) -> dict:
    """`test_pgd_accuracy` and `test_pgd_clean_accuracy` on `adv.test_images` seeded test images
    (empty unless `adv.enabled` or `adv.evaluate`), and `test_pgd_curve` from a robust monitor."""
    if not (adv.enabled or adv.evaluate):
        return {}
    clean, robust = RobustSubset(model, loaders, adv, seed, adv.test_images).accuracies()
    if log:
        log(f"PGD-{adv.test_steps} at eps={adv.eps:.4g} on {adv.test_images} test images: accuracy {robust:.4f} "
            f"(clean {clean:.4f})")
    out = {"test_pgd_accuracy": robust, "test_pgd_clean_accuracy": clean, "test_pgd_eps": adv.eps,
           "test_pgd_steps": adv.test_steps, "test_pgd_images": min(adv.test_images, len(loaders["test"].labels))}
    for monitor in monitors:
        if getattr(monitor, "key", "") == "test_pgd_accuracy":
            out["test_pgd_curve"] = monitor.points
    return out
