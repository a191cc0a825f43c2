"""Schedules against torch.optim.lr_scheduler: the same lr (and momentum) at every step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.scratch import optim, schedules

RTOL = 1e-10


def torch_run(make_opt, make_sched, steps, momentum_key=None):
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = make_opt([p])
    sched = make_sched(opt)
    lrs, moms = [], []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        if momentum_key == "momentum":
            moms.append(opt.param_groups[0]["momentum"])
        elif momentum_key == "betas":
            moms.append(opt.param_groups[0]["betas"][0])
        p.grad = torch.ones_like(p)
        opt.step()
        sched.step()
    return np.array(lrs), np.array(moms)


def ours_run(make_opt, make_sched, steps, momentum_key=None):
    p, g = np.zeros(2), np.ones(2)
    opt = make_opt([(p, g)])
    sched = make_sched(opt)
    lrs, moms = [], []
    for _ in range(steps):
        lrs.append(opt.lr)
        if momentum_key == "momentum":
            moms.append(opt.momentum)
        elif momentum_key == "betas":
            moms.append(opt.betas[0])
        opt.step()
        sched.step()
    return np.array(lrs), np.array(moms)


CASES = {
    "step": (lambda o: schedules.StepLR(o, step_size=3, gamma=0.5),
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 20),
    "exponential": (lambda o: schedules.ExponentialLR(o, gamma=0.9),
                    lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 30),
    "cosine": (lambda o: schedules.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 35),
    "warmup-constant": (lambda o: schedules.LinearWarmup(o, warmup_steps=5, start_factor=0.2),
                        lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=5), 12),
    "warmup-cosine": (
        lambda o: schedules.LinearWarmup(o, warmup_steps=4, start_factor=0.1, then="cosine",
                                         total_steps=20, eta_min=1e-4),
        lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
            torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=4),
            torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=16, eta_min=1e-4)], milestones=[4]), 20),
}


@pytest.mark.parametrize("case", list(CASES))
def test_lr_matches_torch(case):
    ours_sched, torch_sched, steps = CASES[case]
    ours, _ = ours_run(lambda p: optim.SGD(p, lr=0.1), ours_sched, steps)
    ref, _ = torch_run(lambda p: torch.optim.SGD(p, lr=0.1), torch_sched, steps)
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=0)


ONE_CYCLE = [
    # The A2 recipe: max_lr 0.2, div 50, final_div 1e4, pct 0.3, cos, momentum 0.85..0.95.
    dict(max_lr=0.2, total_steps=47, pct_start=0.3, div_factor=50.0, final_div_factor=1e4),
    dict(max_lr=0.1, epochs=3, steps_per_epoch=7, anneal_strategy="linear"),
    dict(max_lr=0.5, total_steps=30, pct_start=0.25, three_phase=True),
    dict(max_lr=0.5, total_steps=16, anneal_strategy="linear", three_phase=True, base_momentum=0.8,
         max_momentum=0.9),
]


@pytest.mark.parametrize("kwargs", ONE_CYCLE)
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_one_cycle_lr_and_momentum_match_torch(kwargs, opt_name):
    total = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    key = "momentum" if opt_name == "SGD" else "betas"
    extra = {"momentum": 0.9} if opt_name == "SGD" else {}
    ours_lr, ours_m = ours_run(lambda p: getattr(optim, opt_name)(p, lr=0.01, **extra),
                               lambda o: schedules.OneCycleLR(o, **kwargs), total, key)
    ref_lr, ref_m = torch_run(lambda p: getattr(torch.optim, opt_name)(p, lr=0.01, **extra),
                              lambda o: torch.optim.lr_scheduler.OneCycleLR(o, **kwargs), total, key)
    np.testing.assert_allclose(ours_lr, ref_lr, rtol=RTOL, atol=0)
    np.testing.assert_allclose(ours_m, ref_m, rtol=RTOL, atol=0)


def test_curves_without_an_optimizer_and_state_dict():
    sched = schedules.StepLR(None, base_lr=1.0, step_size=2, gamma=0.1)
    np.testing.assert_allclose(sched.lrs(5), [1, 1, 0.1, 0.1, 0.01])
    one = schedules.OneCycleLR(None, max_lr=1.0, total_steps=10)
    assert one.interval == "batch" and sched.interval == "epoch"
    for _ in range(4):
        one.step()
    saved = one.state_dict()
    other = schedules.OneCycleLR(None, max_lr=1.0, total_steps=10)
    other.load_state_dict(saved)
    assert other.get_last_lr() == one.get_last_lr() == one.lr_at(4)


def test_bad_settings_raise_config_error():
    opt = optim.SGD([(np.zeros(1), np.zeros(1))], lr=0.1)
    with pytest.raises(ConfigError, match="total_steps, or epochs and steps_per_epoch"):
        schedules.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ConfigError, match="no momentum or betas"):
        schedules.OneCycleLR(optim.AdaGrad([(np.zeros(1), np.zeros(1))]), max_lr=0.1, total_steps=5)
    with pytest.raises(ConfigError, match="step_size must be a positive integer"):
        schedules.StepLR(opt, step_size=0)
    with pytest.raises(ConfigError, match="total_steps > warmup_steps"):
        schedules.LinearWarmup(opt, warmup_steps=5, then="cosine")
    with pytest.raises(ConfigError, match="give an optimizer or base_lr"):
        schedules.ExponentialLR(None, gamma=0.5)
    one = schedules.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    one.step()
    one.step()
    with pytest.raises(ConfigError, match="stepped 3 times but total_steps is 2"):
        one.step()
