"""What the classification recipes share: an MLP section, and the one-time test report.

Protocol (every classifier): the kept weights are selected on the validation split
(`train.select`), then the test split is evaluated once and gives `test_accuracy`,
`test_loss`, per-class accuracy and confusion.png (with images: top_losses.png, the
highest-loss test images).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from dlcc.config import setting
from dlcc.recipes._figures import plot_confusion, plot_top_losses

Activation = Literal["relu", "leaky_relu", "gelu", "tanh", "sigmoid", "elu", "silu"]


@dataclass
class MLPModel:
    hidden: list[int] = setting([256, 256, 256], "hidden layer sizes", ge=1)
    activation: Activation = setting("relu", "activation after each hidden layer")
    dropout: float = setting(0.0, "dropout after each hidden activation", ge=0, lt=1)
    batchnorm: bool = setting(False, "BatchNorm1d between each hidden Linear and its activation")


def build_mlp(m: MLPModel, in_features: int, num_classes: int = 10) -> nn.Module:
    from dlcc.models.mlp import MLP

    return MLP(in_features, m.hidden, num_classes, activation=m.activation, dropout=m.dropout,
               batchnorm=m.batchnorm)


@torch.no_grad()
def predict_logits(model: nn.Module, loader, tta: bool = False, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits `[N, K]` float32 and targets `[N]` on the CPU; with `tta`, the mean of the logits
    of each image and its mirror image (horizontal flip)."""
    was_training = model.training
    model.eval()
    outs, targets = [], []
    try:
        for x, y in loader:
            if device is not None:
                x = x.to(device)
            out = model(x).float()
            if tta:
                out = 0.5 * (out + model(x.flip(-1)).float())
            outs.append(out.cpu())
            targets.append(y.cpu())
    finally:
        model.train(was_training)
    return torch.cat(outs), torch.cat(targets)


def test_report(model: nn.Module, loader, classes, out_dir, title: str, *, images=None, tta: bool = False,
                top_k: int = 16, device=None) -> dict:
    """Evaluate on the test split once; write confusion.png (and top_losses.png when `images`,
    uint8 `[N, H, W, C]` in loader order, are given); return the test metrics."""
    from dlcc.metrics import confusion_matrix, per_class_accuracy, per_sample_cross_entropy, top_losses

    logits, targets = predict_logits(model, loader, tta, device)
    losses = per_sample_cross_entropy(logits, targets)
    cm = confusion_matrix(logits, targets, len(classes))
    per_class = per_class_accuracy(logits, targets, len(classes))
    plot_confusion(cm.numpy(), classes, out_dir / "confusion.png", title=f"{title}: test confusion matrix")
    if images is not None and top_k > 0:
        values, idx = top_losses(losses, top_k)
        probs = torch.softmax(logits[idx], 1)
        plot_top_losses(np.asarray(images)[idx.numpy()], targets[idx].tolist(), logits[idx].argmax(1).tolist(),
                        values.tolist(), probs[torch.arange(len(idx)), targets[idx]].tolist(), classes,
                        out_dir / "top_losses.png")
    report = {"test_accuracy": float((logits.argmax(1) == targets).double().mean()),
              "test_loss": float(losses.mean()),
              "test_per_class_accuracy": {str(c): round(float(a), 4) for c, a in zip(classes, per_class)}}
    if tta:   # what the mirror images add (one more pass over the test set)
        plain, _ = predict_logits(model, loader, False, device)
        report["test_accuracy_no_tta"] = float((plain.argmax(1) == targets).double().mean())
        report["test_tta"] = "flip"
    return report
