"""A2, part (c): a multi-layer perceptron in PyTorch.

The NumPy MLP of A1 needed a hand-written backward pass; here `nn.Linear` layers hold the
weights and autograd does the backward pass.
"""

from __future__ import annotations

import torch
from torch import nn


class PytorchMLP(nn.Module):
    """Flatten -> [Linear -> ReLU] for each hidden size -> Linear(last hidden, 10).

    Args:
        H, W, C: image height, width and channels (the input has H*W*C features).
        num_hidden_layers: the hidden sizes, e.g. [300, 200, 200, 200, 100] (the course's
            default, 1,083,610 parameters for 32x32x3 images).

    Shapes: forward(x [B, C, H, W] float32) -> logits [B, 10] (no softmax: CrossEntropyLoss
    applies log-softmax itself).
    """

    def __init__(self, H: int = 32, W: int = 32, C: int = 3, num_hidden_layers=(300, 200, 100)):
        super().__init__()
        # TODO (A2.5): your code here
        # HINT: build a list of layers, then self.blocks = nn.Sequential(*layers)
        raise NotImplementedError("A2.5: this part of __init__() is not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A2.5): your code here
        # HINT: x.reshape(x.shape[0], -1) flattens every image into one row
        raise NotImplementedError("A2.5: this part of forward() is not implemented yet")


@torch.no_grad()
def compute_test_accuracy(loader, model: nn.Module, loss_func, device="cpu") -> tuple[float, float]:
    """Mean loss and accuracy of `model` over every batch of `loader` (eval mode)."""
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        output = model(x)
        total_loss += loss_func(output, y).item() * len(y)
        correct += (output.argmax(dim=1) == y).sum().item()
        count += len(y)
    model.train(was_training)
    return total_loss / max(count, 1), correct / max(count, 1)
