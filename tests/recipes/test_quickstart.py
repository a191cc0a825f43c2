"""The README's main job: `dlcc run quickstart` (offline, embedded data)."""

from __future__ import annotations

import json

from dlcc.cli import main


def test_quickstart_runs_both_engines_and_saves_table_and_plot(tmp_path, capsys):
    out = tmp_path / "qs"
    code = main(["run", "quickstart", "--out", str(out), "--no-progress",
                 "--set", "numpy.epochs=10", "--set", "torch.epochs=3"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "| digits-mlp-numpy | numpy |" in printed and "| mnist1d-cnn | torch |" in printed
    assert (out / "quickstart.png").stat().st_size > 10_000
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["numpy_test_accuracy"] > 0.9       # digits is easy
    assert metrics["torch_test_accuracy"] > 0.3       # 3 epochs of MNIST-1D: well above chance
    for part in ("digits-mlp-numpy", "mnist1d-cnn"):
        assert (out / part / "metrics.json").exists()
