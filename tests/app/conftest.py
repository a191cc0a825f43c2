"""Fixtures of the app's tests: a runs folder with tiny real runs (a CIFAR-10 classifier on
stand-in images, a U-Net on synthetic blobs) and an ONNX export."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny_runs
from app_fixtures import blobs

pytest.importorskip("streamlit", reason="the app needs Streamlit: pip install 'dlcc[app]'")


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> Path:
    """runs/ with cifar10-fast (torch classifier), unet-folder (U-Net) and its ONNX export."""
    from dlcc.cli import main

    root = tmp_path_factory.mktemp("app")
    folder = root / "runs"
    folder.mkdir()
    tiny_runs.fast_run(folder / "fast")
    images, masks = blobs(root / "blobs")
    tiny_runs.run(folder / "unet", "unet-folder", f"data.images={images}", f"data.masks={masks}",
                  "data.test_size=1", "data.val_size=1", "data.patch=32", "data.patches_per_epoch=8",
                  "train.epochs=1", "train.batch_size=4", "model.width=8", "model.depth=2")
    assert main(["export", str(folder / "fast"), "--format", "onnx", "--out", str(folder / "fast.onnx")]) == 0
    return folder


@pytest.fixture(scope="session")
def seg_only(tmp_path_factory, runs) -> Path:
    """A runs folder that holds only a segmentation run (another task's model for most pages)."""
    import shutil

    folder = tmp_path_factory.mktemp("seg") / "runs"
    folder.mkdir()
    shutil.copytree(runs / "unet", folder / "unet", ignore=shutil.ignore_patterns("checkpoints"))
    return folder
