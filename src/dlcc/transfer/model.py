"""A backbone with a new classifier head, and the three ways to train it on a new task.

    model = TransferNet(backbone, num_classes=5, frozen=True)     # linear probe
    groups = discriminative_groups(model, lr=1e-3, factor=0.5)     # fine-tuning

- scratch: a randomly initialised backbone, everything trains at one learning rate;
- probe: the pretrained backbone is frozen (no gradients, BatchNorm statistics kept in eval
  mode), only the new linear head learns - it measures how linearly separable the new classes
  are in the pretrained features;
- finetune: everything trains, with discriminative learning rates (Howard & Ruder 2018): the
  head at `lr`, the backbone's last stage at `lr·factor`, the one before at `lr·factor²`, ...
  Early stages hold generic features (edges, colours) that the new task needs unchanged, late
  stages the most task-specific ones, so the later a stage the more it may move.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlcc.errors import ConfigError
from dlcc.transfer.backbone import backbone_stages

MODES = ("scratch", "probe", "finetune")


class TransferNet(nn.Module):
    """`backbone` then `head = Linear(backbone.out_features, num_classes)`: images -> logits `[B, K]`.

    With `frozen=True` the backbone's parameters get `requires_grad=False` and the backbone stays
    in eval mode even when the net is put in training mode (`train()`), so its BatchNorm layers
    keep the pretrained statistics; its forward pass then runs without autograd.
    """

    def __init__(self, backbone: nn.Module, num_classes: int, frozen: bool = False):
        super().__init__()
        if not hasattr(backbone, "out_features"):
            raise ConfigError(f"{type(backbone).__name__} has no out_features: a backbone must say how many "
                              "features it gives per image", fix="use a backbone from dlcc.transfer.ARCHITECTURES")
        self.backbone = backbone
        self.head = nn.Linear(backbone.out_features, num_classes)
        self.frozen = frozen
        if frozen:
            backbone.requires_grad_(False)
            backbone.eval()

    def train(self, mode: bool = True) -> TransferNet:
        super().train(mode)
        if self.frozen:
            self.backbone.eval()
        return self

    def forward(self, x: Tensor) -> Tensor:
        if self.frozen:
            with torch.no_grad():
                features = self.backbone(x)
        else:
            features = self.backbone(x)
        return self.head(features)




def discriminative_groups(model: TransferNet, lr: float, factor: float = 1.0, weight_decay: float = 0.0
                          ) -> list[dict]:
    """Optimizer parameter groups, head first: head at `lr`, then the backbone's stages from the
    last to the first at `lr·factor`, `lr·factor²`, ... (`factor=1`: one LR for all).

    Each group has a "name" (head, or the stage's name) for logs and tests. Frozen parameters
    (requires_grad False) are left out, and so are groups left empty. The head comes first
    because the training loop logs the LR of `param_groups[0]`.
    """
    if not 0 < factor <= 1:
        raise ConfigError(f"stage LR factor {factor} must be in (0, 1]: earlier stages learn more slowly",
                          fix="e.g. transfer.stage_lr_factor=0.5 (1: one learning rate everywhere)")
    groups = [{"name": "head", "params": [p for p in model.head.parameters() if p.requires_grad], "lr": lr,
               "weight_decay": weight_decay}]
    stages = backbone_stages(model.backbone)
    seen = {id(p) for _, module in stages for p in module.parameters()}
    rest = [p for p in model.backbone.parameters() if id(p) not in seen]
    if rest:   # parameters outside the named stages train with the last stage
        stages = [*stages, ("other", _Holder(rest))]
    for depth, (name, module) in enumerate(reversed(stages), start=1):
        params = [p for p in module.parameters() if p.requires_grad]
        groups.append({"name": name, "params": params, "lr": lr * factor**depth, "weight_decay": weight_decay})
    return [g for g in groups if g["params"]]


class _Holder(nn.Module):
    """Parameters that belong to no stage, gathered so they can be iterated like a stage."""

    def __init__(self, params: list):
        super().__init__()
        self.held = nn.ParameterList(params)
