"""A3 (d): train your U-Net with BCE + Dice on the ISBI 2012 EM slices (given script).

    python a3_unet.py --num_epochs 10

Trains on random 128×128 patches (your SegmentationPatches) of slices 0-24 with your
BCEDiceLoss, then reports the Dice of the cell-interior class on the held-out slices 25-29
(predicted whole) and saves result/unet_predictions.png (image | mask | prediction) and
result/unet.pt. `dlcc run isbi-unet` is the same task with dlcc's configurable U-Net.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import util
from losses import BCEDiceLoss
from segdataset import SegmentationPatches
from unet_model import UNet


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A3: U-Net on ISBI 2012")
    parser.add_argument("--num_epochs", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--patches_per_epoch", type=int, default=400)
    parser.add_argument("--learning_rate", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--use_gpu", action="store_true")
    return parser.parse_args(argv)


def main(argv=None) -> float:
    args = parse_args(argv)
    util.set_seed(args.seed)
    device = util.find_device(args.use_gpu)
    images, masks, test_images, test_masks = util.load_isbi()
    dataset = SegmentationPatches(images, masks, args.patch, args.patches_per_epoch)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True)
    model = UNet(args.patch, args.patch, C=1).to(device)
    loss_func = BCEDiceLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.num_epochs)
    start = time.perf_counter()
    for epoch in range(1, args.num_epochs + 1):
        model.train()
        losses = []
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = loss_func(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        print(f"epoch {epoch}: loss {np.mean(losses):.4f} ({time.perf_counter() - start:.0f} s)")
    probs = util.predict_probs(model, test_images, device)
    dice = util.dice_per_image(probs, test_masks)
    print("Dice of the cell interior on slices", util.ISBI_TEST_SLICES, np.round(dice, 4), f"mean {dice.mean():.4f}")
    util.plot_segmentation(test_images[:3], test_masks[:3], probs[:3], util.RESULT_DIR / "unet_predictions.png",
                           titles=[f"slice {s}: Dice {d:.3f}" for s, d in zip(util.ISBI_TEST_SLICES, dice)])
    torch.save({"model": model.state_dict(), "args": vars(args)}, util.RESULT_DIR / "unet.pt")
    return float(dice.mean())


if __name__ == "__main__":
    main()
