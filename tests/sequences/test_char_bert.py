"""char-bert: the bidirectional encoder, the recipe on the embedded corpus, and what refuses its runs."""

import json

import torch

from dlcc.cli import main
from dlcc.models.transformer import BERT, GPT

TINY_BERT = ["data.corpus=embedded", "train.steps=6", "train.eval_every=3", "data.eval_batches=2",
             "train.warmup_steps=2", "train.batch_size=4", "data.seq_len=16", "model.n_layer=1",
             "model.n_embd=16", "model.n_head=2"]


def run(args, tmp_path, capsys, name="run"):
    out = tmp_path / name
    sets = [x for a in args[1:] for x in ("--set", a)]
    code = main(["run", args[0], *sets, "--out", str(out), "--no-progress"])
    return code, out, capsys.readouterr()


@torch.no_grad()
def test_bert_sees_both_directions_and_gpt_only_the_past():
    torch.manual_seed(0)
    bert, gpt = BERT(9, 8, 1, 2, 16).eval(), GPT(9, 8, 1, 2, 16).eval()
    assert bert.mask_id == 8 and not bert.causal and gpt.causal
    idx = torch.randint(0, 8, (1, 8))
    later = idx.clone()
    later[0, 6] = (idx[0, 6] + 1) % 8                 # change a late token
    assert not torch.allclose(bert(idx)[0, :6], bert(later)[0, :6])
    torch.testing.assert_close(gpt(idx)[0, :6], gpt(later)[0, :6])
    assert bert(idx).shape == (1, 8, 9)


def test_char_bert_on_the_embedded_corpus(tmp_path, capsys):
    code, out, captured = run(["char-bert", *TINY_BERT], tmp_path, capsys)
    assert code == 0, captured.err
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "history.json").read_text())
    assert [row["step"] for row in history] == [3, 6]
    best = min(history, key=lambda row: row["val_loss"])
    assert metrics["best_step"] == best["step"] and metrics["val_loss"] == best["val_loss"]
    for key in ("val_masked_accuracy", "val_masked_accuracy_full_text", "test_masked_accuracy",
                "val_majority_accuracy", "test_majority_accuracy"):
        assert 0 <= metrics[key] <= 1, key
    assert 0 < metrics["test_masked_loss"] < 6 and metrics["test_selected"] > 0
    assert (out / "model.pt").is_file() and (out / "vocab.json").is_file()

    # a masked-LM encoder generates nothing: predict and export refuse it in one line, exit 2
    (tmp_path / "a.txt").write_text("We the people", encoding="utf-8")
    assert main(["predict", str(out), str(tmp_path / "a.txt"), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "masked-language-model" in err and "Traceback" not in err
    assert not (tmp_path / "p").exists()
    assert main(["export", str(out), "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert "masked-language-model" in err and "Traceback" not in err


def test_bad_masking_fractions_exit_2(tmp_path, capsys):
    code, out, captured = run(["char-bert", *TINY_BERT, "masking.mask=0.95", "masking.random=0.1"], tmp_path, capsys)
    assert code == 2 and "masking.mask=0.95" in captured.err and "Traceback" not in captured.err
    assert not out.exists()
