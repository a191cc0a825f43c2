"""Contrastive pretraining of a U-Net's encoder on unlabelled images, then fine-tuning on few masks.

Labelled masks are what biomedical segmentation lacks; unlabelled images are plentiful (the
ISBI 2012 challenge's 30 test slices have no public labels at all). SimCLR needs no labels:

    unet = UNet(in_channels=1, width=16, depth=3)
    encoder = UNetEncoder(unet)                  # shares unet's contracting path (inc + downs)
    pretrain_encoder(encoder, unlabelled, steps=200, crop=64)   # NT-Xent on two views of random crops
    finetune(unet, labelled_pairs, steps=150)    # the whole U-Net, BCE on random patches
    dice(unet, test_pairs)

Only the contracting path (the encoder) is pretrained; the expanding path and the 1x1 head
start from scratch either way. The encoder's deepest feature map, average-pooled, is the
representation the projection head and the loss see.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.contrastive.augment import SimCLRAugment, TwoViews
from dlcc.contrastive.model import SimCLRModel
from dlcc.contrastive.step import SimCLRStep
from dlcc.errors import InputError

# EM slices are fed to dlcc's U-Nets as intensities / 255 without standardising (as isbi-unet
# does), so the views are too: mean 0, std 1 leaves [0, 1] as it is.
EM_AUGMENT = SimCLRAugment(crop_scale=(0.25, 1.0), flip=0.5, jitter=0.5, p_jitter=0.8, p_grey=0.0,
                           mean=(0.0,), std=(1.0,))


class UNetEncoder(nn.Module):
    """The contracting path of a `dlcc.models.UNet` (its `inc` and `downs`, shared, not copied)
    followed by global average pooling: `[B, C, H, W]` -> `[B, width * 2**depth]`."""

    def __init__(self, unet: nn.Module):
        super().__init__()
        self.inc, self.downs = unet.inc, unet.downs
        convs = [m for m in self.downs.modules() if isinstance(m, nn.Conv2d)]
        self.out_features = convs[-1].out_channels

    def forward(self, x: Tensor) -> Tensor:
        x = self.inc(x)
        for down in self.downs:
            x = down(F.max_pool2d(x, 2))
        return x.mean((2, 3))


def random_crops(images: Tensor, size: int, count: int, generator: torch.Generator | None = None) -> Tensor:
    """`count` random `size` x `size` crops of `images` `[N, C, H, W]` (any dtype) -> `[count, C, size, size]`."""
    n, _, h, w = images.shape
    if size > h or size > w:
        raise InputError(f"crop {size}x{size} is larger than the images ({h}x{w})",
                         fix=f"use a crop of at most {min(h, w)}")
    idx = torch.randint(0, n, (count,), generator=generator)
    ys = torch.randint(0, h - size + 1, (count,), generator=generator)
    xs = torch.randint(0, w - size + 1, (count,), generator=generator)
    return torch.stack([images[i, :, y:y + size, x:x + size] for i, y, x in zip(idx.tolist(), ys.tolist(), xs.tolist())])


class _Crops:
    """An endless stream of batches of random crops: what the loop iterates as its "loader"
    (no length: training ends at its step count)."""

    def __init__(self, images: Tensor, size: int, batch: int, seed: int):
        self.images, self.size, self.batch = images, size, batch
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        while True:
            yield (random_crops(self.images, self.size, self.batch, self.generator),)


def pretrain_encoder(encoder: nn.Module, images: Tensor, steps: int, *, crop: int = 64, batch: int = 64,
                     temperature: float = 0.2, lr: float = 2e-3, weight_decay: float = 1e-4,
                     augment: SimCLRAugment = EM_AUGMENT, seed: int = 0, log=None) -> dict:
    """SimCLR on random crops of unlabelled `images` (`[N, C, H, W]` uint8 or float in [0, 1]),
    through the training loop's custom-step mode, with a warm-up + cosine LR schedule.

    Trains `encoder` in place (and a projection head, discarded). Returns {"steps", "loss"
    (mean of the last 20 steps), "cpu_s" (process CPU seconds)}.
    """
    import time

    from dlcc.train import ScheduleLR, fit

    start = time.process_time()
    torch.manual_seed(seed)
    model = SimCLRModel(encoder, hidden=max(64, 2 * encoder.out_features), out_features=64)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=weight_decay)
    step = SimCLRStep(model, TwoViews(augment), optimizer, temperature)
    trainer = fit(model, _Crops(images, crop, batch, seed), None, None, None, steps=steps, eval_every=steps, callbacks=[ScheduleLR("warmup_cosine")],
                  metrics={}, progress=False, log=log, step=step, device="cpu")
    losses = [row.get("train_loss") for row in trainer.history if row.get("train_loss") is not None]
    return {"steps": trainer.global_step, "loss": losses[-1] if losses else float("nan"),
            "cpu_s": time.process_time() - start}


def _augment_pair(x: Tensor, y: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """The same random flip / 90-degree rotation for each image and its mask (`[B, C, H, W]`)."""
    k = int(torch.randint(0, 4, (1,), generator=generator))
    x, y = torch.rot90(x, k, (2, 3)), torch.rot90(y, k, (2, 3))
    if bool(torch.rand(1, generator=generator) < 0.5):
        x, y = x.flip(3), y.flip(3)
    return x, y


def finetune(unet: nn.Module, pairs: list[tuple[Tensor, Tensor]], steps: int, *, patch: int = 128,
             batch: int = 8, lr: float = 1e-3, seed: int = 0) -> dict:
    """Train the whole `unet` on random patches of `pairs` (image `[C, H, W]` float in [0, 1],
    mask `[1, H, W]` 0/1) with BCE-with-logits, AdamW and a warm-up + cosine schedule, `steps` steps.
    Returns {"steps", "loss" (last), "cpu_s"}."""
    import time

    from dlcc.train import ScheduleLR, TensorBatches, fit, make_loader

    if not pairs:
        raise InputError("fine-tuning needs at least one labelled image", fix="pass one or more (image, mask) pairs")
    start = time.process_time()
    g = torch.Generator().manual_seed(seed)
    images = torch.stack([p[0] for p in pairs])
    masks = torch.stack([p[1] for p in pairs])
    both = torch.cat([images, masks], 1)
    crops = random_crops(both, patch, steps * batch, g)
    xs, ys = crops[:, :-1], crops[:, -1:]
    for i in range(0, len(xs), batch):    # one random flip/rotation per batch, same for image and mask
        xs[i:i + batch], ys[i:i + batch] = _augment_pair(xs[i:i + batch], ys[i:i + batch], g)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=1e-4)
    trainer = fit(unet, make_loader(TensorBatches(xs, ys), batch), None, nn.BCEWithLogitsLoss(), optimizer,
                  steps=steps, eval_every=steps, callbacks=[ScheduleLR("warmup_cosine")], metrics={},
                  progress=False, device="cpu")
    return {"steps": trainer.global_step, "loss": trainer.history[-1].get("train_loss"),
            "cpu_s": time.process_time() - start}


@torch.no_grad()
def dice(unet: nn.Module, pairs: list[tuple[Tensor, Tensor]]) -> float:
    """Mean Dice over `pairs` of the whole-image prediction (sigmoid > 0.5) against the mask."""
    from dlcc.metrics.segmentation import dice_per_image

    unet.eval()
    scores = [float(dice_per_image(unet(x[None]), m[None], from_logits=True)[0]) for x, m in pairs]
    return float(np.mean(scores))


def label_curve(make_unet, pairs: list[tuple[Tensor, Tensor]], test: list[tuple[Tensor, Tensor]],
                counts: list[int], steps: int, pretrained: dict | None, *, seed: int = 0,
                **finetune_kw) -> list[dict]:
    """Test Dice after fine-tuning on the first n of a seeded shuffle of `pairs`, for each n in
    `counts` (nested sets: the 2 labelled images include the 1), from scratch and, when
    `pretrained` (a state dict of the U-Net after encoder pretraining) is given, from it too.
    `make_unet()` builds a fresh U-Net with the same seed each time."""
    order = np.random.default_rng(seed).permutation(len(pairs))
    if max(counts) > len(pairs):
        raise InputError(f"{max(counts)} labelled images asked for, {len(pairs)} available",
                         fix=f"use counts up to {len(pairs)}")
    rows = []
    for n in counts:
        chosen = [pairs[i] for i in order[:n]]
        for init in (["scratch", "pretrained"] if pretrained is not None else ["scratch"]):
            unet = make_unet()
            if init == "pretrained":
                unet.load_state_dict(pretrained)
            info = finetune(unet, chosen, steps, seed=seed, **finetune_kw)
            rows.append({"labelled": n, "init": init, "test_dice": dice(unet, test), **info})
    return rows


__all__ = ["EM_AUGMENT", "UNetEncoder", "dice", "finetune", "label_curve", "pretrain_encoder", "random_crops"]
