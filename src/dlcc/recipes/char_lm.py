"""Recipes `char-lstm`, `char-gru`, `char-gpt`: character-level language models (course A4).

Data: tinyshakespeare through the data layer by default; `--set data.corpus=embedded` uses
the small public-domain corpus shipped inside dlcc (no data needed), and a path to a UTF-8
`.txt` file trains on your own text. The vocabulary is every character of the corpus, sorted.
The text is split by position: the last `data.val_frac` is validation (nanoGPT's split), and
with `data.test_frac > 0` a test part is cut from the very end, after the validation part.

- char-gpt: a GPT decoder trained on random windows (nanoGPT's way), step-based: it is
  evaluated every `train.eval_every` optimizer steps on `data.eval_batches` random validation
  windows (the same ones each time unless `data.eval_fixed=false`, which draws fresh ones like
  nanoGPT's estimator), and the weights of the best evaluation are kept.
- char-lstm / char-gru: the course's char-RNN trained with truncated BPTT: the text is cut
  into `train.batch_size` parallel rows read left to right in `data.seq_len` windows, the
  hidden state is carried (detached) from window to window and reset each epoch (= one pass
  over the text); each epoch is validated on the whole validation text.

`train.time_budget_s` limits training by time (set `train.steps` / `train.epochs` to null to
make time the only limit); the warm-up + cosine schedule then follows the clock, so a
time-limited run still ends with a small learning rate.

Writes: metrics.json (`val_loss` of the kept weights' evaluation, `val_loss_full_text` and
`val_bpc` on the whole validation text, `test_loss` with a test part, `train_tokens_per_s`,
`sample_tokens_per_s`, ...), samples.txt, vocab.json, curves.png, model.pt, checkpoints/.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import Callback, TrainConfig

PRIME = "We, the people "   # the course's prime string


@dataclass
class TextData:
    corpus: str = setting("tinyshakespeare", "tinyshakespeare, embedded (shipped, tiny), or a UTF-8 .txt path")
    val_frac: float = setting(0.1, "share of the text (before the test part) used for validation", gt=0, lt=1)
    test_frac: float = setting(0.0, "share of the text at its very end held out for testing (0: none)", ge=0, lt=1)
    seq_len: int = setting(64, "characters per training window (the GPT's context length)", ge=1)
    eval_batches: int = setting(20, "char-gpt: random validation windows (batches) per evaluation", ge=1)
    eval_fixed: bool = setting(True, "char-gpt: the same validation windows at every evaluation (false: fresh "
                                     "random ones, nanoGPT's estimator)")

    def check(self, where: str) -> None:
        if self.val_frac + self.test_frac >= 1:
            raise ConfigError(f"{where}val_frac + {where}test_frac = {self.val_frac + self.test_frac:g} leaves no "
                              "training text", fix=f"--set {where}val_frac=0.1 {where}test_frac=0")


@dataclass
class GPTModel:
    n_layer: int = setting(4, "transformer blocks", ge=1)
    n_head: int = setting(4, "attention heads (n_embd must be divisible by it)", ge=1)
    n_embd: int = setting(128, "embedding width", ge=1)
    dropout: float = setting(0.0, "dropout", ge=0, lt=1)
    checkpointing: bool = setting(False, "gradient checkpointing: recompute each block in backward (less memory, "
                                         "more time)")

    def check(self, where: str) -> None:
        if self.n_embd % self.n_head:
            raise ConfigError(f"{where}n_embd={self.n_embd} is not divisible by {where}n_head={self.n_head}",
                              fix=f"--set {where}n_head=4 (or an n_embd that divides)")


@dataclass
class RNNModel:
    cell: Literal["lstm", "gru", "rnn"] = setting("lstm", "recurrent cell")
    hidden: int = setting(256, "hidden units per layer", ge=1)
    layers: int = setting(2, "stacked recurrent layers", ge=1)
    dropout: float = setting(0.2, "dropout between layers", ge=0, lt=1)
    embed_dim: int | None = setting(None, "character embedding size (null: one-hot input, as the course)", ge=1)


@dataclass
class Sample:
    prime: str = setting(PRIME, "text the samples start from")
    length: int = setting(500, "characters to generate per sample", ge=0)
    temperature: float = setting(0.8, "sampling temperature", gt=0)
    top_k: int | None = setting(5, "sample among the k most likely characters (null: all)", ge=1)
    count: int = setting(1, "samples written to samples.txt", ge=0)
    unknown: Literal["error", "drop"] = setting("error", "prime characters the model never saw: refuse or drop")


@dataclass
class GPTConfig:
    seed: int = setting(0, "seed for weights, windows and sampling", ge=0)
    data: TextData = section(TextData)
    model: GPTModel = section(GPTModel)
    train: TrainConfig = section(TrainConfig, epochs=None, steps=700, eval_every=350, batch_size=24,
                                 optimizer="adamw", lr=5e-3, beta2=0.99, weight_decay=0.1, schedule="warmup_cosine",
                                 warmup_steps=100, end_factor=0.1, clip_grad_norm=1.0, select="val_loss")
    sample: Sample = section(Sample)


@dataclass
class RNNConfig:
    seed: int = setting(0, "seed for weights, dropout and sampling", ge=0)
    data: TextData = section(TextData)
    model: RNNModel = section(RNNModel)
    train: TrainConfig = section(TrainConfig, epochs=10, batch_size=16, optimizer="adamw", lr=3e-3,
                                 schedule="warmup_cosine", warmup_steps=50, end_factor=0.1, clip_grad_norm=5.0,
                                 select="val_loss")
    sample: Sample = section(Sample)

    def check(self, where: str) -> None:
        if self.train.eval_every:
            raise ConfigError("char-RNNs are validated once per pass over the text (the hidden state is carried "
                              "through it); train.eval_every is not supported here", fix="--set train.eval_every=null")


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per character. logits `[B, T, V]`, targets `[B, T]` int64."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


class ResetHidden(Callback):
    """Start every epoch (a new pass over the text) from a zero hidden state."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def on_epoch_start(self, trainer, epoch):
        self.wrapper.reset()


