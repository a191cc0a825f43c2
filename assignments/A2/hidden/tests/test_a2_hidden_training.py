"""Hidden tests for training, schedules, tracking and the sweep: exact agreement with the
solution, a real CIFAR-10 slice that must be learned well above chance, and the sweep's
search space translated faithfully."""

from argparse import Namespace

import numpy as np
import pytest

from dlcc.course.checks import assert_close

TRAIN = "a2_pytorch_mlp"
TRACKED = "a2_pytorch_mlp_tracked"


@pytest.mark.task("A2.6", weight=2)
def test_one_epoch_matches_solution(student, solution):
    """3 batches with momentum and weight decay, no shuffling: the same weights as the solution."""
    rng = np.random.default_rng(40)
    x = rng.normal(size=(30, 20)).astype(np.float32)
    y = rng.integers(0, 4, size=30)
    check, ref = student.module("checking"), solution.module("checking")
    model = check.reference_mlp(20, [12, 8], 4, 41)
    losses = student.module(TRAIN).train_one_epoch(model, check.make_loader(x, y, 10), check.cross_entropy(),
                                                   check.sgd(model, 0.05, 0.9, 0.01))
    ref_model = ref.reference_mlp(20, [12, 8], 4, 41)
    ref_losses = solution.module(TRAIN).train_one_epoch(ref_model, ref.make_loader(x, y, 10), ref.cross_entropy(),
                                                        ref.sgd(ref_model, 0.05, 0.9, 0.01))
    assert_close(losses, ref_losses, rtol=1e-5, name="losses of the 3 batches")
    for i, (a, b) in enumerate(zip(check.get_parameters(model), ref.get_parameters(ref_model))):
        assert_close(a, b, rtol=1e-4, atol=1e-6, name=f"parameter #{i} after one epoch")


@pytest.mark.task("A2.6", weight=2)
def test_cifar_slice_learned_above_chance(student):
    """Your dataset, MLP and training step together, on 2,000 real CIFAR-10 images."""
    data = student.module("util").load_data.keep(limit=(2000, 1000), seed=11)
    args = Namespace(num_epochs=4, batch_size=64, learning_rate=0.05, reg=0.0, num_hidden_layers=[300, 100],
                     num_val=400, seed=0, use_gpu=False)
    model, history = student.module(TRAIN).run_training(args, data)
    accuracy = student.module("checking").split_accuracy(model, data, "test")
    assert accuracy > 0.25, f"test accuracy {accuracy:.3f} after 4 epochs on 1,600 images; chance is 0.1 " \
                            "and a working pipeline reaches about 0.35"


def trace(student_like, config, steps_per_epoch, steps):
    check, tracked = student_like.module("checking"), student_like.module(TRACKED)
    model = check.reference_mlp(4, [3], 2, 0)
    optimizer = tracked.make_optimizer(config, check.get_parameter_list(model))
    scheduler, interval = tracked.make_scheduler(config, optimizer, steps_per_epoch)
    return interval, check.scheduler_trace(scheduler, optimizer, steps), check.optimizer_summary(optimizer)


@pytest.mark.task("A2.7")
@pytest.mark.parametrize("config,steps_per_epoch,steps", [
    ({"optimizer": "adam", "learning_rate": 0.003, "reg": 0.01, "scheduler": "one_cycle", "epochs": 7}, 13, 91),
    ({"optimizer": "sgd", "learning_rate": 0.1, "reg": 0.005, "scheduler": "one_cycle", "epochs": 3}, 40, 120),
    ({"optimizer": "adam", "learning_rate": 0.01, "reg": 0.0, "scheduler": "step", "epochs": 33}, 5, 33),
])
def test_schedules_match_solution(student, solution, config, steps_per_epoch, steps):
    interval, got, opt = trace(student, config, steps_per_epoch, steps)
    ref_interval, ref, ref_opt = trace(solution, config, steps_per_epoch, steps)
    assert interval == ref_interval, f"{config['scheduler']}: interval {interval!r}, expected {ref_interval!r}"
    assert got["type"] == ref["type"], f"{config['scheduler']} gave a {got['type']}, expected {ref['type']}"
    # atol 0: OneCycle ends near 4e-7, where an absolute tolerance would hide a wrong final_div_factor
    assert_close(got["lr"], ref["lr"], rtol=1e-6, atol=0,
                 name=f"learning rates ({config['optimizer']}, {config['scheduler']})")
    assert_close(got["momentum"], ref["momentum"], rtol=1e-6,
                 name=f"momentum / beta1 ({config['optimizer']}, {config['scheduler']})")
    assert opt == ref_opt, f"optimizer {opt} differs from {ref_opt} (type, lr, momentum, betas, eps, weight decay)"


