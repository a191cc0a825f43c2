"""cifar10-pretrain and cifar10-transfer through `dlcc run` on stand-in images (seconds), and
their bad inputs: one clear message, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from dlcc.cli import main
from dlcc.transfer import save_backbone

from tests.tiny_runs import stand_in_cifar

PRE = ["train.epochs=1", "train.batch_size=50", "model.widths=[8,8,8]", "whiten.images=100", "data.val_size=20"]
TARGET = ["train.epochs=2", "train.batch_size=10", "model.widths=[8,8,8]", "transfer.labels=25",
          "transfer.val_size=10"]


@pytest.fixture
def cifar(monkeypatch):
    import dlcc.data

    data = stand_in_cifar(n_train=300, n_test=60)
    monkeypatch.setattr(dlcc.data, "load_cifar10", lambda data_dir=None, variant=None: data, raising=False)
    return data


def _run(capsys, recipe, out, *settings):
    code = main(["run", recipe, "--out", str(out), "--no-progress", *[a for s in settings for a in ("--set", s)]])
    printed, err = capsys.readouterr()
    return code, printed, err


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> Path:
    """One tiny pretraining run shared by the module's tests."""
    import dlcc.data

    out = tmp_path_factory.mktemp("transfer") / "pre"
    data = stand_in_cifar(n_train=300, n_test=60)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dlcc.data, "load_cifar10", lambda data_dir=None, variant=None: data, raising=False)
        code = main(["run", "cifar10-pretrain", "--out", str(out), "--no-progress",
                     *[a for s in PRE for a in ("--set", s)]])
    assert code == 0
    return out


def test_pretrain_saves_a_weights_only_backbone(pretrained):
    raw = torch.load(pretrained / "backbone.pt", weights_only=True)
    assert raw["architecture"] == "fastnet" and raw["config"]["widths"] == [8, 8, 8]
    assert raw["source"]["classes"] == ["airplane", "automobile", "bird", "cat", "deer"]
    assert not any(k.startswith("head.") for k in raw["state"])
    assert json.loads((pretrained / "metrics.json").read_text())["backbone"] == "backbone.pt"


@pytest.mark.parametrize("mode", ["finetune", "probe"])
def test_transfer_from_the_pretrained_backbone(tmp_path, capsys, cifar, pretrained, mode):
    out = tmp_path / mode
    code, printed, err = _run(capsys, "cifar10-transfer", out, *TARGET, f"transfer.mode={mode}",
                              f"transfer.backbone={pretrained}")
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    assert m["mode"] == mode and m["labels"] == 25 and 0 <= m["test_accuracy"] <= 1 and m["lr"] == 0.001
    assert "backbone: " in printed and (out / "model.pt").is_file()
    if mode == "probe":   # the frozen backbone left as it was loaded
        trained = torch.load(out / "model.pt", weights_only=True)["model"]
        loaded = torch.load(pretrained / "backbone.pt", weights_only=True)["state"]
        assert all(torch.equal(trained[f"backbone.{k}"], v) for k, v in loaded.items())


def test_scratch_chooses_its_lr_on_validation(tmp_path, capsys, cifar):
    out = tmp_path / "scratch"
    code, printed, err = _run(capsys, "cifar10-transfer", out, *TARGET, "transfer.mode=scratch",
                              "transfer.lr_grid=[0.0001,0.01]")
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    search = {row["lr"]: row["val_accuracy"] for row in m["lr_search"]}
    assert set(search) == {0.0001, 0.01} and m["lr"] == max(search, key=search.get)
    assert m["val_accuracy"] == search[m["lr"]] and "test_accuracy" in m
    for lr in search:   # trials never touch the test split
        trial = json.loads((out / "lr_search" / f"lr={lr:g}" / "metrics.json").read_text())
        assert not any(k.startswith("test_") for k in trial)
    assert (out / "model.pt").is_file() and "kept train.lr=" in printed


def _one_clear_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) <= 2 and lines[0].startswith("dlcc: error:") and (len(lines) == 1 or "fix:" in lines[1])
    return lines[0]


def test_a_backbone_of_another_architecture_names_its_layers(tmp_path, capsys, cifar):
    other = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 16, 3))
    save_backbone(tmp_path / "resnetish.pt", other, "resnet-ish", {"depth": 2})
    code, _, err = _run(capsys, "cifar10-transfer", tmp_path / "run", *TARGET, f"transfer.backbone={tmp_path / 'resnetish.pt'}")
    line = _one_clear_line(err)
    assert code == 2 and "resnet-ish" in line and "missing (whiten.weight" in line and "unexpected (0.weight" in line
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_a_narrower_backbone_says_which_widths_fit(tmp_path, capsys, cifar, pretrained):
    code, _, err = _run(capsys, "cifar10-transfer", tmp_path / "run", *TARGET[:2], "model.widths=[8,8,16]",
                        *TARGET[3:], f"transfer.backbone={pretrained}")
    assert code == 2 and "shape-mismatched (groups.2.conv1.weight [8, 8, 3, 3] != [16, 8, 3, 3]" in _one_clear_line(err)
    assert "--set model.widths=[8,8,8]" in err


@pytest.mark.parametrize("settings, message", [
    (["transfer.backbone=/nonexistent/backbone.pt"], "backbone file /nonexistent/backbone.pt does not exist"),
    (["transfer.mode=probe"], "transfer.mode=probe needs a pretrained backbone"),
    (["transfer.mode=scratch", "transfer.labels=5000"], "transfer.labels=5000 with transfer.val_size=10 needs 1002"),
    (["transfer.mode=scratch", "transfer.labels=3"], "fewer than the 5 target classes"),
    (["transfer.mode=scratch", "transfer.lr_grid=[0.1,0.1]"], "repeats a value"),
    (["transfer.stage_lr_factor=2"], "transfer.stage_lr_factor=2.0 is out of range"),
])
def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys, cifar, settings, message):
    base = [s for s in TARGET if not any(s.split("=")[0] == o.split("=")[0] for o in settings)]
    code, _, err = _run(capsys, "cifar10-transfer", tmp_path / "run", *base, *settings)
    assert code == 2 and message in _one_clear_line(err), err
