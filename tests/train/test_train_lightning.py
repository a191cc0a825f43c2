"""The PyTorch Lightning engine (`--engine lightning`): the same weights as `dlcc run` for the
same seed on a CPU, Lightning's own loggers, and the runs it refuses."""

from __future__ import annotations

import json

import pytest
import torch

from dlcc.cli import main

pytest.importorskip("lightning")


def _run(capsys, *args):
    code = main(["run", *args, "--no-progress"])
    return code, capsys.readouterr()


@pytest.mark.parametrize("recipe, settings", [
    ("mnist1d-mlp", ["train.epochs=2"]),                                   # dropout, per-epoch cosine
    ("mnist1d-cnn", ["train.epochs=2", "train.clip_grad_norm=1.0"]),       # BatchNorm, onecycle, clipping
])
def test_lightning_gives_the_same_weights_as_dlcc(tmp_path, capsys, recipe, settings):
    runs = {}
    for engine in ("dlcc", "lightning"):
        out = tmp_path / engine
        code, captured = _run(capsys, recipe, "--engine", engine, "--out", str(out), "--set", *settings)
        assert code == 0, captured.err
        runs[engine] = (torch.load(out / "model.pt", weights_only=True)["model"],
                        json.loads((out / "metrics.json").read_text()))
    (wa, ma), (wb, mb) = runs["dlcc"], runs["lightning"]
    assert wa.keys() == wb.keys()
    assert max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa) < 1e-5
    for key in ("test_accuracy", "val_accuracy", "best_step", "steps"):
        assert ma[key] == pytest.approx(mb[key], abs=1e-5), key


def test_lightning_logs_with_its_loggers(tmp_path, capsys):
    out = tmp_path / "run"
    code, captured = _run(capsys, "mnist1d-mlp", "--engine", "lightning", "--tracker", "tb,jsonl", "--out", str(out),
                          "--set", "train.epochs=1")
    assert code == 0, captured.err
    assert list((out / "lightning" / "tb").glob("events.out.tfevents*"))
    assert "val_accuracy" in (out / "lightning" / "csv" / "metrics.csv").read_text()
    assert json.loads((out / "history.json").read_text())[0]["val_loss"] > 0


@pytest.mark.parametrize("args, words", [
    (["char-lstm", "--set", "data.corpus=embedded", "train.epochs=1"], "needs dlcc training callbacks (ResetHidden)"),
    (["digits-mlp-numpy"], "does not train a PyTorch model"),
    (["mnist1d-mlp", "--set", "train.epochs=null", "train.time_budget_s=5"], "not supported with --engine lightning"),
])
def test_runs_lightning_cannot_train_are_refused(tmp_path, capsys, args, words):
    code, captured = _run(capsys, *args, "--engine", "lightning", "--out", str(tmp_path / "run"))
    assert code == 2 and words in captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "run").exists()


def test_unknown_engine(tmp_path, capsys):
    code, captured = _run(capsys, "mnist1d-mlp", "--engine", "keras", "--out", str(tmp_path / "run"))
    assert code == 2 and "unknown engine 'keras'" in captured.err
