"""`dlcc run cifar10-simclr` on stand-in images: metrics, the probe curve, and a backbone.pt the
transfer code loads (task: recipe); bad settings exit 2 with one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tiny_runs import run, stand_in_cifar  # noqa: E402

TINY = ("train.epochs=1", "train.batch_size=32", "model.widths=[8,8,16]", "simclr.head_hidden=16",
        "simclr.head_out=8", "simclr.whiten_images=100", "probe.curve_train=100", "probe.curve_val=50",
        "probe.max_iter=10", "probe.weight_decays=[1e-3,1e-1]", "train.eval_every=3")


def test_tiny_run_writes_probe_metrics_and_a_loadable_backbone(tmp_path):
    from dlcc.transfer import build_backbone, load_backbone

    out = run(tmp_path / "r", "cifar10-simclr", *TINY, cifar=stand_in_cifar(n_train=120, n_test=40))
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("test_accuracy", "random_probe_accuracy", "probe_gain", "probe_weight_decay", "probe_curve"):
        assert key in metrics
    assert metrics["probe_weight_decay"] in (1e-3, 1e-1)
    assert [p["step"] for p in metrics["probe_curve"]] == [3]
    assert (out / "probe.png").is_file()
    raw = torch.load(out / "backbone.pt", weights_only=True)
    assert raw["architecture"] == "fastnet" and raw["config"]["widths"] == [8, 8, 16]
    backbone = build_backbone("fastnet", widths=[8, 8, 16])
    load_backbone(backbone, out / "backbone.pt", "fastnet")
    assert backbone(torch.rand(2, 3, 32, 32)).shape == (2, 16)


@pytest.mark.parametrize("setting,words", [("simclr.temperature=0", "temperature"),
                                           ("train.select=val_loss", "select"),
                                           ("data.subset=5", "at least 20")])
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, setting, words):
    import dlcc.data
    from dlcc.cli import main

    mp = pytest.MonkeyPatch()
    mp.setattr(dlcc.data, "load_cifar10", lambda data_dir=None, variant=None: stand_in_cifar(), raising=False)
    try:
        code = main(["run", "cifar10-simclr", "--out", str(tmp_path / "bad"), "--no-progress", "--set", setting])
    finally:
        mp.undo()
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
