"""Exporting models directly (`dlcc.export.export_model`): the U-Net with dynamic height and
width, control flow on tensor values refused with the line that branched, and corrupt or
foreign files refused with their name."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from dlcc.errors import DataError, InputError
from dlcc.export import export_model, load_exported, make_metadata


def _meta(task="classification", **extra):
    return make_metadata(recipe="test", task=task, config={}, artifacts={}, input_names=["input"],
                         output_names=["out"], dynamic_axes={"input": {0: "batch"}}, **extra)


class ValueBranch(nn.Module):
    def forward(self, x):
        if x.sum() > 0:          # control flow on a tensor's value
            return x * 2
        return x - 1


@pytest.mark.slow
def test_unet_onnx_takes_any_batch_height_and_width(tmp_path):
    from dlcc.models import UNet

    torch.manual_seed(0)
    unet = UNet(in_channels=1, depth=2, width=4).eval()
    with torch.no_grad():                 # give BatchNorm non-trivial statistics
        for m in unet.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1), m.running_var.uniform_(0.5, 2)
    meta = _meta("segmentation", spatial_multiple=4, input_shape=[None, 1, None, None])
    report = export_model(unet, torch.rand(2, 1, 16, 16), tmp_path / "unet.onnx", meta,
                          input_axes={0: "batch", 2: "height", 3: "width"}, spatial_multiple=4,
                          check=torch.rand(3, 1, 12, 20))
    assert report.max_abs_diff <= 1e-4 and report.check_shape == [3, 1, 12, 20]
    exported = load_exported(tmp_path / "unet.onnx")
    for shape in ((1, 1, 24, 8), (2, 1, 37, 21)):          # the second is padded and cropped back
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        want = unet(torch.from_numpy(x)).detach().numpy()
        got = exported(x)
        assert got.shape == want.shape and np.abs(got - want).max() <= 1e-4


@pytest.mark.slow
def test_onnx_refuses_control_flow_on_values_and_names_the_line(tmp_path):
    with pytest.raises(InputError, match=r"control flow depends on the input's values .*test_export_models.py:\d+ "
                                         r"in forward: `if x.sum\(\) > 0:"):
        export_model(ValueBranch(), torch.rand(2, 3), tmp_path / "v.onnx", _meta())
    assert not list(tmp_path.iterdir())


def test_trace_refuses_control_flow_on_values_and_script_keeps_it(tmp_path):
    with pytest.raises(InputError, match=r"cannot trace ValueBranch: .*depends on the input \(.*test_export_models.py"):
        export_model(ValueBranch(), torch.rand(2, 3), tmp_path / "v.pt", _meta(), format="torchscript")
    assert not list(tmp_path.iterdir())
    report = export_model(ValueBranch(), torch.rand(2, 3), tmp_path / "v.pt", _meta(), format="torchscript",
                          mode="script", check=-torch.rand(4, 3))
    assert report.max_abs_diff == 0
    exported = load_exported(tmp_path / "v.pt")
    assert np.allclose(exported(np.ones((1, 3))), 2) and np.allclose(exported(-np.ones((1, 3))), -2)


def test_wrong_input_shape_for_an_export_is_a_clear_error(tmp_path):
    export_model(nn.Linear(3, 2), torch.rand(2, 3), tmp_path / "l.pt", _meta(input_shape=[None, 3]),
                 format="torchscript")
    with pytest.raises(InputError, match=r"l.pt takes input \[N, 3\], got \[2, 4\]"):
        load_exported(tmp_path / "l.pt")(np.zeros((2, 4)))


def test_corrupt_and_foreign_files_are_refused_with_their_name(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07not a model at all" * 10)
    with pytest.raises(DataError, match="garbage.onnx is not a readable ONNX model"):
        load_exported(garbage)
    export_model(nn.Linear(3, 2), torch.rand(2, 3), tmp_path / "ok.pt", _meta(), format="torchscript")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes((tmp_path / "ok.pt").read_bytes()[:300])
    with pytest.raises(DataError, match="truncated.pt is not a readable"):
        load_exported(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.jit.save(torch.jit.script(nn.Linear(3, 2)), str(foreign))
    with pytest.raises(DataError, match="foreign.pt is a model file but not a dlcc export"):
        load_exported(foreign)
    with pytest.raises(DataError, match="nothing.onnx does not exist"):
        load_exported(tmp_path / "nothing.onnx")
    assert zipfile.is_zipfile(tmp_path / "ok.pt")
