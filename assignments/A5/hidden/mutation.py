"""Probes for `dlcc course mutate A5` (never released): random float64 inputs for the
functions whose surviving mutants need the equivalence check (dlcc.course.authoring.equivalence)."""

import torch


def _t(rng, *shape, scale=1.0):
    return torch.as_tensor(rng.normal(scale=scale, size=shape))


def losses(m, rng):
    real, fake = _t(rng, 6, 1, scale=3), _t(rng, 6, 1, scale=3)
    return [float(m.loss_D(real, fake)), float(m.loss_G(fake))]


def adversarial(m, rng):
    x, dx = torch.as_tensor(rng.uniform(-1, 1, size=(2, 1, 3, 3))), _t(rng, 2, 1, 3, 3)
    return m.compute_adversarial_examples(x, dx, float(rng.uniform(0, 0.5))).numpy()


def attack(m, rng):
    # a small float64 classifier and two batches; the attack's five outputs
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(9, 4)).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.as_tensor(rng.normal(size=p.shape)))
    loader = [(torch.as_tensor(rng.uniform(-1, 1, size=(3, 1, 3, 3))), torch.as_tensor(rng.integers(0, 4, size=3)))
              for _ in range(2)]
    out = m.run_fast_gradient_sign_attack(model, float(rng.uniform(0, 0.5)), loader)
    return [out[0], out[1], *(t.numpy() for t in out[2:])]


PROBES = {"gan.loss_D": losses, "gan.loss_G": losses,
          "a5_fast_gradient_sign.compute_adversarial_examples": adversarial,
          "a5_fast_gradient_sign.run_fast_gradient_sign_attack": attack}
