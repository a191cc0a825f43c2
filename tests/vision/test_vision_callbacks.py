"""The vision recipes' callbacks: training clock and budget (with a fake clock, so no timed
assertions), the triangular / budget-following schedule, lookahead, the test monitor."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcc.errors import ConfigError
from dlcc.recipes._vision_callbacks import Lookahead, ProgressSchedule, EvalMonitor, TrainClock, triangle
from dlcc.train import fit


class FakeTime:
    """A clock that advances `tick` seconds every time it is read."""

    def __init__(self, tick: float):
        self.t, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.t += self.tick
        return self.t


def _problem(n=64, batch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] > 0).long()
    batches = [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]
    return batches, batches[:2]


def test_budget_stops_inside_an_epoch_and_validates_it():
    torch.manual_seed(0)
    train, val = _problem()
    clock = TrainClock(budget_s=5.0)
    clock._now = FakeTime(1.0)             # every reading advances one second
    trainer = fit(nn.Linear(4, 2), train, val, nn.CrossEntropyLoss(),
                  torch.optim.SGD(nn.Linear(4, 2).parameters(), lr=0.1), epochs=50,
                  callbacks=[clock], progress=False)
    assert clock.stopped_by_budget and "time budget" in trainer.stop_reason
    assert trainer.epoch == 1 and trainer.global_step < len(train)
    assert "val_accuracy" in trainer.history[-1] and "val_loss" in trainer.history[-1]
    assert clock.done >= 5.0 and trainer.history[-1]["train_time_s"] == clock.done


def test_paused_time_is_not_counted():
    clock = TrainClock()
    fake = FakeTime(1.0)
    clock._now = fake
    clock.on_epoch_start(None, 1)           # reads 1
    with clock.paused():                    # reads 2 and 3: one second paused
        pass
    assert clock.elapsed == pytest.approx(4 - 1 - 1)   # read at 4: 3 s since start, minus 1 paused


def test_clock_settings_are_checked():
    with pytest.raises(ConfigError, match="time_budget_s"):
        TrainClock(budget_s=-1)
    with pytest.raises(ConfigError, match="time_budget_clock"):
        TrainClock(clock="sundial")
    assert TrainClock(clock="cpu").elapsed == 0.0


def test_triangle_schedule_values():
    assert triangle(0.0, 0.2, 0.25, 0.05) == pytest.approx(0.2)
    assert triangle(0.125, 0.2, 0.25, 0.05) == pytest.approx(0.6)
    assert triangle(0.25, 0.2, 0.25, 0.05) == pytest.approx(1.0)
    assert triangle(1.0, 0.2, 0.25, 0.05) == pytest.approx(0.05)
    assert triangle(1.7, 0.2, 0.25, 0.05) == pytest.approx(0.05)      # clamped


def test_progress_schedule_follows_steps_or_the_budget():
    opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0)
    sched = ProgressSchedule(lambda p: 1.0 - p, total_steps=10)

    class T:
        optimizer, global_step = opt, 0

    sched.on_fit_start(T)
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0)
    sched.on_batch_end(T, 4, 0.0, 1.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.6)
    clock = TrainClock(budget_s=100.0)
    clock.done = 80.0                       # 80 % of the time budget used after 4 of 10 steps
    timed = ProgressSchedule(lambda p: 1.0 - p, total_steps=10, clock=clock)
    timed.on_batch_end(T, 4, 0.0, 1.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.2)


def test_lookahead_pulls_weights_to_their_average_and_ends_on_it():
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    la = Lookahead(every=1, base=0.5, total_steps=1)

    class T:
        pass

    T.model = model
    la.on_fit_start(T)                      # ema = 0
    with torch.no_grad():
        model.weight.fill_(1.0)             # an optimizer step moves the weight to 1
    la.on_batch_end(T, 1, 0.0, 0.1)         # progress 1 -> decay 0.5: ema = 0.5, w = 0.5
    assert model.weight.item() == pytest.approx(0.5)
    with torch.no_grad():
        model.weight.fill_(2.0)
    la.on_fit_end(T, {})                    # decay 1: the model takes the EMA as it is
    assert model.weight.item() == pytest.approx(0.5)


def test_eval_monitor_records_points_outside_the_clock():
    torch.manual_seed(0)
    train, val = _problem()
    clock = TrainClock()
    values = iter([0.5, 0.7, 0.9, 0.95, 0.99, 0.99])
    monitor = EvalMonitor(lambda: next(values), clock, every_steps=4)
    model = nn.Linear(4, 2)
    trainer = fit(model, train, None, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  epochs=2, callbacks=[clock, monitor], progress=False)
    assert [p["step"] for p in monitor.points] == [4, 8, 12, 16]
    assert trainer.history[0]["test_accuracy"] == 0.7 and trainer.history[1]["test_accuracy"] == 0.95
    assert monitor.time_to(0.9) == monitor.points[2]["train_time_s"]
    assert monitor.time_to(0.999) is None
