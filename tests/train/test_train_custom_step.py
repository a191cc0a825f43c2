"""A custom training step (`fit(step=...)`): loops that are not one loss and one optimizer, here
a tiny GAN - its losses in the history, both optimizers in checkpoints, exact resume, and LR
schedules that scale every optimizer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from train_helpers import same_weights, weights

from dlcc.errors import ConfigError
from dlcc.train import ScheduleLR, TensorBatches, fit, make_loader
from dlcc.train.optim import OptimizerGroup


class GANStep:
    """One discriminator step and one generator step per batch (non-saturating loss)."""

    def __init__(self, model: nn.ModuleDict, lr: float = 0.01):
        self.model = model
        self.optimizers = {"D": torch.optim.Adam(model["D"].parameters(), lr=lr, betas=(0.5, 0.999)),
                           "G": torch.optim.Adam(model["G"].parameters(), lr=lr, betas=(0.5, 0.999))}

    def __call__(self, trainer, batch):
        (real,) = batch
        G, D = self.model["G"], self.model["D"]
        z = torch.randn(len(real), 4)
        fake = G(z)
        d_loss = (F.binary_cross_entropy_with_logits(D(real), torch.ones(len(real), 1))
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), torch.zeros(len(real), 1)))
        self.optimizers["D"].zero_grad()
        d_loss.backward()
        self.optimizers["D"].step()
        g_loss = F.binary_cross_entropy_with_logits(D(fake), torch.ones(len(real), 1))
        self.optimizers["G"].zero_grad()
        g_loss.backward()
        self.optimizers["G"].step()
        return {"d_loss": d_loss, "g_loss": g_loss}


def _gan(seed=0):
    torch.manual_seed(seed)
    return nn.ModuleDict({"G": nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)),
                          "D": nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))})


def _data():
    g = torch.Generator().manual_seed(1)
    real = torch.randn(256, 2, generator=g) * 0.5 + torch.tensor([2.0, -1.0])
    return make_loader(TensorBatches(real), 32, shuffle=True, seed=3)       # 8 batches per pass


def _run(out, steps, resume=False):
    model = _gan()
    step = GANStep(model)
    return fit(model, _data(), None, None, None, steps=steps, eval_every=4, step=step, device="cpu",
               progress=False, out_dir=out, resume=resume, callbacks=[ScheduleLR("step", step_size=1, gamma=0.5)])


def test_custom_step_losses_are_logged_and_both_optimizers_are_saved(tmp_path):
    trainer = _run(tmp_path, 12)
    assert [row["step"] for row in trainer.history] == [4, 8, 12]
    assert {"train_d_loss", "train_g_loss"} <= set(trainer.history[-1])
    state = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert set(state["optimizer"]) == {"D", "G"}
    groups = trainer.optimizer.param_groups
    assert len(groups) == 2 and groups[0]["lr"] == groups[1]["lr"] == pytest.approx(0.005)   # both scaled (x0.5)


def test_custom_step_resumes_exactly_in_the_middle_of_a_pass(tmp_path):
    full = _run(tmp_path / "full", 14)
    _run(tmp_path / "part", 4)
    torch.manual_seed(99)
    resumed = _run(tmp_path / "part", 14, resume=True)
    assert same_weights(weights(full.model), weights(resumed.model))


def test_custom_step_settings_that_do_not_apply_are_refused():
    model = _gan()
    with pytest.raises(ConfigError, match="takes its own optimizer steps"):
        fit(model, _data(), None, None, None, steps=2, step=GANStep(model), grad_accum_steps=2, device="cpu",
            progress=False)
    with pytest.raises(ConfigError, match="must return its losses"):
        fit(model, _data(), None, None, OptimizerGroup({"all": torch.optim.SGD(model.parameters(), lr=0.1)}),
            steps=2, step=_Bad(), device="cpu", progress=False)


class _Bad:
    optimizers = {}

    def __call__(self, trainer, batch):
        return 1.0


def test_the_run_helper_trains_a_custom_step_and_selects_on_a_callbacks_metric(tmp_path):
    from dlcc.train import EvalMonitor, RunContext, Task, TrainConfig, train_and_report

    model = _gan()
    step = GANStep(model)
    scores = iter([0.5, 0.2, 0.4])                       # lower is better; the second evaluation wins
    monitor = EvalMonitor(lambda: next(scores), key="val_distance")
    snapshots = {}
    task = Task(model, _data(), None, None, step=step, callbacks=[monitor],
                artifacts={"latent": 4}, title="tiny-gan")
    task.callbacks.append(__import__("dlcc.train", fromlist=["LambdaCallback"]).LambdaCallback(
        on_eval=lambda t, m: snapshots.__setitem__(m["step"], weights(t.model))))
    cfg = TrainConfig(epochs=None, steps=12, eval_every=4, select="val_distance")
    ctx = RunContext(out_dir=tmp_path, device="cpu", progress=False, log=lambda line: None)
    metrics = train_and_report(task, cfg, ctx)
    assert metrics["best_step"] == 8 and metrics["val_distance"] == 0.2
    assert {"train_d_loss", "train_g_loss"} <= set(metrics)
    assert same_weights(weights(model), snapshots[8])
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert saved["artifacts"] == {"latent": 4} and set(saved["model"]) == set(model.state_dict())
    with pytest.raises(ConfigError, match="train.clip_grad_norm cannot apply"):
        train_and_report(Task(_gan(), _data(), None, None, step=GANStep(_gan())),
                         TrainConfig(epochs=None, steps=2, clip_grad_norm=1.0, select="last"),
                         RunContext(out_dir=tmp_path / "b", device="cpu", progress=False, log=lambda line: None))
