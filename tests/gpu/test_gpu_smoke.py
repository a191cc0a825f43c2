"""`pytest -m gpu`: every recipe whose data and packages the machine has, for a few steps on
CUDA - finite losses, evaluation under autocast, and torch.compile where the recipe uses it.

Skipped without a GPU. `DLCC_GPU_TESTS_DEVICE=cpu` runs them on the CPU instead (to check the
tests themselves on a machine without one). benchmarks/gpu_check.sh runs them on the lent GPU.
"""

from __future__ import annotations

import json
import math
import os

import pytest
import torch

from dlcc.cli import main

pytestmark = pytest.mark.gpu
DEVICE = os.environ.get("DLCC_GPU_TESTS_DEVICE", "cuda")
STEPS = ["train.epochs=null", "train.steps=4", "train.eval_every=2"]
CIFAR = ["data.subset=2048", "data.test_subset=1000"]

CASES = {
    "cifar10-mlp": ["data.val_size=512", "data.subset=2048", "model.hidden=[64]", *STEPS],
    "cifar10-cnn": [*CIFAR, "data.val_size=512", "train.compile=true", *STEPS],
    "cifar10-mobilenet": [*CIFAR, "data.val_size=512", "train.compile=false", *STEPS],
    "cifar10-resnet": [*CIFAR, "data.val_size=512", "train.compile=false", *STEPS],
    "cifar10-fast": [*CIFAR, "train.compile=true", *STEPS],
    "isbi-unet": ["data.patch=128", "data.patches_per_epoch=32", "train.compile=false", *STEPS],
    "char-gpt": ["data.corpus=embedded", "data.seq_len=32", "train.steps=4", "train.eval_every=2",
                 "train.compile=true", "sample.length=20"],
    "char-lstm": ["data.corpus=embedded", "data.seq_len=32", "train.epochs=1", "sample.length=20"],
    "ecg-rpeak-tcn": ["data.source=synthetic", "data.chunks_per_record=16", "train.epochs=1", "train.compile=true"],
    "ecg-rpeak-transformer": ["data.source=synthetic", "data.chunks_per_record=16", "train.epochs=1"],
    "ecg-rpeak-gru": ["data.source=synthetic", "data.chunks_per_record=16", "train.epochs=1"],
}
NEEDS = {"cifar10": ["cifar10-mlp", "cifar10-cnn", "cifar10-mobilenet", "cifar10-resnet", "cifar10-fast"],
         "isbi2012-em": ["isbi-unet"]}


@pytest.fixture(autouse=True)
def _device():
    if DEVICE == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA GPU (DLCC_GPU_TESTS_DEVICE=cpu runs these on the CPU)")
    torch.set_num_threads(max(1, os.cpu_count() or 1))


def _data_available(recipe: str) -> bool:
    from dlcc.data.resolve import ensure

    for dataset, recipes in NEEDS.items():
        if recipe in recipes:
            try:
                ensure(dataset, allow_download=False, verify=False)
            except Exception:
                return False
    return True


@pytest.mark.parametrize("recipe", sorted(CASES))
def test_recipe_trains_a_few_steps(recipe, tmp_path, capsys):
    if not _data_available(recipe):
        pytest.skip(f"{recipe}: its dataset is not on this machine")
    out = tmp_path / "run"
    code = main(["run", recipe, "--device", DEVICE, "--no-progress", "--out", str(out), "--set", *CASES[recipe]])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "history.json").read_text())
    assert history and all(math.isfinite(row["train_loss"]) for row in history if "train_loss" in row)
    assert all(math.isfinite(row["val_loss"]) for row in history if "val_loss" in row)
    assert metrics["steps"] >= 1 and (out / "model.pt").is_file()
    if any(s == "train.compile=true" for s in CASES[recipe]):
        assert metrics.get("compile_time_s") is not None, "the model was not compiled"
    if recipe.startswith("char-"):
        assert (out / "samples.txt").read_text().strip(), "no sample was generated"
    else:
        assert any(k.startswith("test_") for k in metrics), sorted(metrics)


@pytest.mark.parametrize("recipe", ["cifar10-fast", "char-gpt"])
def test_torchrun_with_one_process_gives_the_run_without_it(recipe, tmp_path):
    """`--nproc 1` runs the recipe under torchrun (DDP with one rank): the same steps, the same
    weights up to float rounding, the same metrics as a plain run."""
    import subprocess
    import sys

    if not _data_available(recipe):
        pytest.skip(f"{recipe}: its dataset is not on this machine")
    settings = [s for s in CASES[recipe] if not s.startswith("train.compile")] + ["train.compile=false"]
    outs = {}
    for name, extra in (("plain", []), ("torchrun", ["--nproc", "1"])):
        outs[name] = tmp_path / name
        done = subprocess.run([sys.executable, "-m", "dlcc", "run", recipe, "--device", DEVICE, "--no-progress",
                               "--out", str(outs[name]), *extra, "--set", *settings],
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    a, b = (torch.load(outs[n] / "model.pt", weights_only=True)["model"] for n in ("plain", "torchrun"))
    assert sorted(a) == sorted(b)
    assert max(float((a[k].float() - b[k].float()).abs().max()) for k in a) < 1e-4
    ma, mb = (json.loads((outs[n] / "metrics.json").read_text()) for n in ("plain", "torchrun"))
    assert ma["steps"] == mb["steps"]
    scores = [k for k in ma if k.startswith(("val_loss", "test_loss", "test_accuracy")) and isinstance(ma[k], float)]
    assert scores, sorted(ma)
    for key in scores:
        assert ma[key] == pytest.approx(mb[key], abs=1e-4), key
