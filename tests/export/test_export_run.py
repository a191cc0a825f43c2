"""`dlcc export RUN_DIR`: ONNX and TorchScript files that carry the run's metadata, open with
`load_exported` (no training code, no pickles) and equal the PyTorch model within 1e-4 at
other batch sizes; bad input exits 2 and overwrites nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

from dlcc.cli import main
from dlcc.export import FORMAT, load_exported
from dlcc.recipes import load_run


def _export(capsys, *args):
    code = main(["export", *map(str, args)])
    return code, *capsys.readouterr()


def _pixels_batch(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3, 32, 32)).astype(np.float32)


def _check_contract(path, run_dir, task="classification"):
    exported = load_exported(path)
    meta = exported.metadata
    recorded = yaml.safe_load((run_dir / "config.yaml").read_text())
    artifacts = torch.load(run_dir / "model.pt", weights_only=True)["artifacts"]
    assert meta["format"] == FORMAT and meta["recipe"] == "cifar10-fast" and exported.task == task
    assert meta["config"] == recorded["config"] and exported.artifacts == artifacts
    assert exported.artifacts["classes"][3] == "cat" and exported.artifacts["input"]["std"][0] == pytest.approx(0.247)
    assert meta["input_names"] == ["input"] and meta["output_names"] == ["logits"]
    assert meta["dynamic_axes"] == {"input": {"0": "batch"}, "logits": {"0": "batch"}}
    model = load_run(run_dir).model
    for n in (1, 7):
        batch = _pixels_batch(n, seed=n)
        want = model(torch.from_numpy(batch)).detach().numpy()
        assert np.abs(exported(batch) - want).max() <= 1e-4
    return exported


@pytest.mark.slow
def test_onnx_export_carries_the_run_and_matches_pytorch(fast_run, capsys):
    out = fast_run / "model.onnx"
    code, stdout, err = _export(capsys, fast_run)
    assert code == 0, err
    assert f"wrote {out}" in stdout and "max abs diff" in stdout
    exported = _check_contract(out, fast_run)
    assert exported.format == "onnx"
    code, stdout, _ = _export(capsys, fast_run, "--json", "--force")
    result = json.loads(stdout)
    assert code == 0 and result["max_abs_diff"] <= 1e-4 and result["check_shape"] == [3, 3, 32, 32]


@pytest.mark.parametrize("mode", ["trace", "script"])
def test_torchscript_export_carries_the_run_and_matches_pytorch(fast_run, capsys, tmp_path, mode):
    out = tmp_path / f"{mode}.pt"
    code, stdout, err = _export(capsys, fast_run, "--format", "torchscript", "--mode", mode, "--out", out)
    assert code == 0, err
    assert "FutureWarning" not in err
    assert _check_contract(out, fast_run).format == "torchscript"


@pytest.mark.parametrize("fmt, name", [("torchscript", "m.pt"), pytest.param("onnx", "m.onnx", marks=pytest.mark.slow)])
def test_loading_an_export_needs_no_training_code(fast_run, capsys, tmp_path, fmt, name):
    out = tmp_path / name
    assert _export(capsys, fast_run, "--format", fmt, "--out", out)[0] == 0
    script = (f"import sys, numpy as np\nfrom dlcc.export import load_exported\n"
              f"m = load_exported({str(out)!r})\nprint(m(np.zeros((2, 3, 32, 32), np.float32)).shape)\n"
              "print(sorted(k for k in sys.modules if k.startswith(('dlcc.train', 'dlcc.recipes', 'dlcc.models'))))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["(2, 10)", "[]"]


def test_export_refuses_to_overwrite_and_names_bad_paths(fast_run, capsys, tmp_path):
    existing = tmp_path / "keep.onnx"
    existing.write_bytes(b"mine")
    for args, message in (([fast_run, "--out", existing], "already exists"),
                          ([fast_run, "--out", tmp_path / "no" / "m.onnx"], "does not exist"),
                          ([fast_run, "--out", tmp_path], "is a directory"),
                          ([tmp_path / "nowhere"], "does not exist"),
                          ([fast_run, "--mode", "script", "--out", tmp_path / "m.onnx"],
                           "--mode script applies to TorchScript, not --format onnx")):
        code, _, err = _export(capsys, *args)
        assert code == 2 and message in err and "Traceback" not in err, err
    assert existing.read_bytes() == b"mine"


def test_a_run_without_weights_is_a_clear_error(fast_run, capsys, tmp_path):
    half = tmp_path / "unfinished"
    half.mkdir()
    (half / "config.yaml").write_text((fast_run / "config.yaml").read_text())
    code, _, err = _export(capsys, half)
    assert code == 2 and "has no model.pt" in err and "Traceback" not in err
    assert sorted(p.name for p in half.iterdir()) == ["config.yaml"]


def test_a_corrupt_export_given_to_predict_exits_2(fast_run, capsys, tmp_path):
    """The CLI that reads exported files (`dlcc predict MODEL`) names a damaged one and writes nothing."""
    good = tmp_path / "good.pt"
    assert _export(capsys, fast_run, "--format", "torchscript", "--out", good)[0] == 0
    images = tmp_path / "images"
    images.mkdir()
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(images / "a.png")
    for name, content in (("cut.pt", good.read_bytes()[: len(good.read_bytes()) // 2]),
                          ("noise.onnx", bytes(range(256)) * 8)):
        (tmp_path / name).write_bytes(content)
        code = main(["predict", str(tmp_path / name), str(images), "--out", str(tmp_path / "pred")])
        err = capsys.readouterr().err
        assert code == 2 and f"{name} is not a readable" in err and "Traceback" not in err, err
        assert not (tmp_path / "pred").exists()


class _ValueBranch(torch.nn.Module):
    """A run's network wrapped in control flow on the input's values (not capturable as a graph)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        if x.mean() > 0:
            return self.inner(x)
        return self.inner(-x)


