"""One SimCLR training step, for the training loop's custom-step mode (`dlcc.train.Trainer`'s
`step`): the loop supplies batches of unlabelled images, keeps the clock, the schedule, the
time budget, evaluations and checkpoints; the step does the rest.

    batch x [B, C, H, W] uint8 (labels, if any, are ignored)
      -> two random views v1, v2 (per-image augmentation)
      -> z = model(cat[v1, v2])  (one forward of 2B images: BatchNorm sees both views)
      -> NT-Xent(z[:B], z[B:], τ) -> backward -> optimizer step
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlcc.contrastive.augment import TwoViews
from dlcc.contrastive.loss import nt_xent


class SimCLRStep:
    """`step(trainer, batch) -> {"loss"}` with its optimizer in `step.optimizers`.

    Args:
        model: a `SimCLRModel` (or any images -> projections module).
        views: draws the two views of a batch.
        optimizer: over the model's trainable parameters (the loop's schedule steers its LR).
        temperature: τ of the NT-Xent loss.
        channels_last: feed the views in channels-last layout (faster oneDNN convolutions on
            CPU; the model should be converted too).
    """

    def __init__(self, model: nn.Module, views: TwoViews, optimizer: torch.optim.Optimizer, temperature: float,
                 channels_last: bool = False):
        self.model, self.views, self.temperature = model, views, float(temperature)
        self.channels_last = channels_last
        self.optimizers = {"simclr": optimizer}

    def __call__(self, trainer, batch) -> dict[str, Tensor]:
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        v1, v2 = self.views(images)
        b = len(images)
        both = torch.cat([v1, v2])
        if self.channels_last:
            both = both.contiguous(memory_format=torch.channels_last)
        with trainer.autocast():
            z = self.model(both)
        loss = nt_xent(z[:b], z[b:], self.temperature)
        optimizer = self.optimizers["simclr"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": loss.detach()}
