"""The training loop: metrics, hooks, gradient accumulation, clipping, AMP guard, NaN stop."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from train_helpers import blobs, loaders, same_weights, small_model, weights

from dlcc.errors import ConfigError, TrainingDiverged
from dlcc.train import (Callback, LambdaCallback, TensorBatches, Trainer, evaluate, fit,
                        make_loader, make_scheduler)


def _sgd(model, lr=0.1, momentum=0.9):
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def test_fit_learns_and_reports_train_and_val_metrics_every_epoch():
    train, val = loaders()
    model = small_model()
    trainer = fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), epochs=4, device="cpu",
                  progress=False)
    history = trainer.history
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    for h in history:
        assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "time_s"} <= set(h)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_accuracy"] > 0.9
    # the reported val metrics are the ones `evaluate` computes for the final weights
    again = evaluate(model, val, nn.CrossEntropyLoss(), "cpu")
    assert again["loss"] == pytest.approx(history[-1]["val_loss"], rel=1e-6)
    assert again["accuracy"] == pytest.approx(history[-1]["val_accuracy"])
    assert trainer.global_step == 4 * len(train)


def test_hooks_are_called_in_order_with_the_contract_arguments():
    calls = []

    class Recorder(Callback):
        def on_fit_start(self, trainer):
            calls.append(("fit_start",))

        def on_epoch_start(self, trainer, epoch):
            calls.append(("epoch_start", epoch))

        def on_batch_end(self, trainer, step, loss, lr):
            assert isinstance(loss, float) and isinstance(lr, float)
            calls.append(("batch", step))

        def on_epoch_end(self, trainer, epoch):
            calls.append(("epoch_end", epoch))

        def on_eval(self, trainer, metrics):
            assert trainer.history[-1] is metrics
            calls.append(("eval", metrics["epoch"], metrics["step"]))

        def on_fit_end(self, trainer, metrics):
            calls.append(("fit_end", metrics["epoch"]))

    train, val = loaders(n=128, batch_size=32)   # 96 training samples -> 3 batches
    model = small_model()
    fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), epochs=2, callbacks=[Recorder()],
        device="cpu", progress=False)
    assert calls == [("fit_start",), ("epoch_start", 1), ("batch", 1), ("batch", 2), ("batch", 3),
                     ("epoch_end", 1), ("eval", 1, 3), ("epoch_start", 2), ("batch", 4), ("batch", 5),
                     ("batch", 6), ("epoch_end", 2), ("eval", 2, 6), ("fit_end", 2)]


def test_a_callback_can_stop_training_mid_epoch_and_between_epochs():
    train, val = loaders(n=256, batch_size=16)
    model = small_model()

    def stop_at_step_5(trainer, step, loss, lr):
        if step == 5:
            trainer.should_stop, trainer.stop_reason = True, "enough"

    trainer = fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), epochs=3, device="cpu",
                  callbacks=[LambdaCallback(on_batch_end=stop_at_step_5)], progress=False)
    assert trainer.global_step == 5 and len(trainer.history) == 1
    assert trainer.stop_reason == "enough"


def test_epochs_none_runs_until_a_callback_stops_and_logs_no_limit():
    train, val = loaders(n=128, batch_size=32)      # 3 steps per epoch
    model = small_model()
    lines = []

    def stop_at_epoch_4(trainer, metrics):
        if metrics["epoch"] == 4:
            trainer.should_stop, trainer.stop_reason = True, "time is up"

    trainer = fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), epochs=None, device="cpu",
                  callbacks=[LambdaCallback(on_eval=stop_at_epoch_4)], progress=False, log=lines.append)
    assert len(trainer.history) == 4 and trainer.global_step == 12
    assert lines[0].startswith("epoch 1  ") and lines[3].startswith("epoch 4  ") and lines[-1] == "time is up"


def test_gradient_accumulation_equals_the_big_batch_gradient():
    """4 micro-batches of 8 with accumulation == one batch of 32, weights after the step."""
    x, y = blobs(32)
    x, y = x.double(), y
    results = {}
    for batch_size, accum in ((32, 1), (8, 4)):
        model = small_model().double()
        loader = make_loader(TensorBatches(x, y), batch_size)
        trainer = Trainer(model, _sgd(model, lr=0.5), nn.CrossEntropyLoss(), grad_accum_steps=accum,
                          device="cpu", progress=False, metrics={})
        trainer.fit(loader, None, epochs=2)
        results[accum] = weights(model)
        assert trainer.global_step == 2
    for key in results[1]:
        torch.testing.assert_close(results[4][key], results[1][key], rtol=1e-12, atol=1e-12)


def test_gradient_accumulation_with_a_short_last_group():
    """10 batches with accumulation 4 -> groups of 4, 4, 2: the last one is averaged over 2."""
    x, y = blobs(20)
    x = x.double()
    model = small_model().double()
    loader = make_loader(TensorBatches(x, y), 2)
    trainer = Trainer(model, _sgd(model, lr=0.5, momentum=0.0), nn.CrossEntropyLoss(),
                      grad_accum_steps=4, device="cpu", progress=False, metrics={})
    trainer.fit(loader, None, epochs=1)
    reference = small_model().double()
    opt = _sgd(reference, lr=0.5, momentum=0.0)
    for group in (slice(0, 8), slice(8, 16), slice(16, 20)):
        opt.zero_grad()
        nn.CrossEntropyLoss()(reference(x[group]), y[group]).backward()
        opt.step()
    assert trainer.global_step == 3
    for key, value in weights(reference).items():
        torch.testing.assert_close(weights(model)[key], value, rtol=1e-12, atol=1e-12)


def test_gradient_clipping_limits_the_update_norm():
    x, y = blobs(64)
    model = small_model()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    loader = make_loader(TensorBatches(x * 50, y), 64)        # large inputs, large gradients
    trainer = Trainer(model, _sgd(model, lr=1.0, momentum=0.0), nn.CrossEntropyLoss(),
                      clip_grad_norm=0.01, device="cpu", progress=False)
    trainer.fit(loader, None, epochs=1)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    # one plain SGD step with lr 1: the update is the clipped gradient
    assert (after - before).norm().item() == pytest.approx(0.01, rel=1e-4)


def test_amp_is_ignored_on_cpu():
    train, val = loaders(n=128)
    results = []
    for amp in ("off", "fp16", "bf16", "auto"):
        model = small_model()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer = fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), 1, amp=amp,
                          device="cpu", progress=False)
        assert trainer.amp_dtype is None and trainer.scaler is None
        assert any("CUDA only" in str(w.message) for w in caught) == (amp in ("fp16", "bf16"))
        results.append(weights(model))
        train.generator.manual_seed(0)
    assert all(same_weights(results[0], r) for r in results[1:])


@pytest.mark.parametrize("poison", ["nan_input", "huge_lr"])
def test_nan_or_inf_loss_stops_with_training_diverged(poison):
    x, y = blobs(64)
    if poison == "nan_input":
        x[37, 2] = float("nan")
    model = small_model()
    lr = 1e12 if poison == "huge_lr" else 0.1
    loader = make_loader(TensorBatches(x, y), 8)
    with pytest.raises(TrainingDiverged) as info:
        fit(model, loader, None, nn.CrossEntropyLoss(), _sgd(model, lr=lr), 5, device="cpu", progress=False)
    message = str(info.value)
    assert "epoch" in message and "optimizer step" in message and info.value.fix
    if poison == "nan_input":   # sample 37 is in batch 5 of epoch 1
        assert "the training loss became nan at epoch 1, batch 5 (optimizer step 5)" in message


def test_scheduler_is_stepped_per_epoch_or_per_step():
    train, _ = loaders(n=128, batch_size=32)           # 3 batches per epoch
    for interval, expected_steps in (("epoch", 4), ("step", 12)):
        model = small_model()
        opt = _sgd(model)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
        fit(model, train, None, nn.CrossEntropyLoss(), opt, 4, scheduler=sched,
            scheduler_interval=interval, device="cpu", progress=False)
        assert sched.last_epoch == expected_steps


def test_onecycle_runs_to_its_last_step_without_error():
    train, val = loaders(n=128, batch_size=32)
    model = small_model()
    opt = _sgd(model)
    sched, interval = make_scheduler("onecycle", opt, 3, len(train), max_lr=0.2)
    trainer = fit(model, train, val, nn.CrossEntropyLoss(), opt, 3, scheduler=sched,
                  scheduler_interval=interval, device="cpu", progress=False)
    assert trainer.global_step == sched.total_steps == 9


def test_reduce_on_plateau_gets_the_validation_loss():
    train, val = loaders(n=128)
    model = small_model()
    opt = _sgd(model)
    sched, interval = make_scheduler("plateau", opt, 3, len(train), patience=0, factor=0.1)
    trainer = fit(model, train, val, nn.CrossEntropyLoss(), opt, 3, scheduler=sched,
                  scheduler_interval=interval, device="cpu", progress=False)
    assert sched.best == pytest.approx(min(h["val_loss"] for h in trainer.history))


@pytest.mark.parametrize("kwargs, fragment", [
    ({"scheduler_interval": "batch"}, "scheduler_interval='batch'"),
    ({"grad_accum_steps": 0}, "grad_accum_steps must be >= 1"),
    ({"clip_grad_norm": -1.0}, "clip_grad_norm must be positive"),
    ({"amp": "fp8"}, "amp='fp8' is not one of"),
    ({"config": {"path": object()}}, "config must be JSON-able"),
])
def test_bad_trainer_arguments_are_config_errors(kwargs, fragment):
    model = small_model()
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        Trainer(model, _sgd(model), nn.CrossEntropyLoss(), device="cpu", **kwargs)


def test_bad_fit_arguments_are_config_errors():
    train, val = loaders(n=64)
    model = small_model()
    with pytest.raises(ConfigError, match="epochs must be >= 1"):
        fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), 0, device="cpu")
    with pytest.raises(ConfigError, match="resume=True needs out_dir"):
        fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), 1, resume=True, device="cpu")


def test_log_prints_one_line_per_epoch():
    lines = []
    train, val = loaders(n=64)
    model = small_model()
    fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), 2, device="cpu", progress=False,
        log=lines.append)
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2  train_loss ")
    assert "val_accuracy" in lines[1]


def test_progress_bars_show_on_a_terminal_only(capsys, monkeypatch):
    import sys

    train, val = loaders(n=128)
    model = small_model()
    fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), 2, device="cpu", progress=True)
    assert "epoch" not in capsys.readouterr().err               # not a terminal: no bars
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    lines = []
    fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), 2, device="cpu", progress=True,
        log=lines.append)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "6/6" in err and "step/s" in err
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2  train_loss")
    fit(model, train, val, nn.CrossEntropyLoss(), _sgd(model), 1, device="cpu", progress=False)
    assert "epoch" not in capsys.readouterr().err               # progress=False: no bars
