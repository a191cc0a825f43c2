"""Fast adversarial training: train on single-step FGSM examples made from a random start —
FGSM-RS (Wong, Rice & Kolter 2020: start in the ε-ball, step 1.25·ε, projected) or N-FGSM
(de Jorge et al. 2022: noise of 2·ε, step ε, not projected). One extra forward/backward per
batch buys robustness close to that of multi-step PGD training.

`AdversarialBatches` wraps a training loader: each batch it yields is the loader's batch
turned adversarial against the model as it is at that moment. The run helper then trains on
it as on any batch, so optimizer, schedules, checkpoints, exact resume (the random start
draws from torch's RNG, which checkpoints save) and metrics stay as they are; `train_*`
metrics become those on adversarial batches.

    model = CifarFastNet(...)
    train = AdversarialBatches(cifar_train_loader, model, eps=8/255, method="n-fgsm",
                               mean=CIFAR10_MEAN, std=CIFAR10_STD)
    Task(model, train, val, loss)          # through train_and_report as usual
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from torch import nn

from dlcc.attacks.fgsm import fgsm
from dlcc.attacks.gradient import check_eps
from dlcc.errors import InputError

METHODS = ("n-fgsm", "fgsm-rs")


class AdversarialBatches:
    """Yields `(x_adv, y)` for each `(x, y)` of `loader`, `x` normalised as the model takes it.

    Args:
        loader: batches `(x [B, C, H, W] normalised, y [B])`; its `generator`, `len()` and other
            attributes are passed through (the trainer saves the generator for resuming).
        model: the network being trained (its current mode is used: train mode in training).
        eps: L-inf radius in pixel units ([0, 1]).
        method: "fgsm-rs" or "n-fgsm" (see `dlcc.attacks.fgsm`); `alpha` (the step) and `noise`
            (the start's radius) default to the method's: 1.25·ε and ε, or ε and 2·ε.
        mean, std: the per-channel normalisation of `x` (None: `x` is already pixels).
    """

    def __init__(self, loader: Iterable, model: nn.Module, eps: float, method: str = "n-fgsm",
                 alpha: float | None = None, noise: float | None = None,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None):
        from dlcc.models.pixels import PixelInput

        if method not in METHODS:
            raise InputError(f"adversarial training method {method!r} is not one of {', '.join(METHODS)}",
                             fix="use n-fgsm or fgsm-rs")
        self.loader = loader
        self.eps = check_eps(eps)
        n_fgsm = method == "n-fgsm"
        self.alpha = float(alpha) if alpha is not None else self.eps * (1.0 if n_fgsm else 1.25)
        self.noise = float(noise) if noise is not None else self.eps * (2.0 if n_fgsm else 1.0)
        self.project = not n_fgsm
        self.pixel_model = PixelInput(model, mean, std)

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name):   # generator, dataset, epoch, ...: the wrapped loader's
        if name == "loader":
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __iter__(self):
        pm = self.pixel_model.to(next(self.pixel_model.network.parameters()).device)
        for x, y in self.loader:
            pixels = pm.pixels(x)
            adv = fgsm(pm, pixels, y, self.eps, random_start=True, alpha=self.alpha, noise=self.noise,
                       project=self.project)
            yield pm.normalize(adv).to(memory_format=_format(x)), y


def _format(x):
    import torch

    if x.ndim == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format
