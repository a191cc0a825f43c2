"""Fast adversarial training (`adversarial.*` of the CIFAR-10 recipes): the batches it trains
on, the robust test report, exact resume with random starts, and bad settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tiny_runs
import torch
from torch import nn

from dlcc.attacks import AdversarialBatches
from dlcc.cli import main
from dlcc.data.cifar_gpu import CIFAR10_MEAN, CIFAR10_STD, CifarBatches
from dlcc.errors import InputError
from dlcc.models.pixels import PixelInput


@pytest.mark.parametrize("method, radius", [("fgsm-rs", 8 / 255), ("n-fgsm", 3 * 8 / 255)])
def test_adversarial_batches_stay_in_range_and_leave_parameters_alone(method, radius):
    """FGSM-RS stays in the eps-ball; N-FGSM (noise 2 eps + step eps, not projected) within 3 eps."""
    data = tiny_runs.stand_in_cifar()
    loader = CifarBatches(*data["train"], 50, shuffle=True, augment={"crop": 2}, seed=0, channels_last=True)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 30 * 30, 10))
    adv = AdversarialBatches(loader, model, eps=8 / 255, method=method, mean=CIFAR10_MEAN, std=CIFAR10_STD)
    assert len(adv) == len(loader) and adv.generator is loader.generator
    pixels = PixelInput(model, CIFAR10_MEAN, CIFAR10_STD)
    state = loader.generator.get_state()
    clean = [x for x, _ in loader]
    loader.generator.set_state(state)
    for (x_adv, y), x in zip(adv, clean):
        delta = (pixels.pixels(x_adv) - pixels.pixels(x)).abs()
        assert float(delta.max()) <= radius + 1e-5 and float(delta.max()) > radius - 2 / 255
        assert float(pixels.pixels(x_adv).min()) >= -1e-5 and float(pixels.pixels(x_adv).max()) <= 1 + 1e-5
        assert x_adv.is_contiguous(memory_format=torch.channels_last)
    assert all(p.grad is None for p in model.parameters())


def test_unknown_training_method_is_a_clear_error():
    with pytest.raises(InputError, match="method 'pgd' is not one of n-fgsm, fgsm-rs"):
        AdversarialBatches([], nn.Linear(2, 2), eps=0.1, method="pgd")


def _run(capsys, *args):
    code = main(["run", *args, "--no-progress"])
    return code, *capsys.readouterr()


TINY = ["--set", "train.batch_size=50", "--set", "model.widths=[8,8,8]", "--set", "whiten.images=100",
        "--set", "adversarial.enabled=true", "--set", "adversarial.test_images=40", "--set", "adversarial.test_steps=3"]


def test_fast_recipe_trains_adversarially_and_reports_pgd_accuracy(tmp_path, capsys, monkeypatch):
    import dlcc.data

    cifar = tiny_runs.stand_in_cifar()
    monkeypatch.setattr(dlcc.data, "load_cifar10", lambda data_dir=None, variant=None: cifar, raising=False)
    out = tmp_path / "robust"
    code, log, err = _run(capsys, "cifar10-fast", "--out", str(out), "--set", "train.epochs=2", *TINY,
                          "--set", "adversarial.monitor_images=20")
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    assert m["test_pgd_images"] == 40 and m["test_pgd_steps"] == 3 and m["test_pgd_eps"] == pytest.approx(8 / 255)
    assert 0 <= m["test_pgd_accuracy"] <= m["test_pgd_clean_accuracy"] <= 1
    assert "PGD-3 at eps=0.03137 on 40 test images" in log
    curve = m["test_pgd_curve"]                 # one point per evaluation (epoch), on 20 images
    assert [p["epoch"] for p in curve] == [1, 2] and all(p["test_pgd_accuracy"] in np.arange(21) / 20 for p in curve)
    history = json.loads((out / "history.json").read_text())
    assert [row["test_pgd_accuracy"] for row in history] == [p["test_pgd_accuracy"] for p in curve]


def test_adversarial_run_resumes_exactly(tmp_path, capsys, monkeypatch):
    """The random starts draw from torch's RNG, which checkpoints keep: 1 epoch + a resumed
    second equals 2 epochs in one go, bit for bit."""
    import dlcc.data

    cifar = tiny_runs.stand_in_cifar()
    monkeypatch.setattr(dlcc.data, "load_cifar10", lambda data_dir=None, variant=None: cifar, raising=False)
    # flip=random: alternating flips follow the loader's epoch counter, which checkpoints do not keep yet
    common = [*TINY, "--set", "train.schedule=none", "--set", "lookahead.enabled=false",
              "--set", "data.augment.flip=random"]
    assert _run(capsys, "cifar10-fast", "--out", str(tmp_path / "once"), "--set", "train.epochs=2", *common)[0] == 0
    assert _run(capsys, "cifar10-fast", "--out", str(tmp_path / "twice"), "--set", "train.epochs=1", *common)[0] == 0
    code, _, err = _run(capsys, "--resume", "--out", str(tmp_path / "twice"), "--set", "train.epochs=2")
    assert code == 0, err
    a = torch.load(tmp_path / "once" / "model.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "twice" / "model.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("setting, message", [
    ("adversarial.eps=8", "adversarial.eps=8.0 is out of range"),
    ("adversarial.alpha=0.2", "is more than twice adversarial.eps"),
    ("adversarial.method=pgd", "adversarial.method='pgd' is not valid"),
    ("adversarial.test_images=0", "adversarial.test_images=0 is out of range"),
])
def test_bad_adversarial_settings_exit_2(tmp_path, capsys, setting, message):
    code, out, err = _run(capsys, "cifar10-fast", "--out", str(tmp_path / "run"), "--set", setting)
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not (tmp_path / "run").exists()
