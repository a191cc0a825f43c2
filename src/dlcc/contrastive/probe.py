"""The linear probe: how good are an encoder's features, with the encoder frozen?

    train_h = extract_features(encoder, train_images, prepare)      # [N, F]
    result = probe_accuracy(train_h, train_y, test_h, test_y)       # {"accuracy", "weight_decay", ...}

A multinomial logistic regression on standardised features, fitted full-batch with L-BFGS
(a convex problem: one solution per weight decay, no learning rate to tune). The weight decay
is chosen on a validation split carved from the *training* features; the probe is then refitted
on all training features with it and scored once on the test features. The test split never
chooses anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.errors import ConfigError

WEIGHT_DECAYS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)


@torch.no_grad()
def extract_features(encoder: nn.Module, images: Tensor, prepare: Callable[[Tensor], Tensor],
                     batch_size: int = 1000) -> Tensor:
    """`encoder(prepare(images))` in eval mode, a batch at a time: `[N, ...]` -> `[N, F]` float32 (CPU).
    The encoder's train/eval mode is restored afterwards."""
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    try:
        out = [encoder(prepare(images[i:i + batch_size].to(device))).float().cpu()
               for i in range(0, len(images), batch_size)]
    finally:
        encoder.train(was_training)
    return torch.cat(out)


class LinearProbe:
    """Logistic regression `[N, F] -> K` classes with an L2 penalty `weight_decay/2 · ||W||²`.

    `fit` standardises the features with the training mean/std (kept for `predict`)."""

    def __init__(self, weight_decay: float = 1e-4, max_iter: int = 200):
        self.weight_decay, self.max_iter = float(weight_decay), int(max_iter)

    def fit(self, x: Tensor, y: Tensor, num_classes: int | None = None) -> "LinearProbe":
        x = x.double()
        self.mean, self.std = x.mean(0), x.std(0).clamp_min(1e-6)
        xs = (x - self.mean) / self.std
        k = int(num_classes or int(y.max()) + 1)
        self.linear = nn.Linear(x.shape[1], k).double()
        nn.init.zeros_(self.linear.weight), nn.init.zeros_(self.linear.bias)
        opt = torch.optim.LBFGS(self.linear.parameters(), lr=1, max_iter=self.max_iter, history_size=20,
                                line_search_fn="strong_wolfe", tolerance_grad=1e-6, tolerance_change=1e-9)

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(self.linear(xs), y) + 0.5 * self.weight_decay * self.linear.weight.pow(2).sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            opt.step(closure)
        return self

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        """Class indices `[N]`."""
        return self.linear((x.double() - self.mean) / self.std).argmax(1)

    def score(self, x: Tensor, y: Tensor) -> float:
        """Accuracy on `(x, y)`."""
        return float((self.predict(x) == y).double().mean())


def probe_accuracy(train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor,
                   weight_decays: Sequence[float] = WEIGHT_DECAYS, val_fraction: float = 0.1,
                   seed: int = 0, max_iter: int = 200) -> dict:
    """Choose the weight decay on a validation split of the training features, refit on all of
    them, score the test features once.

    Returns:
        {"accuracy": test accuracy, "weight_decay": the chosen one, "val_accuracy": its
        validation accuracy, "val_by_weight_decay": {wd: val accuracy}}.
    """
    n = len(train_y)
    n_val = int(round(n * val_fraction))
    if not 0 < n_val < n or not weight_decays:
        raise ConfigError(f"the probe needs a validation split of 1..{n - 1} of {n} training examples "
                          f"(val_fraction={val_fraction}) and a weight decay to try",
                          fix="use more training examples or val_fraction=0.1")
    order = torch.from_numpy(np.random.default_rng(seed).permutation(n))
    val, fit = order[:n_val], order[n_val:]
    k = int(max(int(train_y.max()), int(test_y.max()))) + 1
    scores = {float(wd): LinearProbe(wd, max_iter).fit(train_x[fit], train_y[fit], k).score(train_x[val], train_y[val])
              for wd in weight_decays}
    best = max(scores, key=lambda wd: (scores[wd], wd))   # ties: the stronger penalty
    probe = LinearProbe(best, max_iter).fit(train_x, train_y, k)
    return {"accuracy": probe.score(test_x, test_y), "weight_decay": best, "val_accuracy": scores[best],
            "val_by_weight_decay": scores}
