"""`dlcc predict` with a character language model: bits per character of the user's text (the
recipe's own measure), a sampled continuation, and generation from a prompt (`--prompt`,
`--length`) with its bad inputs (exit 2, one message, nothing written)."""

from __future__ import annotations

import csv
import json
import math

import pytest

from dlcc.cli import main

TINY_GPT = ["data.corpus=embedded", "train.steps=20", "train.eval_every=10", "data.eval_batches=2",
            "train.warmup_steps=2", "train.batch_size=4", "data.seq_len=16", "model.n_layer=1", "model.n_embd=16",
            "model.n_head=2", "sample.length=20"]


@pytest.fixture(scope="module")
def gpt_run(tmp_path_factory):
    """A tiny char-gpt run on the embedded corpus (about a second)."""
    run = tmp_path_factory.mktemp("lm") / "gpt"
    assert main(["run", "char-gpt", *[x for s in TINY_GPT for x in ("--set", s)], "--out", str(run),
                 "--no-progress"]) == 0
    return run


def test_char_gpt_scores_the_validation_text_as_the_recipe_did(gpt_run, tmp_path, capsys):
    from dlcc.recipes.char_lm import split_text
    from dlcc.text import CharVocab, load_corpus

    run = gpt_run
    text = load_corpus("embedded")
    vocab = CharVocab.from_text(text)
    _, val_ids, _ = split_text(vocab.encode(text), 0.1, 0.0)          # the recipe's defaults
    (tmp_path / "val.txt").write_text(vocab.decode(val_ids) + "☃", encoding="utf-8")
    code = main(["predict", str(run), str(tmp_path / "val.txt"), "--out", str(tmp_path / "p")])
    assert code == 0, capsys.readouterr().err
    with open(tmp_path / "p" / "texts.csv") as fh:
        row = next(csv.DictReader(fh))
    recorded = json.loads((run / "metrics.json").read_text())["val_loss_full_text"]
    assert abs(float(row["bits_per_char"]) * math.log(2) - recorded) < 1e-3
    assert row["dropped"] == "1" and row["unseen"] == "☃"
    continued = (tmp_path / "p" / "val_continued.txt").read_text(encoding="utf-8")
    assert len(continued) == 200 + 300
    (tmp_path / "pic.png").write_bytes(b"\x89PNG")
    assert main(["predict", str(run), str(tmp_path / "pic.png"), "--out", str(tmp_path / "q")]) == 2
    assert "not a text file" in capsys.readouterr().err


def test_prompt_generates_with_the_runs_sampling_settings(gpt_run, tmp_path, capsys):
    from dlcc.recipes import load_run
    from dlcc.text import CharVocab, sample

    code = main(["predict", str(gpt_run), "--prompt", "The ", "--length", "40", "--out", str(tmp_path / "g")])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    text = (tmp_path / "g" / "generated.txt").read_text(encoding="utf-8")
    run = load_run(gpt_run)
    vocab = CharVocab.from_dict(run.artifacts["vocab"])
    s = run.config.sample                        # temperature 0.8, top-k 5, seed 0: the recipe's own samples
    assert text == sample(run.model, vocab, "The ", 40, s.temperature, s.top_k, seed=run.config.seed)
    assert text.startswith("The ") and len(text) == 4 + 40 and not vocab.unseen(text)
    assert text in printed.out                   # shown, not only written
    summary = json.loads((tmp_path / "g" / "summary.json").read_text())
    assert summary["generated"]["text"] == text and summary["generated"]["top_k"] == 5
    # without --length: the run's sample.length (20 here); --json carries the text; files and a prompt together
    (tmp_path / "a.txt").write_text("The cat sat on the mat. " * 4, encoding="utf-8")
    code = main(["predict", str(gpt_run), str(tmp_path / "a.txt"), "--prompt", "a", "--json",
                 "--out", str(tmp_path / "h")])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out["generated"]["text"]) == 1 + 20 and out["files"][0]["characters"] == 96
    assert (tmp_path / "h" / "a_continued.txt").is_file() and (tmp_path / "h" / "texts.csv").is_file()


def test_bad_prompts_and_lengths_exit_2_with_nothing_written(gpt_run, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "good.txt").write_text("The cat sat on the mat.", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "short.txt").write_text("☃T", encoding="utf-8")     # one character the model knows
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    cases = [
        (("--prompt", ""), "--prompt is empty"),
        (("--prompt", "Snow ☃ and ✓"), "never saw in training: '☃', '✓'"),
        (("--prompt", "The", "--length", "0"), "--length 0 is out of range"),
        (("--prompt", "The", "--length", "-5"), "--length -5 is out of range"),
        (("--prompt", "The", "--length", "10000000"), "between 1 and 100,000"),
        (("--length", "10"), "--length needs --prompt"),
        ((), "no inputs given"),
        ((str(tmp_path / "empty"),), "has no .txt files"),
        ((str(tmp_path / "gone.txt"), "--prompt", "The"), "no such file"),
        ((str(tmp_path / "good.txt"), str(tmp_path / "latin1.txt")), "not UTF-8 text"),
        ((str(tmp_path / "good.txt"), str(tmp_path / "short.txt"), "--prompt", "The"), "fewer than 2 characters"),
    ]
    for i, (args, message) in enumerate(cases):
        code = main(["predict", str(gpt_run), *args, "--out", str(tmp_path / f"out{i}")])
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        assert message in err, (args, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) <= 2, err
        assert not (tmp_path / f"out{i}").exists()          # nothing left behind
    with pytest.raises(SystemExit) as exc:                    # argparse: not a number
        main(["predict", str(gpt_run), "--prompt", "The", "--length", "ten", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2 and "invalid int value: 'ten'" in capsys.readouterr().err
    assert main(["predict", str(gpt_run), "--prompt", "The", "--out", str(full)]) == 2
    assert "not empty" in capsys.readouterr().err and [p.name for p in full.iterdir()] == ["keep.txt"]