def _rows_that_fit(n_ids: int, rows: int, seq_len: int, ctx: RunContext, what: str) -> int:
    """Fewer parallel rows when a short text cannot fill `rows` x `seq_len` (e.g. the embedded corpus)."""
    fit_rows = max(1, min(rows, (n_ids - 1) // seq_len))
    if fit_rows < rows:
        ctx.log(f"note: the {what} text ({n_ids} characters) fills only {fit_rows} row(s) of {seq_len}; "
                f"using batch size {fit_rows} there")
    return fit_rows


def split_text(ids: np.ndarray, val_frac: float, test_frac: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val, test) ids by position: ..., then validation, then the test part at the end."""
    n = len(ids)
    test_start = n - int(round(n * test_frac))
    val_start = test_start - int(round(n * val_frac))
    return ids[:val_start], ids[val_start:test_start], ids[test_start:]


@torch.no_grad()
def text_loss(model, ids: np.ndarray, seq_len: int, device, batch_size: int = 64) -> float:
    """Mean next-character loss of a GPT over the whole text `ids`, in non-overlapping windows."""
    n = (len(ids) - 1) // seq_len
    x = torch.as_tensor(ids[: n * seq_len], dtype=torch.long).view(n, seq_len)
    y = torch.as_tensor(ids[1: n * seq_len + 1], dtype=torch.long).view(n, seq_len)
    model.eval()
    total = 0.0
    for i in range(0, n, batch_size):
        logits = model(x[i:i + batch_size].to(device))
        total += lm_loss(logits, y[i:i + batch_size].to(device)).item() * len(logits)
    return total / n


@torch.no_grad()
def stream_loss(wrapper, ids: np.ndarray, rows: int, seq_len: int, device) -> float:
    """Mean loss of a char-RNN over `SequentialWindows` of `ids`, state carried across windows."""
    from dlcc.text import SequentialWindows

    wrapper.eval()
    wrapper.reset()
    total, count = 0.0, 0
    for x, y in SequentialWindows(ids, rows, seq_len, what="evaluation"):
        total += lm_loss(wrapper(x.to(device)), y.to(device)).item() * y.numel()
        count += y.numel()
    wrapper.reset()
    return total / count


def build_model(cfg, artifacts: dict):
    """GPT or char-RNN for `cfg`, sized by the vocabulary saved in `artifacts["vocab"]`."""
    from dlcc.models.rnn import CharRNN
    from dlcc.models.transformer import GPT

    vocab = len(artifacts["vocab"]["chars"])
    m = cfg.model
    if isinstance(cfg, GPTConfig):
        return GPT(vocab, cfg.data.seq_len, m.n_layer, m.n_head, m.n_embd, m.dropout, checkpointing=m.checkpointing)
    return CharRNN(vocab, m.hidden, m.layers, m.cell, m.dropout, m.embed_dim)


def run(cfg, ctx: RunContext) -> dict:
    from dlcc.models.transformer import decay_groups
    from dlcc.text import CarryHidden, CharVocab, RandomWindows, SequentialWindows, load_corpus, sample
    from dlcc.train import Task, train_and_report
    from dlcc.utils.device import choose_device
    from dlcc.utils.io import atomic_write_text, write_json

    gpt = isinstance(cfg, GPTConfig)
    device = choose_device(ctx.device)
    d, t, s = cfg.data, cfg.train, cfg.sample
    text = load_corpus(d.corpus)
    vocab = CharVocab.from_text(text)
    train_ids, val_ids, test_ids = split_text(vocab.encode(text), d.val_frac, d.test_frac)
    write_json(ctx.out_dir / "vocab.json", vocab.to_dict())
    artifacts = {"vocab": vocab.to_dict()}
    model = build_model(cfg, artifacts)
    T, batch, accum = d.seq_len, t.batch_size, t.grad_accum_steps
    if gpt:
        per_pass = (t.eval_every or t.steps or 1000) * accum   # a pass = one evaluation period
        train_loader = RandomWindows(train_ids, batch, T, per_pass, seed=cfg.seed)
        val_loader = RandomWindows(val_ids, batch, T, d.eval_batches, seed=cfg.seed + 1, reseed=d.eval_fixed,
                                   what="validation")
        trained, callbacks = model, []
    else:
        trained = CarryHidden(model)
        train_loader = SequentialWindows(train_ids, _rows_that_fit(len(train_ids), batch, T, ctx, "training"), T)
        val_rows = _rows_that_fit(len(val_ids), batch, T, ctx, "validation")
        val_loader = SequentialWindows(val_ids, val_rows, T, what="validation")
        callbacks = [ResetHidden(trained)]
    name = ctx.name or ("char-gpt" if gpt else f"char-{cfg.model.cell}")
    ctx.log(f"{name}: vocabulary {len(vocab)}, {len(train_ids):,} training / {len(val_ids):,} validation / "
            f"{len(test_ids):,} test characters")
    task = Task(trained, train_loader, val_loader, lm_loss, metrics={}, callbacks=callbacks,
                param_groups=decay_groups(model, t.weight_decay), artifacts=artifacts, save_module=model,
                title=name)

    # The hooks get the trained network (with FSDP an unsharded copy of it, not `model`).
    def validate(trained_net, info):
        if gpt:
            full = text_loss(trained_net, val_ids, T, device)
        else:
            full = stream_loss(trained, val_ids, _rows_that_fit(len(val_ids), batch, T, ctx, "validation"), T, device)
        tokens = info["steps"] * batch * T * accum
        train_time = info["train_time_s"]
        return {"val_loss_full_text": full, "val_bpc": full / math.log(2), "train_tokens": tokens,
                "train_tokens_per_s": tokens / train_time if train_time > 0 else None, "vocab_size": len(vocab)}

    def test(trained_net, info):
        out = {}
        net = trained_net if gpt else model
        if len(test_ids) > T:
            loss = (text_loss(net, test_ids, T, device) if gpt else
                    stream_loss(trained, test_ids, _rows_that_fit(len(test_ids), batch, T, ctx, "test"), T, device))
            out.update(test_loss=loss, test_bpc=loss / math.log(2))
        texts, start = [], time.perf_counter()
        for i in range(s.count):
            texts.append(sample(net, vocab, s.prime, s.length, s.temperature, s.top_k, seed=cfg.seed + i,
                                unknown=s.unknown))
        seconds = time.perf_counter() - start
        atomic_write_text(ctx.out_dir / "samples.txt", "\n\n=====\n\n".join(texts) + "\n")
        if texts:
            out["sample_tokens_per_s"] = s.count * s.length / seconds if seconds > 0 else None
            ctx.log(f"{name}: sample\n{texts[0]}")
        return out

    metrics = train_and_report(task, t, ctx, validate=validate, test=test)
    if not metrics:   # a rank other than 0 of a multi-process run: rank 0 reports
        return metrics
    ctx.log(f"{name}: val_loss {metrics['val_loss_full_text']:.4f} on the whole validation text after "
            f"{metrics['steps']} steps ({metrics['train_time_s']:.1f} s of training)")
    return metrics


RECIPES = [
    Recipe("char-gpt", "GPT decoder (4 layers, 128-dim) on characters; nanoGPT-style, step-based training",
           "tinyshakespeare (or data.corpus=embedded)", GPTConfig, run, build_model, tags=("sequences", "A4"), task="language-model"),
    Recipe("char-lstm", "course char-RNN with LSTM cells, truncated BPTT, top-k sampling",
           "tinyshakespeare (or data.corpus=embedded)", lambda: RNNConfig(model=RNNModel(cell="lstm")), run,
           build_model, tags=("sequences", "A4"), task="language-model"),
    Recipe("char-gru", "course char-RNN with GRU cells, truncated BPTT, top-k sampling",
           "tinyshakespeare (or data.corpus=embedded)", lambda: RNNConfig(model=RNNModel(cell="gru")), run,
           build_model, tags=("sequences", "A4"), task="language-model"),
]
