"""`summarize` (forward hooks) and the `dlcc models list | summary` commands, including bad input."""

from __future__ import annotations

import json

import pytest
from torch import nn

from dlcc.cli import main
from dlcc.models import LeNet5, count_params, summarize


def test_summary_rows_for_lenet5():
    s = summarize(LeNet5(), (1, 32, 32))
    rows = {r.name: r for r in s.rows}
    assert rows["features.0"].output_shape == "[1, 6, 28, 28]" and rows["features.0"].params == 156
    assert rows["features.5"].output_shape == "[1, 16, 5, 5]"
    assert rows["classifier.1"].params == 48_120
    assert s.output_shape == "[1, 10]"
    assert sum(r.params for r in s.rows) == s.total_params == 61_706
    assert "61,706" in s.table()


def test_summary_counts_shared_modules_once_and_restores_mode():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return self.lin(self.lin(x))

    m = Twice().train()
    s = summarize(m, (4,))
    assert [r.name for r in s.rows] == ["lin", "lin"]
    assert [r.params for r in s.rows] == [20, 0] and s.total_params == 20
    assert m.training


def test_summary_trainable_counts_exclude_frozen():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    m[0].weight.requires_grad_(False)
    s = summarize(m, (3,))
    assert (s.total_params, s.trainable_params) == (11, 5)
    assert count_params(m, trainable_only=True) == 5


def test_cli_list(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    for name, params in [("small-cnn", "3,893,290"), ("small-mobilenet", "1,377,784"),
                         ("small-resnet", "6,405,066"), ("unet-course", "1,712,833")]:
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert params in line


def test_cli_list_json(capsys):
    assert main(["models", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["small-resnet"]["params"] == 6_405_066 and rows["unet-course"]["input"] == [3, 112, 168]


def test_cli_summary_table(capsys):
    assert main(["models", "summary", "small-mobilenet", "--input", "3,32,32"]) == 0
    out = capsys.readouterr().out
    assert "total params: 1,377,784" in out and "output shape" in out and "[1, 256, 4, 4]" in out


def test_cli_summary_json_with_set(capsys):
    assert main(["models", "summary", "unet", "--set", "depth=2", "--set", "width=4", "--set", "in_channels=3",
                 "--input", "3x30x30", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["output_shape"] == "[1, 1, 30, 30]" and data["input_shape"] == [3, 30, 30]
    assert data["total_params"] == sum(r["params"] for r in data["layers"])


def run_bad(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    return captured.err


def test_cli_unknown_model_suggests_close_names(capsys):
    err = run_bad(capsys, ["models", "summary", "smal-cnn"])
    assert "unknown model 'smal-cnn'" in err and "small-cnn" in err and "dlcc models list" in err


def test_cli_unknown_model_without_close_names(capsys):
    err = run_bad(capsys, ["models", "summary", "zzzzzz"])
    assert "unknown model 'zzzzzz'" in err and "did you mean" not in err


@pytest.mark.parametrize("bad", ["a,b", "3,-1,32", "3,0,32", "", "3,32.5,32"])
def test_cli_bad_input_shape(capsys, bad):
    err = run_bad(capsys, ["models", "summary", "small-cnn", "--input", bad])
    assert "--input" in err and "fix:" in err and "3,32,32" in err


def test_cli_input_too_large(capsys):
    err = run_bad(capsys, ["models", "summary", "lenet5", "--input", "1,100000,100000"])
    assert "elements" in err


def test_cli_input_the_model_cannot_take(capsys):
    err = run_bad(capsys, ["models", "summary", "small-cnn", "--input", "3,40,40"])
    assert "cannot run on one input of shape [3, 40, 40]" in err and "--input 3,32,32" in err
    err = run_bad(capsys, ["models", "summary", "unet", "--input", "3,64,64"])
    assert "in_channels" in err


@pytest.mark.parametrize("argv,text", [
    (["--set", "dept=2"], "no argument(s) dept"),
    (["--set", "upsample=foo"], "upsample"),
    (["--set", "depth"], "KEY=VALUE"),
    (["--set", "depth=abc"], "cannot build model 'unet'"),
])
def test_cli_bad_constructor_settings(capsys, argv, text):
    err = run_bad(capsys, ["models", "summary", "unet", *argv])
    assert text in err


def test_cli_models_without_subcommand_shows_help(capsys):
    assert main(["models"]) == 2
    assert "summary" in capsys.readouterr().out
