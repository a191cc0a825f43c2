"""Seeding, device choice and run directories."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.utils import choose_device, make_run_dir, seed_everything


def test_seed_everything_repeats_numpy_and_torch():
    seed_everything(7)
    a = (np.random.rand(3), torch.rand(3))
    seed_everything(7)
    b = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_device_auto_is_cpu_here_and_bad_names_are_rejected():
    dev = choose_device("auto")
    assert dev.type in {"cpu", "cuda", "mps"}
    assert choose_device("cpu").type == "cpu"
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        choose_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            choose_device("cuda")


def test_run_dir_never_overwrites(tmp_path):
    run = make_run_dir(tmp_path / "r", "x")
    (run / "metrics.json").write_text("{}")
    with pytest.raises(ConfigError, match="already holds files"):
        make_run_dir(tmp_path / "r", "x")
    assert (run / "metrics.json").read_text() == "{}"
    assert make_run_dir(tmp_path / "r", "x", allow_existing=True) == run
    (tmp_path / "f").write_text("keep")
    with pytest.raises(ConfigError, match="is a file"):
        make_run_dir(tmp_path / "f", "x")
    assert (tmp_path / "f").read_text() == "keep"


def test_default_run_dirs_are_unique(tmp_path):
    a = make_run_dir(None, "demo", root=tmp_path)
    b = make_run_dir(None, "demo", root=tmp_path)
    assert a != b and a.parent == b.parent == tmp_path


def test_plot_history_takes_trainer_rows_and_numpy_columns(tmp_path):
    from matplotlib.image import imread

    from dlcc.utils.plots import _as_columns, plot_history

    rows = [{"epoch": 1, "train_loss": 2.0, "train_accuracy": 0.3},
            {"epoch": 2, "train_loss": 1.5, "val_loss": 1.7, "train_accuracy": 0.5, "val_accuracy": 0.45}]
    assert _as_columns(rows)["val_loss"] == [None, 1.7] and _as_columns(rows)["epoch"] == [1, 2]
    columns = {"train_loss": [2.0, 1.5, 1.2], "val_loss": [2.1, 1.6, 1.4]}
    assert _as_columns(columns)["epoch"] == [1, 2, 3]
    wide = plot_history(rows, tmp_path / "a" / "rows.png", title="rows")
    narrow = plot_history(columns, tmp_path / "columns.png")
    assert imread(wide).shape[1] == 1000 and imread(narrow).shape[1] == 500   # accuracy panel only when present