@pytest.mark.slow
def test_data_dependent_control_flow_exits_2_naming_the_op_and_writes_nothing(fast_run, capsys, tmp_path,
                                                                               monkeypatch):
    import dlcc.recipes

    def branching_run(path):
        run = load_run(path)
        run.model = _ValueBranch(run.model)
        return run

    monkeypatch.setattr(dlcc.recipes, "load_run", branching_run)
    kept = tmp_path / "kept.onnx"
    kept.write_bytes(b"mine")
    code, _, err = _export(capsys, fast_run, "--out", kept, "--force")     # a failed export keeps the old file
    assert code == 2 and kept.read_bytes() == b"mine" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.onnx"]
    kept.unlink()
    out = tmp_path / "m.onnx"
    code, _, err = _export(capsys, fast_run, "--out", out)
    assert code == 2 and "Traceback" not in err, err
    assert "control flow depends on the input's values (aten.item" in err and "if x.mean() > 0:" in err
    assert len(err.strip().splitlines()) <= 4, err          # one message and its fix, no exporter dump
    code, _, err = _export(capsys, fast_run, "--format", "torchscript", "--out", tmp_path / "m.pt")
    assert code == 2 and "cannot trace _ValueBranch" in err and "Traceback" not in err, err
    assert not list(tmp_path.iterdir())


@pytest.mark.data
@pytest.mark.slow
def test_unet_run_exports_with_dynamic_height_width_and_its_threshold(tmp_path_factory, capsys, shared_data):
    import tiny_runs

    run_dir = tiny_runs.isbi_run(tmp_path_factory.mktemp("runs") / "isbi")
    capsys.readouterr()
    tmp = tmp_path_factory.mktemp("export")
    run = load_run(run_dir)
    model = run.model.eval()
    rng = np.random.default_rng(0)
    for fmt, name in (("onnx", "unet.onnx"), ("torchscript", "unet.pt")):
        code, stdout, err = _export(capsys, run_dir, "--format", fmt, "--out", tmp / name, "--json")
        assert code == 0, err
        result = json.loads(stdout)
        assert result["max_abs_diff"] <= 1e-4 and result["check_shape"] == [3, 1, 12, 20]   # not the 16x16 example
        exported = load_exported(tmp / name)
        meta = exported.metadata
        assert exported.task == "segmentation" and meta["spatial_multiple"] == 4
        assert meta["dynamic_axes"]["input"] == {"0": "batch", "2": "height", "3": "width"}
        assert meta["input_shape"] == [None, 1, None, None]
        assert exported.artifacts["threshold"] == pytest.approx(float(run.artifacts["threshold"]))
        for shape in ((1, 1, 40, 24), (2, 1, 37, 21)):        # the second is padded and cropped back
            x = rng.random(shape, dtype=np.float32)
            with torch.no_grad():
                want = model(torch.from_numpy(x)).numpy()
            got = exported(x)
            assert got.shape == want.shape and np.abs(got - want).max() <= 1e-4, (fmt, shape)



@pytest.mark.slow
def test_numpy_runs_are_refused_by_export_attack_and_explain(tmp_path, capsys):
    import tiny_runs
    from PIL import Image

    run_dir = tiny_runs.run(tmp_path / "numpy", "digits-mlp-numpy", "train.epochs=1")
    image = tmp_path / "img.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    capsys.readouterr()
    before = sorted(p.name for p in run_dir.iterdir())
    for args in (["export", run_dir], ["attack", run_dir], ["explain", run_dir, image]):
        code = main([*map(str, args), "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert code == 2 and "holds a NumPy model (digits-mlp-numpy)" in err and "Traceback" not in err, (args, err)
    assert sorted(p.name for p in run_dir.iterdir()) == before and not (tmp_path / "out").exists()


@pytest.mark.parametrize("recipe, task", [("mnist-gan", "generative"), ("ecg-beat-gan", "generative"),
                                          ("ecg-lead-cyclegan", "generative")])
def test_gan_runs_have_a_task_that_export_attack_and_explain_refuse(recipe, task):
    """GAN runs are no input->label networks: `run_task` says so, and the three commands refuse
    any task they do not handle (`dlcc attack` on a U-Net run: test_explain_cli)."""
    from types import SimpleNamespace

    from dlcc.errors import ConfigError
    from dlcc.recipes import get_recipe
    from dlcc.recipes._model_input import model_input, run_task

    run = SimpleNamespace(recipe=get_recipe(recipe), artifacts={}, config=None, path=f"runs/{recipe}")
    assert run_task(run) == task
    with pytest.raises(ConfigError, match=f"runs/{recipe} is a 'generative' run, which dlcc cannot export yet"):
        model_input(run)
