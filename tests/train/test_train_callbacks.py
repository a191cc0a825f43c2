"""BestModel and EarlyStopping, driven by contrived validation sequences."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from train_helpers import loaders, same_weights, small_model, weights

from dlcc.errors import ConfigError
from dlcc.train import BestModel, EarlyStopping, LambdaCallback, fit, load_checkpoint


def _forced(sequence, key="val_loss"):
    """A callback that overwrites metrics[key] with sequence[epoch - 1] (runs before the others)."""
    def on_eval(trainer, metrics):
        metrics[key] = sequence[metrics["epoch"] - 1]
    return LambdaCallback(on_eval=on_eval)


def _snapshots(store):
    return LambdaCallback(on_eval=lambda trainer, metrics: store.__setitem__(metrics["epoch"], weights(trainer.model)))


@pytest.mark.parametrize("mode, sequence, best_epoch", [
    ("min", [0.9, 0.5, 0.7, 0.3, 0.4, 0.6], 4),
    ("max", [0.1, 0.8, 0.7, 0.2, 0.8, 0.5], 2),       # a tie does not replace the earlier best
    ("min", [0.9, float("nan"), 0.95, 1.0, 0.91, 1.2], 1),  # NaN is never the best
])
def test_best_model_restores_the_weights_of_the_best_epoch(tmp_path, mode, sequence, best_epoch):
    train, val = loaders()
    model = small_model()
    store = {}
    best = BestModel("val_score", mode)
    trainer = fit(model, train, val, nn.CrossEntropyLoss(),
                  torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=len(sequence),
                  callbacks=[_forced(sequence, "val_score"), _snapshots(store), best],
                  device="cpu", progress=False, out_dir=tmp_path)
    assert best.best_epoch == best_epoch
    assert same_weights(weights(trainer.model), store[best_epoch])
    assert not same_weights(weights(trainer.model), store[len(sequence)])
    on_disk = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    assert on_disk["epoch"] == best_epoch and same_weights(on_disk["model"], store[best_epoch])


@pytest.mark.parametrize("mode, min_delta, sequence, stops_after", [
    ("min", 0.0, [1.0, 0.9, 0.8, 0.85, 0.81, 0.82, 0.5, 0.4], 6),   # 3 epochs without a new best
    ("min", 0.05, [1.0, 0.9, 0.87, 0.86, 0.85, 0.3, 0.2, 0.1], 5),  # 0.87-0.85 are too small
    ("max", 0.0, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], None),   # always improving: no stop
    ("max", 0.0, [0.5, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], 4),      # equal is not better
])
def test_early_stopping_patience_min_delta_and_mode(mode, min_delta, sequence, stops_after):
    train, val = loaders(n=128)
    model = small_model()
    stopper = EarlyStopping("val_score", patience=3, min_delta=min_delta, mode=mode)
    trainer = fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  epochs=len(sequence), callbacks=[_forced(sequence, "val_score"), stopper],
                  device="cpu", progress=False)
    if stops_after is None:
        assert len(trainer.history) == len(sequence) and trainer.stop_reason is None
    else:
        assert len(trainer.history) == stops_after
        assert trainer.stop_reason.startswith("early stopping: val_score did not improve")


def test_early_stopping_and_best_model_together_keep_the_best_not_the_last(tmp_path):
    sequence = [1.0, 0.6, 0.7, 0.8, 0.9, 0.95]
    train, val = loaders(n=128)
    model = small_model()
    store = {}
    trainer = fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  epochs=6, callbacks=[_forced(sequence), _snapshots(store), BestModel(),
                                       EarlyStopping(patience=2)], device="cpu", progress=False)
    assert len(trainer.history) == 4
    assert same_weights(weights(trainer.model), store[2])


def test_monitoring_a_missing_metric_names_the_available_ones():
    train, _ = loaders(n=64)
    model = small_model()
    with pytest.raises(ConfigError, match=r"monitors 'val_loss' but the epoch metrics are \[.*'train_loss'"):
        fit(model, train, None, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 2,
            callbacks=[EarlyStopping("val_loss")], device="cpu", progress=False)


def test_bad_callback_settings():
    with pytest.raises(ConfigError, match="patience >= 1"):
        EarlyStopping(patience=0)
    with pytest.raises(ConfigError, match="mode must be 'min' or 'max'"):
        BestModel(mode="up")
    with pytest.raises(ConfigError, match="unknown callback hook"):
        LambdaCallback(on_step=print)
