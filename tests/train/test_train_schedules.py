"""Schedules: LR values at known steps, built on torch.optim.lr_scheduler."""

from __future__ import annotations

import math

import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.train import make_scheduler


def _optimizer(lr=0.1, momentum=0.9, adam=False):
    params = [torch.nn.Parameter(torch.zeros(2))]
    if adam:
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=momentum)


def _lrs(scheduler, optimizer, n):
    """LR used at steps 0..n-1 (the LR in effect before each scheduler.step())."""
    out = []
    for _ in range(n):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


def test_step_schedule_halves_every_ten_epochs():
    opt = _optimizer()
    sched, interval = make_scheduler("step", opt, epochs=30, steps_per_epoch=100)
    lrs = _lrs(sched, opt, 30)
    assert interval == "epoch"
    assert lrs[0] == lrs[9] == pytest.approx(0.1)
    assert lrs[10] == pytest.approx(0.05) and lrs[25] == pytest.approx(0.025)


def test_cosine_goes_from_lr_to_min_lr_over_the_epochs():
    opt = _optimizer()
    sched, interval = make_scheduler("cosine", opt, epochs=10, steps_per_epoch=5, min_lr=0.01)
    lrs = _lrs(sched, opt, 11)
    assert interval == "epoch"
    assert lrs[0] == pytest.approx(0.1)
    assert lrs[5] == pytest.approx(0.01 + 0.09 * 0.5)
    assert lrs[10] == pytest.approx(0.01)


def test_warmup_cosine_is_linear_then_cosine_per_step():
    opt = _optimizer()
    sched, interval = make_scheduler("warmup_cosine", opt, epochs=11, steps_per_epoch=10, warmup_steps=10)
    lrs = _lrs(sched, opt, 110)
    assert interval == "step"
    assert lrs[0] == pytest.approx(0.01) and lrs[4] == pytest.approx(0.05) and lrs[9] == pytest.approx(0.1)
    assert lrs[10] == pytest.approx(0.1)
    assert lrs[60] == pytest.approx(0.05)                           # half-way through the cosine
    assert lrs[35] == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.25)))
    assert lrs[109] == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.99)))
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))         # monotone after warm-up


def test_warmup_defaults_to_five_percent_of_the_steps():
    opt = _optimizer()
    sched, _ = make_scheduler("warmup_cosine", opt, epochs=10, steps_per_epoch=20)
    lrs = _lrs(sched, opt, 200)
    assert max(lrs) == pytest.approx(0.1) and lrs.index(max(lrs)) == 9   # 5% of 200 = 10 steps


def test_onecycle_follows_the_course_settings():
    opt = _optimizer(lr=0.05)
    sched, interval = make_scheduler("onecycle", opt, epochs=10, steps_per_epoch=10, max_lr=0.2)
    lrs, momenta = [], []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    assert interval == "step"
    assert lrs[0] == pytest.approx(0.2 / 50)                  # div_factor 50
    assert max(lrs) == pytest.approx(0.2) and lrs.index(max(lrs)) == 29   # pct_start 0.3
    assert lrs[-1] == pytest.approx(0.2 / 50 / 1e4, rel=1e-2)  # final_div_factor 1e4
    assert momenta[0] == pytest.approx(0.95) and momenta[29] == pytest.approx(0.85)


def test_onecycle_defaults_max_lr_to_the_optimizer_lr_and_works_without_momentum():
    opt = _optimizer(lr=0.3, momentum=0.0)
    sched, _ = make_scheduler("onecycle", opt, epochs=2, steps_per_epoch=10)
    assert max(_lrs(sched, opt, 20)) == pytest.approx(0.3)
    adam = _optimizer(lr=0.01, adam=True)
    sched, _ = make_scheduler("onecycle", adam, epochs=1, steps_per_epoch=10)
    assert adam.param_groups[0]["betas"][0] == pytest.approx(0.95)


def test_none_means_no_scheduler():
    assert make_scheduler("none", _optimizer(), 3, 3) == (None, "epoch")


@pytest.mark.parametrize("name, options, fragment", [
    ("cosyne", {}, "unknown schedule 'cosyne'"),
    ("step", {"step": 3}, r"schedule 'step' has no option\(s\) \['step'\]"),
    ("warmup_cosine", {"warmup_steps": 500}, r"warmup_steps=500 must be in \[1, 99\]"),
])
def test_bad_schedule_settings(name, options, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        make_scheduler(name, _optimizer(), 10, 10, **options)
    assert info.value.fix
