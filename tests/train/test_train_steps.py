"""Step-based training: evaluation every N steps, best weights at those points, exact resume in
the middle of a pass, time budgets (with a fake clock: no timed assertions), progress-following
schedules, lookahead and the evaluation monitor."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from train_helpers import loaders, same_weights, small_model, weights

from dlcc.errors import ConfigError
from dlcc.train import BestModel, EvalMonitor, LambdaCallback, Lookahead, ScheduleLR, TimeBudget, Trainer, fit
from dlcc.train.lr_shapes import cosine, triangle


class FakeTime:
    """A clock that advances `tick` seconds every time it is read."""

    def __init__(self, tick: float):
        self.t, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.t += self.tick
        return self.t


def _sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def test_steps_and_eval_every_set_the_evaluation_points():
    train, val = loaders(n=256, batch_size=32)            # 6 batches per pass
    model = small_model()
    trainer = fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), steps=14, eval_every=4,
                  device="cpu", progress=False)
    assert trainer.global_step == 14
    assert [h["step"] for h in trainer.history] == [4, 8, 12, 14]    # the last one: where training ended
    assert [h["epoch"] for h in trainer.history] == [1, 2, 2, 3]
    assert all("val_loss" in h and "train_loss" in h for h in trainer.history)


def test_epochs_and_steps_together_are_refused():
    train, val = loaders(n=128)
    model = small_model()
    with pytest.raises(ConfigError, match="not both"):
        fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), 2, steps=5, device="cpu", progress=False)


def test_best_model_picks_among_step_evaluations(tmp_path):
    train, val = loaders(n=256, batch_size=32)
    forced = iter([0.9, 0.4, 0.7, 0.8])

    def force(trainer, metrics):
        metrics["val_loss"] = next(forced)

    snapshots = {}
    model = small_model()
    best = BestModel("val_loss")
    fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), steps=16, eval_every=4, device="cpu",
        progress=False, out_dir=tmp_path,
        callbacks=[LambdaCallback(on_eval=force),
                   LambdaCallback(on_eval=lambda t, m: snapshots.__setitem__(m["step"], weights(t.model))), best])
    assert best.best_step == 8 and best.best_row["val_loss"] == 0.4
    assert same_weights(weights(model), snapshots[8])


def _run_steps(out, steps, resume=False):
    train, val = loaders(n=256, batch_size=32)            # 6 batches per pass, shuffled
    model = small_model(dropout=0.3)
    optimizer = _sgd(model)
    return fit(model, train, val, nn.CrossEntropyLoss(), optimizer, steps=steps, eval_every=5, device="cpu",
               progress=False, out_dir=out, resume=resume, callbacks=[BestModel("val_loss")])


def test_resume_in_the_middle_of_a_pass_is_exact(tmp_path):
    """Stopped at step 5 (inside the first pass), resumed to 17: the same weights and history as
    one run to 17 - the pass is replayed up to the checkpoint and the random state put back."""
    full = _run_steps(tmp_path / "full", 17)
    part = _run_steps(tmp_path / "part", 5)
    assert part.history[-1]["step"] == 5 and not part.pass_complete
    torch.manual_seed(1234)                                # disturb the global RNG: resume restores it
    resumed = _run_steps(tmp_path / "part", 17, resume=True)
    assert same_weights(weights(full.model), weights(resumed.model))
    drop = lambda rows: [{k: v for k, v in r.items() if k not in ("time_s", "train_time_s")} for r in rows]  # noqa: E731
    assert drop(full.history) == drop(resumed.history)


def test_time_budget_stops_inside_a_pass_and_still_evaluates():
    train, val = loaders(n=512, batch_size=16)
    model = small_model()
    trainer = Trainer(model, _sgd(model), nn.CrossEntropyLoss(), callbacks=[TimeBudget(5.0)], device="cpu",
                      progress=False)
    trainer._now = FakeTime(1.0)                           # every reading of the clock: one more second
    trainer.fit(train, val, epochs=50)
    assert "time budget of 5 s" in trainer.stop_reason
    assert trainer.epoch == 1 and trainer.global_step < len(train)
    last = trainer.history[-1]
    assert "val_accuracy" in last and last["step"] == trainer.global_step and last["train_time_s"] >= 5.0
    with pytest.raises(ConfigError, match="> 0"):
        TimeBudget(0)


def test_paused_time_is_not_training_time():
    trainer = Trainer(small_model(), _sgd(small_model()), nn.CrossEntropyLoss(), device="cpu", progress=False)
    trainer._now = FakeTime(1.0)
    trainer._start_segment()                               # reads 1
    with trainer.paused():                                 # reads 2 (pause) and 3 (resume)
        pass
    trainer._end_segment()                                 # reads 4: 1 s before the pause, 1 s after
    assert trainer.train_time_s == pytest.approx(2.0)


def test_shapes_values():
    assert triangle(0.0, 0.2, 0.25, 0.05) == pytest.approx(0.2)
    assert triangle(0.125, 0.2, 0.25, 0.05) == pytest.approx(0.6)
    assert triangle(0.25, 0.2, 0.25, 0.05) == pytest.approx(1.0)
    assert triangle(1.7, 0.2, 0.25, 0.05) == pytest.approx(0.05)      # clamped
    assert cosine(0.0, 0.1) == pytest.approx(1.0) and cosine(1.0, 0.1) == pytest.approx(0.1)
    assert cosine(0.5, 0.0) == pytest.approx(0.5)


class _Stub:
    """The trainer attributes a schedule reads."""

    def __init__(self, optimizer, steps=10, per_epoch=5, epochs=None, budget=None, time_s=0.0):
        self.optimizer, self.global_step, self.epochs, self._per = optimizer, 0, epochs, per_epoch
        self.max_steps = steps if epochs is None else epochs * per_epoch
        self.time_budget_s, self.train_time_s = budget, time_s

    def steps_per_epoch(self):
        return self._per

    fraction_done = Trainer.fraction_done


def test_schedules_follow_steps_epochs_or_the_clock():
    opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0)
    t = _Stub(opt, steps=10)
    tri = ScheduleLR("triangle", pct_start=0.5, start_factor=0.0, end_factor=0.0)
    tri.on_fit_start(t)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0)
    t.global_step = 5
    tri.on_batch_end(t, 5, 0.0, 0.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0)
    t.time_budget_s, t.train_time_s = 100.0, 80.0           # 80 % of the time used after 5 of 10 steps
    tri.on_batch_end(t, 5, 0.0, 0.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.4)
    e = _Stub(opt, per_epoch=5, epochs=4)                     # cosine counts whole epochs
    cos = ScheduleLR("cosine")
    e.global_step = 7                                        # inside epoch 2: 1 of 4 epochs done
    assert cos.factor(e) == pytest.approx(cosine(0.25, 0.0))
    step = ScheduleLR("step", step_size=2, gamma=0.5)
    e.global_step = 10                                       # 2 epochs done: one drop
    assert step.factor(e) == pytest.approx(0.5)
    warm = ScheduleLR("warmup_cosine", warmup_steps=4)
    e.global_step = 1
    assert warm.factor(e) == pytest.approx(2 / 4)


def test_lookahead_pulls_weights_to_their_average_and_ends_on_it():
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    la = Lookahead(every=1, base=0.5)

    class T:
        @staticmethod
        def fraction_done():
            return 1.0

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


def test_eval_monitor_records_points_and_rows():
    train, val = loaders(n=128, batch_size=16)               # 6 batches per pass
    values = iter([0.5, 0.7, 0.9, 0.95, 0.99])
    monitor = EvalMonitor(lambda: next(values), every_steps=4)
    model = small_model()
    trainer = fit(model, train, None, nn.CrossEntropyLoss(), _sgd(model), epochs=2, callbacks=[monitor],
                  device="cpu", progress=False)
    assert [p["step"] for p in monitor.points] == [4, 6, 8, 12]
    assert trainer.history[0]["test_accuracy"] == 0.7 and trainer.history[1]["test_accuracy"] == 0.95
    assert monitor.time_to(0.9) == monitor.points[2]["train_time_s"]
    assert monitor.time_to(0.999) is None
