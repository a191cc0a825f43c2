"""backbone.pt: weights-only round trip, other file kinds, and the mismatch error naming layers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcc.errors import ConfigError, DataError
from dlcc.transfer import build_backbone, describe_mismatch, load_backbone, read_backbone, save_backbone

TINY = {"widths": [4, 4, 8], "bn_momentum": 0.4}


def test_round_trip_is_weights_only_loadable(tmp_path):
    torch.manual_seed(0)
    saved = build_backbone("fastnet", **TINY)
    path = save_backbone(tmp_path / "backbone.pt", saved, "fastnet", TINY, source={"classes": ["cat"]})
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "dlcc-backbone" and raw["architecture"] == "fastnet" and raw["config"] == TINY
    torch.manual_seed(1)
    fresh = build_backbone("fastnet", **TINY)
    info = load_backbone(fresh, tmp_path, "fastnet", TINY)   # a run directory works too
    assert info["source"] == {"classes": ["cat"]}
    for (k, a), b in zip(saved.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), k
    x = torch.randn(2, 3, 32, 32)
    saved.eval(), fresh.eval()
    assert torch.equal(saved(x), fresh(x)) and saved(x).shape == (2, 8)


def test_another_architecture_names_the_mismatching_layers(tmp_path):
    other = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 8, 3))
    save_backbone(tmp_path / "other.pt", other, "tiny-cnn", {"depth": 2})
    with pytest.raises(ConfigError) as err:
        load_backbone(build_backbone("fastnet", **TINY), tmp_path / "other.pt", "fastnet", TINY)
    text = str(err.value)
    assert "tiny-cnn (depth=2)" in text and "fastnet (widths=[4,4,8]" in text
    assert "missing (whiten.weight, whiten.bias" in text and "more)" in text
    assert "9 unexpected (0.weight, 0.bias, 1.weight, 1.bias, ... (5 more))" in text


def test_same_architecture_other_config_suggests_the_settings(tmp_path):
    save_backbone(tmp_path / "b.pt", build_backbone("fastnet", widths=[4, 4, 16]), "fastnet", {"widths": [4, 4, 16]})
    with pytest.raises(ConfigError) as err:
        load_backbone(build_backbone("fastnet", **TINY), tmp_path / "b.pt", "fastnet", TINY)
    assert "shape-mismatched (groups.2.conv1.weight [16, 4, 3, 3] != [8, 4, 3, 3]" in str(err.value)
    assert err.value.fix == "--set model.widths=[4,4,16]"


def test_describe_mismatch_counts_each_kind():
    expected = {"a": torch.Size([2]), "b": torch.Size([3]), "c": torch.Size([1])}
    found = {"a": torch.Size([2]), "b": torch.Size([4]), "z": torch.Size([1])}
    assert describe_mismatch(expected, found) == ["1 missing (c)", "1 unexpected (z)", "1 shape-mismatched (b [4] != [3])"]
    assert describe_mismatch(expected, expected) == []


def test_model_pt_and_bare_state_dicts_are_accepted(tmp_path):
    from dlcc.models import CifarFastNet

    net = CifarFastNet(widths=(4, 4, 8), num_classes=5)
    torch.save({"format": "dlcc-model", "model": net.state_dict(), "artifacts": {}}, tmp_path / "model.pt")
    info = read_backbone(tmp_path / "model.pt")
    assert not any(k.startswith("head.") for k in info["state"]) and info["architecture"] is None
    load_backbone(build_backbone("fastnet", **TINY), tmp_path / "model.pt")
    encoder = {f"encoder.{k}": v for k, v in build_backbone("fastnet", **TINY).state_dict().items()}
    torch.save(encoder, tmp_path / "encoder.pt")
    load_backbone(build_backbone("fastnet", **TINY), tmp_path / "encoder.pt")


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "absent.pt", "does not exist"),
    (lambda d: d, "holds no backbone.pt"),
    (lambda d: (d / "junk.pt").write_bytes(b"not a zip") and d / "junk.pt", "not a PyTorch checkpoint"),
    (lambda d: torch.save({"lr": 0.1}, d / "cfg.pt") or d / "cfg.pt", "holds no backbone weights"),
])
def test_files_that_are_not_backbones(tmp_path, make, message):
    with pytest.raises(DataError, match=message):
        read_backbone(make(tmp_path))
