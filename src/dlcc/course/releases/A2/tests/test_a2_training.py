"""Public tests for the training step (a2_pytorch_mlp.py), the optimizers and schedules and
the per-epoch tracking (a2_pytorch_mlp_tracked.py). They use tiny random data, so they run
in seconds; the models they train come from checking.py, so A2.6 does not depend on A2.5."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close

TRAIN = "a2_pytorch_mlp"
TRACKED = "a2_pytorch_mlp_tracked"


def tiny_data(n=16, d=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, classes, size=n)


@pytest.mark.task("A2.6")
def test_one_step_is_plain_sgd(student):
    """One batch, SGD without momentum: the new weights must be W - lr * dL/dW."""
    import torch

    check = student.module("checking")
    x, y = tiny_data()
    model = check.reference_mlp(12, [8], 3, 0)
    before = check.get_parameters(model)
    losses = student.module(TRAIN).train_one_epoch(model, check.make_loader(x, y, 16),
                                                   check.cross_entropy(), check.sgd(model, 0.1, 0.0))
    assert isinstance(losses, list) and len(losses) == 1, \
        f"train_one_epoch should return one loss per batch (1 batch here), got {losses!r}"
    params = [torch.tensor(p, requires_grad=True) for p in before]
    h = torch.relu(torch.as_tensor(x) @ params[0].T + params[1])
    loss = torch.nn.functional.cross_entropy(h @ params[2].T + params[3], torch.as_tensor(y))
    grads = torch.autograd.grad(loss, params)
    assert_close(losses[0], loss.item(), rtol=1e-5, name="the returned loss of the batch")
    after = check.get_parameters(model)
    for i, (p, g, new) in enumerate(zip(params, grads, after)):
        assert_close(new, (p - 0.1 * g).detach().numpy(), rtol=1e-4, atol=1e-6,
                     name=f"parameter #{i} after one step")


@pytest.mark.task("A2.6")
def test_overfits_a_small_batch(student):
    check = student.module("checking")
    x, y = tiny_data(seed=1)
    model = check.reference_mlp(12, [32], 3, 1)
    loader, loss_func = check.make_loader(x, y, 8), check.cross_entropy()
    optimizer = check.sgd(model, 0.1)
    first = None
    for _ in range(40):
        losses = student.module(TRAIN).train_one_epoch(model, loader, loss_func, optimizer)
        first = losses[0] if first is None else first
    assert len(losses) == 2, f"16 samples in batches of 8 are 2 batches, got {len(losses)} losses"
    final = check.mean_loss(model, x, y)
    assert final < 0.05, f"after 40 epochs on 16 samples the loss is {final:.4f} (started at " \
                         f"{first:.4f}); a working training step gets it below 0.05"


@pytest.mark.task("A2.7")
def test_make_optimizer_sgd_and_adam(student):
    check, tracked = student.module("checking"), student.module(TRACKED)
    model = check.reference_mlp(4, [3], 2, 0)
    sgd = check.optimizer_summary(tracked.make_optimizer(
        {"optimizer": "sgd", "learning_rate": 0.05, "reg": 0.001}, check.get_parameter_list(model)))
    assert sgd["type"] == "SGD", f"optimizer 'sgd' gave {sgd['type']}"
    assert_close([sgd["lr"], sgd["momentum"], sgd["weight_decay"]], [0.05, 0.9, 0.001],
                 name="SGD lr, momentum, weight_decay")
    adam = check.optimizer_summary(tracked.make_optimizer(
        {"optimizer": "adam", "learning_rate": 0.002, "reg": 0.0}, check.get_parameter_list(model)))
    assert adam["type"] == "Adam", f"optimizer 'adam' gave {adam['type']}"
    assert_close([adam["lr"], *adam["betas"], adam["eps"], adam["weight_decay"]],
                 [0.002, 0.9, 0.999, 1e-8, 0.0], name="Adam lr, betas, eps, weight_decay")


@pytest.mark.task("A2.7")
def test_step_schedule_halves_every_10_epochs(student):
    check, tracked = student.module("checking"), student.module(TRACKED)
    model = check.reference_mlp(4, [3], 2, 0)
    config = {"optimizer": "sgd", "learning_rate": 0.05, "reg": 0.0, "scheduler": "step", "epochs": 25}
    optimizer = tracked.make_optimizer(config, check.get_parameter_list(model))
    scheduler, interval = tracked.make_scheduler(config, optimizer, 7)
    assert interval == "epoch", f"StepLR is stepped once per epoch; interval is {interval!r}"
    trace = check.scheduler_trace(scheduler, optimizer, 25)
    assert_close(trace["lr"], [0.05] * 10 + [0.025] * 10 + [0.0125] * 5, name="learning rate per epoch")


@pytest.mark.task("A2.7")
def test_one_cycle_schedule_course_settings(student):
    check, tracked = student.module("checking"), student.module(TRACKED)
    model = check.reference_mlp(4, [3], 2, 0)
    config = {"optimizer": "sgd", "learning_rate": 0.05, "reg": 0.0, "scheduler": "one_cycle", "epochs": 2}
    optimizer = tracked.make_optimizer(config, check.get_parameter_list(model))
    scheduler, interval = tracked.make_scheduler(config, optimizer, 5)
    assert interval == "batch", f"OneCycle is stepped once per batch; interval is {interval!r}"
    trace = check.scheduler_trace(scheduler, optimizer, 10)
    assert_close(trace["lr"][:3], [0.004, 0.102, 0.2], rtol=1e-6,
                 name="learning rate of the first 3 batches (0.2 / 50, then up to max_lr 0.2)")
    assert_close(trace["lr"][-1], 4e-7, rtol=1e-6, name="learning rate of the last batch")
    assert_close(trace["momentum"][:3], [0.95, 0.9, 0.85], rtol=1e-6,
                 name="momentum of the first 3 batches (cycled from 0.95 down to 0.85)")


def tracked_config(**changes):
    config = {"seed": 3, "epochs": 2, "batch_size": 20, "learning_rate": 0.01, "optimizer": "sgd",
              "num_hidden_layers": [16], "scheduler": "step", "reg": 0.0, "num_val": 20}
    config.update(changes)
    return config


def random_cifar_like(n=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(32, 32, 3, n)).astype(np.float32)
    Y = rng.integers(0, 10, size=n).astype(np.int64)
    return {"train": (X, Y), "test": (X[..., :10], Y[:10])}


@pytest.mark.task("A2.8")
def test_logs_four_metrics_and_lr_every_epoch(student):
    check = student.module("checking")
    tracker = check.recording_tracker()
    model = check.reference_mlp(3072, [16], 10, 0)
    _, history = student.module(TRACKED).run_training(tracked_config(), random_cifar_like(), tracker, model)
    epochs = [c for c in check.tracker_calls(tracker)
              if c["call"] == "log_metrics" and "loss_val" in c["metrics"]]
    # 80 training images in batches of 20: 4 batches per epoch, so epochs end at steps 4 and 8
    assert [c["step"] for c in epochs] == [4, 8], \
        "expected one log_metrics call per epoch, at step = batches trained so far (4, 8); found " \
        f"steps {[c['step'] for c in epochs]}"
    assert [c["metrics"].get("epoch") for c in epochs] == [1, 2], "log the epoch number (1, 2) as 'epoch'"
    for key in ("loss_train", "loss_val", "accu_train", "accu_val", "lr"):
        assert all(key in c["metrics"] for c in epochs), f"the per-epoch log has no {key!r}"
        assert_close([c["metrics"][key] for c in epochs], history[key], rtol=1e-6,
                     name=f"logged {key} vs. the returned history[{key!r}]")
    assert_close([c["metrics"]["lr"] for c in epochs], [0.01, 0.01], name="logged lr")
