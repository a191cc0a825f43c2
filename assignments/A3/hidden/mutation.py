"""Probes for `dlcc course mutate A3` (never released): random float64 inputs for the
functions whose surviving mutants need the equivalence check (dlcc.course.authoring.equivalence).
Models are built under the same torch seed on both sides, so equal code gives equal weights."""

import argparse

import numpy as np
import torch


def make_training(m, rng):
    name = ("cnn", "mobilenet", "resnet")[int(rng.integers(0, 3))]
    args = argparse.Namespace(learning_rate=float(rng.uniform(1e-3, 0.1)), reg=float(rng.uniform(0, 1e-3)),
                              optimizer=("sgd", "adam")[int(rng.integers(0, 2))])
    model, loss_func, optimizer, scheduler = m.make_training(name, args)
    model.eval()
    x = torch.from_numpy(rng.normal(size=(2, 3, 32, 32)).astype(np.float32))
    with torch.no_grad():
        logits = model(x).numpy().astype(np.float64)
    group = {k: v for k, v in optimizer.param_groups[0].items() if k != "params" and isinstance(v, (int, float, tuple))}
    return (logits, [list(p.shape) for p in model.parameters()], type(loss_func).__name__,
            type(optimizer).__name__, {k: list(v) if isinstance(v, tuple) else v for k, v in group.items()},
            type(scheduler).__name__, scheduler.step_size, scheduler.gamma)


def patches_getitem(m, rng):
    n, h, w = int(rng.integers(1, 4)), int(rng.integers(6, 12)), int(rng.integers(6, 12))
    images = rng.normal(size=(n, h, w))
    masks = (rng.random((n, h, w)) < 0.5).astype(np.float64)
    ds = m.SegmentationPatches(images, masks, patch=int(rng.integers(2, min(h, w) + 1)), length=8,
                               flips=bool(rng.integers(0, 2)))
    items = [ds[int(i)] for i in rng.integers(0, 8, size=4)]
    return [[image.numpy().astype(np.float64), mask.numpy().astype(np.float64)] for image, mask in items]


PROBES = {"a3_cnn.make_training": make_training,
          "segdataset.SegmentationPatches.__getitem__": patches_getitem}