@pytest.mark.task("A2.7")
def test_unknown_names_are_refused(student):
    check, tracked = student.module("checking"), student.module(TRACKED)
    params = check.get_parameter_list(check.reference_mlp(4, [3], 2, 0))
    with pytest.raises(Exception) as info:
        tracked.make_optimizer({"optimizer": "rmsprop", "learning_rate": 0.1, "reg": 0.0}, params)
    assert "rmsprop" in str(info.value), f"the error should name the unknown optimizer: {info.value}"
    optimizer = tracked.make_optimizer({"optimizer": "sgd", "learning_rate": 0.1, "reg": 0.0}, params)
    with pytest.raises(Exception) as info:
        tracked.make_scheduler({"scheduler": "cosine", "epochs": 3}, optimizer, 4)
    assert "cosine" in str(info.value), f"the error should name the unknown scheduler: {info.value}"


@pytest.mark.task("A2.8")
def test_tracking_one_cycle_on_cifar(student):
    check = student.module("checking")
    data = student.module("util").load_data.keep(limit=(300, 10), seed=12)
    config = {"seed": 4, "epochs": 3, "batch_size": 50, "learning_rate": 0.05, "optimizer": "sgd",
              "num_hidden_layers": [32], "scheduler": "one_cycle", "reg": 0.0, "num_val": 50}
    tracker = check.recording_tracker()
    _, history = student.module(TRACKED).run_training(config, data, tracker, check.reference_mlp(3072, [32], 10, 2))
    calls = [c for c in check.tracker_calls(tracker) if c["call"] == "log_metrics"]
    epochs = [c for c in calls if "accu_val" in c["metrics"]]
    assert [c["step"] for c in epochs] == [5, 10, 15], \
        "one per-epoch log_metrics call at step = batches trained so far (5, 10, 15) expected; found " \
        f"steps {[c['step'] for c in epochs]}"
    assert [c["metrics"].get("epoch") for c in epochs] == [1, 2, 3], "log the epoch number as 'epoch'"
    for key in ("loss_train", "loss_val", "accu_train", "accu_val", "lr"):
        values = [c["metrics"].get(key) for c in epochs]
        assert None not in values, f"{key!r} is missing from some per-epoch logs"
        assert_close(values, history[key], rtol=1e-6, name=f"logged {key} vs. history")
    for key in ("accu_train", "accu_val"):
        assert all(0.0 <= v <= 1.0 for v in history[key]), f"{key} should be a fraction in [0, 1]: {history[key]}"
    # OneCycle over 3 epochs of 5 batches (250 training images): the lr at each epoch's start
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, epochs=3, steps_per_epoch=5, pct_start=0.3,
                                                div_factor=50, final_div_factor=1e4)
    expected = []
    for step in range(15):
        if step % 5 == 0:
            expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert_close(history["lr"], expected, rtol=1e-6, name="the lr logged at the start of each epoch")


def _norm(value):
    """Numbers as floats and lists as tuples, so 0 == 0.0 and [300, 100] == [300.0, 100]."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    return value


@pytest.mark.task("A2.9", weight=2)
def test_sweep_space_is_the_course_space_under_recipe_names(student):
    from dlcc.recipes.registry import get_recipe
    from dlcc.tune import parse_space
    from dlcc.tune.params import to_overrides

    space = parse_space(student.module("a2_sweep").make_sweep_config(), source="make_sweep_config()")
    assert space.metric == "val_accuracy" and space.direction == "maximize", \
        f"select on validation accuracy, maximized (found {space.metric}, {space.direction})"
    recipe = get_recipe("cifar10-mlp")
    for name, param in space.params.items():
        for value in param.extremes():
            recipe.make_config(to_overrides({name: value}))  # raises on unknown keys and bad values
    expected = {
        "seed": ("int", 1, 2**32), "train.lr": ("float", 0.05, 0.2),
        "train.epochs": ("categorical", [30, 40, 50, 60, 70]), "train.batch_size": ("categorical", [256, 512]),
        "train.weight_decay": ("categorical", [0, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 1e-1]),
        "model.hidden": ("categorical", [[300, 200, 100], [300, 300, 200, 100], [200, 100], [300, 300],
                                         [200, 200, 200, 200, 100]]),
        "train.optimizer": ("categorical", ["adam", "sgd"]), "train.schedule": ("categorical", ["onecycle", "step"]),
    }
    missing = sorted(set(expected) - set(space.params))
    assert not missing, f"the sweep does not search {missing} (the course searched them); it searches " \
                        f"{sorted(space.params)}"
    for name, spec in expected.items():
        p = space.params[name]
        if spec[0] == "categorical":
            got = sorted(map(repr, map(_norm, p.choices)))
            assert p.kind == "categorical" and got == sorted(map(repr, map(_norm, spec[1]))), \
                f"{name}: choices {p.choices}, expected the course's {spec[1]}"
        else:
            assert p.kind == spec[0] and p.low == pytest.approx(spec[1]) and p.high == pytest.approx(spec[2]) \
                and not p.log, f"{name}: {p.kind} in [{p.low}, {p.high}] (log={p.log}), expected a uniform " \
                               f"{spec[0]} in [{spec[1]}, {spec[2]}] as in the course"
