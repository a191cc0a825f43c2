"""Optimizers against torch.optim: the same parameters and gradient sequence give the same
parameters after every step (float64, 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.scratch import optim
from dlcc.scratch.base import Module

SHAPES = [(3, 4), (4,), (2, 3, 2)]
STEPS = 6

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("AdaGrad", dict()),
    ("AdaGrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.01, initial_accumulator_value=0.5)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, eps=1e-6)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, eps=1e-6)),
]
TORCH_NAME = {"AdaGrad": "Adagrad"}


def run_both(name, kwargs, seed=0, lr_change=None):
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s) for s in SHAPES]
    grads_seq = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]
    ours_p = [a.copy() for a in init]
    ours_g = [np.zeros_like(a) for a in init]
    ours = getattr(optim, name)(list(zip(ours_p, ours_g)), **kwargs)
    ref_p = [torch.tensor(a, requires_grad=True) for a in init]
    ref = getattr(torch.optim, TORCH_NAME.get(name, name))(ref_p, **kwargs)
    history = []
    for step, grads in enumerate(grads_seq):
        if lr_change and step == lr_change[0]:
            ours.lr = lr_change[1]
            for group in ref.param_groups:
                group["lr"] = lr_change[1]
        for g_ours, p_ref, g in zip(ours_g, ref_p, grads):
            g_ours[...] = g
            p_ref.grad = torch.tensor(g)
        ours.step()
        ref.step()
        history.append(max(float(np.abs(a - b.detach().numpy()).max()) for a, b in zip(ours_p, ref_p)))
    return history


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_step_by_step(name, kwargs):
    history = run_both(name, kwargs)
    assert max(history) <= 1e-10, history


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_lr_attribute_changes_take_effect_like_torch(name):
    kwargs = {"lr": 0.1, "momentum": 0.9} if name != "Adam" else {"lr": 0.1}
    assert max(run_both(name, kwargs, lr_change=(3, 0.01))) <= 1e-10


class Toy(Module):
    def __init__(self):
        super().__init__()
        self.params = {"weight": np.ones((2, 3)), "bias": np.zeros(2)}


def test_modules_are_updated_in_place_with_grads_read_each_step():
    model = Toy()
    weight = model.params["weight"]
    opt = optim.SGD(model, lr=0.5)
    assert opt.param_names == ["weight", "bias"]
    model.grads = {"weight": np.full((2, 3), 2.0)}          # no bias grad: bias is skipped
    opt.step()
    assert model.params["weight"] is weight
    np.testing.assert_array_equal(weight, 0.0)
    np.testing.assert_array_equal(model.params["bias"], 0.0)
    model.grads = {"weight": np.ones((2, 3)), "bias": np.ones(2)}   # new arrays: still read
    opt.step()
    np.testing.assert_array_equal(weight, -0.5)
    np.testing.assert_array_equal(model.params["bias"], -0.5)
    opt.zero_grad()
    assert all((g == 0).all() for g in model.grads.values())


def test_a_module_listed_twice_is_updated_once():
    model = Toy()
    opt = optim.SGD([model, model], lr=1.0)
    assert len(opt.slots) == 2
    model.grads = {"weight": np.ones((2, 3)), "bias": np.ones(2)}
    opt.step()
    np.testing.assert_array_equal(model.params["weight"], 0.0)


def test_state_dict_resumes_exactly():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3,)) for _ in range(6)]

    def run(split):
        p, g = np.ones(3), np.zeros(3)
        opt = optim.Adam([(p, g)], lr=0.1)
        for i, grad in enumerate(grads):
            if i == split:
                saved = opt.state_dict()
                opt = optim.Adam([(p, g)], lr=0.5)
                opt.load_state_dict(saved)
            g[...] = grad
            opt.step()
        return p

    np.testing.assert_array_equal(run(split=3), run(split=-1))


@pytest.mark.parametrize("factory, match", [
    (lambda p: optim.SGD(p, lr=-1), "lr must be >= 0"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.9)), r"betas\[0\] must be >= 0.0 and < 1.0"),
    (lambda p: optim.SGD([], lr=0.1), "no parameters"),
    (lambda p: optim.SGD(["w"], lr=0.1), "item 0 is a str"),
    (lambda p: optim.SGD([(np.ones(2), np.ones(3))], lr=0.1), r"param shape \(2,\) but grad shape \(3,\)"),
])
def test_bad_configuration_raises_config_error(factory, match):
    with pytest.raises(ConfigError, match=match):
        factory([(np.ones(2), np.ones(2))])
