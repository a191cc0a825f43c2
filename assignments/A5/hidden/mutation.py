"""Probes for `dlcc course mutate A5` (never released): random float64 inputs for the
functions whose surviving mutants need the equivalence check (dlcc.course.authoring.equivalence)."""

import numpy as np
import torch


def _t(rng, *shape, scale=1.0):
    return torch.as_tensor(rng.normal(scale=scale, size=shape))


def losses(m, rng):
    real, fake = _t(rng, 6, 1, scale=3), _t(rng, 6, 1, scale=3)
    return [float(m.loss_D(real, fake)), float(m.loss_G(fake))]


def adversarial(m, rng):
    x, dx = torch.as_tensor(rng.uniform(-1, 1, size=(2, 1, 3, 3))), _t(rng, 2, 1, 3, 3)
    return m.compute_adversarial_examples(x, dx, float(rng.uniform(0, 0.5))).numpy()


PROBES = {"gan.loss_D": losses, "gan.loss_G": losses,
          "a5_fast_gradient_sign.compute_adversarial_examples": adversarial}
