"""TrackerCallback against the training-loop hook contract (a stand-in trainer drives the hooks)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dlcc.track import TrackerCallback, make_tracker
from dlcc.track.jsonl import read_jsonl


def _drive(callback, epochs=2, batches=5):
    """Call the hooks in the order the training loop does; returns the stand-in trainer."""
    trainer = SimpleNamespace(config={"optimizer": {"lr": 0.1}, "epochs": epochs}, global_step=0,
                              should_stop=False)
    callback.on_fit_start(trainer)
    for epoch in range(epochs):
        callback.on_epoch_start(trainer, epoch)
        for _ in range(batches):
            trainer.global_step += 1
            callback.on_batch_end(trainer, trainer.global_step, 1.0 / trainer.global_step, 0.1)
        callback.on_epoch_end(trainer, epoch)
        callback.on_eval(trainer, {"epoch": epoch, "step": trainer.global_step, "train_loss": 1.0 - epoch / 10,
                                   "val_loss": 2.0 - epoch / 10, "val_accuracy": 0.5 + epoch / 10, "lr": 0.1})
    callback.on_fit_end(trainer, {"test_accuracy": 0.61})
    return trainer


def test_callback_logs_params_batches_epochs_and_final(tmp_path):
    tracker = make_tracker("jsonl", tmp_path, "r")
    _drive(TrackerCallback(tracker, log_every=2, close_at_end=True))
    records = read_jsonl(tmp_path)
    assert records[-1]["type"] == "end"  # close_at_end closed it
    assert [r["params"] for r in records if r["type"] == "params"] == [{"optimizer.lr": 0.1, "epochs": 2}]
    metrics = [r for r in records if r["type"] == "metrics"]
    batch = [r for r in metrics if "batch_loss" in r["metrics"]]
    assert [r["step"] for r in batch] == [2, 4, 6, 8, 10]
    assert batch[0]["metrics"] == {"batch_loss": 0.5, "lr": 0.1}
    epochs = [r for r in metrics if "val_accuracy" in r["metrics"]]
    assert [(r["step"], r["metrics"]["epoch"]) for r in epochs] == [(5, 0), (10, 1)]
    assert epochs[1]["metrics"]["val_accuracy"] == 0.6
    assert metrics[-1] == {**metrics[-1], "step": 10, "metrics": {"test_accuracy": 0.61}}


def test_callback_leaves_tracker_open_by_default(tmp_path):
    tracker = make_tracker("jsonl", tmp_path, "r")
    _drive(TrackerCallback(tracker, log_params=False))
    tracker.log_metrics({"after_fit": 1.0}, 99)  # the caller still logs, e.g. test metrics
    tracker.close()
    records = read_jsonl(tmp_path)
    assert not [r for r in records if r["type"] == "params"]
    assert [r["metrics"] for r in records if r["type"] == "metrics"][-1] == {"after_fit": 1.0}


def test_callback_in_the_real_training_loop(tmp_path):
    """dlcc.train.fit drives the hooks; TensorBoard ends up with per-epoch and per-batch curves."""
    import torch
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch import nn

    from dlcc.train import TensorBatches, fit, make_loader

    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 4, generator=g)
    y = (x[:, 0] > 0).long()
    model = nn.Linear(4, 2)
    tracker = make_tracker("tb,jsonl", tmp_path, "tiny", config={"lr": 0.1})
    trainer = fit(model, make_loader(TensorBatches(x[:64], y[:64]), 16), make_loader(TensorBatches(x[64:], y[64:]), 16),
                  nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 3,
                  callbacks=[TrackerCallback(tracker, log_every=1)], device="cpu", progress=False,
                  config={"lr": 0.1, "epochs": 3})
    tracker.close()
    acc = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    val = acc.Scalars("val_loss")
    assert [e.step for e in val] == [4, 8, 12]  # epochs end at global steps 4, 8, 12
    assert [e.value for e in val] == pytest.approx([h["val_loss"] for h in trainer.history], rel=1e-6)
    assert [e.step for e in acc.Scalars("batch_loss")] == list(range(1, 13))
    records = read_jsonl(tmp_path)
    assert len([r for r in records if r["type"] == "params"]) == 1  # not again at fit start
