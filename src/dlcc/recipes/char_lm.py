"""Recipes `char-lstm`, `char-gru`, `char-gpt`: character-level language models (course A4).

Data: tinyshakespeare through the data layer by default; `--set data.corpus=embedded` uses
the small public-domain corpus shipped inside dlcc (no data needed), and a path to a UTF-8
`.txt` file trains on your own text. The vocabulary is every character of the corpus, sorted;
the last `val_frac` of the text (by position) is validation.

- char-gpt: a GPT decoder trained on random windows (nanoGPT's way); one "epoch" is
  `train.eval_every` optimizer steps, after which `train.eval_batches` fixed validation
  batches are scored and a checkpoint is written.
- char-lstm / char-gru: the course's char-RNN trained with truncated BPTT: the text is cut
  into `batch_size` parallel rows read left to right in `seq_len` windows, the hidden state is
  carried (detached) from window to window and reset each epoch (= one pass over the text).

`train.max_time_s` sets the wall time instead (`train.steps` / `train.epochs` are then ignored);
the learning rate follows a cosine over that time instead of over steps, so a time-limited run still ends with a small learning rate (this is how
the benchmark compares models at equal wall time).

Writes: metrics.json (`val_loss` on the whole validation text, `val_bpc`,
`train_tokens_per_s`, `sample_tokens_per_s`, ...), samples.txt, vocab.json, history.png,
checkpoints/.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F

from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import Callback, fit, make_scheduler, plot_history

PRIME = "We, the people "   # the course's prime string

SAMPLE = {"prime": PRIME, "length": 500, "temperature": 0.8, "top_k": 5, "count": 1,
          "unknown": "error"}

GPT_DEFAULTS = {
    "seed": 0,
    "data": {"corpus": "tinyshakespeare", "val_frac": 0.1, "block_size": 64, "batch_size": 24},
    "model": {"n_layer": 4, "n_head": 4, "n_embd": 128, "dropout": 0.0},
    "train": {"steps": 700, "eval_every": 350, "eval_batches": 20, "lr": 5e-3, "min_lr": 5e-4,
              "warmup_steps": 100, "weight_decay": 0.1, "beta2": 0.99, "clip_grad_norm": 1.0,
              "grad_accum": 1, "max_time_s": None},
    "sample": dict(SAMPLE),
}


def _rnn_defaults(cell: str) -> dict:
    return {
        "seed": 0,
        "data": {"corpus": "tinyshakespeare", "val_frac": 0.1, "seq_len": 64, "batch_size": 16},
        "model": {"cell": cell, "hidden": 256, "layers": 2, "dropout": 0.2, "embed_dim": None},
        "train": {"epochs": 10, "lr": 3e-3, "min_lr": 3e-4, "warmup_steps": 50, "weight_decay": 0.0,
                  "clip_grad_norm": 5.0, "grad_accum": 1, "max_time_s": None},
        "sample": dict(SAMPLE),
    }


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per character. logits `[B, T, V]`, targets `[B, T]` int64."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


class TimeBudget(Callback):
    """Stop after `max_time_s` seconds of training; meanwhile set the learning rate to a linear
    warm-up over `warmup_steps` steps, then a cosine from `lr` to `min_lr` over the elapsed time."""

    def __init__(self, max_time_s: float, lr: float, min_lr: float, warmup_steps: int):
        self.max_time_s, self.lr, self.min_lr, self.warmup = float(max_time_s), lr, min_lr, max(1, warmup_steps)
        self.start = 0.0

    def _set(self, trainer, lr: float) -> None:
        for group in trainer.optimizer.param_groups:
            group["lr"] = lr

    def on_fit_start(self, trainer):
        self.start = time.perf_counter()
        self._set(trainer, self.lr / self.warmup)

    def on_batch_end(self, trainer, step, loss, lr):
        frac = (time.perf_counter() - self.start) / self.max_time_s
        if frac >= 1.0:
            trainer.should_stop = True
            trainer.stop_reason = f"time budget of {self.max_time_s:g} s used up after {step} steps"
            return
        if step < self.warmup:
            self._set(trainer, self.lr * (step + 1) / self.warmup)
        else:
            self._set(trainer, self.min_lr + (self.lr - self.min_lr) * 0.5 * (1 + math.cos(math.pi * frac)))


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


@torch.no_grad()
def gpt_val_loss(model, ids, block_size: int, device, batch_size: int = 64) -> float:
    """Mean next-character loss over the whole text `ids`, in non-overlapping windows."""
    n = (len(ids) - 1) // block_size
    x = torch.as_tensor(ids[: n * block_size], dtype=torch.long).view(n, block_size)
    y = torch.as_tensor(ids[1: n * block_size + 1], dtype=torch.long).view(n, block_size)
    model.eval()
    total = 0.0
    for i in range(0, n, batch_size):
        logits = model(x[i:i + batch_size].to(device))
        total += lm_loss(logits, y[i:i + batch_size].to(device)).item() * len(logits)
    return total / n


@torch.no_grad()
def rnn_val_loss(wrapper, loader, device) -> float:
    """Mean loss over `SequentialWindows` of the validation text, state carried across windows."""
    wrapper.eval()
    wrapper.reset()
    total, count = 0.0, 0
    for x, y in loader:
        total += lm_loss(wrapper(x.to(device)), y.to(device)).item() * y.numel()
        count += y.numel()
    wrapper.reset()
    return total / count


def run(cfg: dict, ctx: RunContext, kind: str, name: str) -> dict:
    from dlcc.errors import ConfigError
    from dlcc.models.rnn import CharRNN
    from dlcc.models.transformer import GPT, decay_groups
    from dlcc.text import (CarryHidden, CharVocab, RandomWindows, SequentialWindows, load_corpus,
                           sample, split_by_position)
    from dlcc.utils.device import choose_device
    from dlcc.utils.io import atomic_write_text, write_json

    device = choose_device(ctx.device)
    d, m, t, s = cfg["data"], cfg["model"], cfg["train"], cfg["sample"]
    text = load_corpus(str(d["corpus"]))
    vocab = CharVocab.from_text(text)
    train_ids, val_ids = split_by_position(vocab.encode(text), float(d["val_frac"]))
    write_json(ctx.out_dir / "vocab.json", vocab.to_dict())
    batch = int(d["batch_size"])
    if batch < 1:
        raise ConfigError(f"data.batch_size must be >= 1; got {batch}", fix="e.g. --set data.batch_size=32")

    if kind == "gpt":
        T = int(d["block_size"])
        model = GPT(len(vocab), T, int(m["n_layer"]), int(m["n_head"]), int(m["n_embd"]), float(m["dropout"]))
        trained = model
        steps, every = int(t["steps"]), max(1, int(t["eval_every"]))
        epochs = math.ceil(steps / every)      # steps are rounded up to whole evaluation periods
        per_epoch = every
        train_loader = RandomWindows(train_ids, batch, T, every * int(t["grad_accum"]), seed=ctx.seed)
        val_loader = RandomWindows(val_ids, batch, T, int(t["eval_batches"]), seed=ctx.seed + 1,
                                   reseed=True, what="validation")
        extra: list = []
    else:
        T = int(d["seq_len"])
        model = CharRNN(len(vocab), int(m["hidden"]), int(m["layers"]), str(m["cell"]),
                        float(m["dropout"]), m["embed_dim"])
        trained = CarryHidden(model)
        train_loader = SequentialWindows(train_ids, _rows_that_fit(len(train_ids), batch, T, ctx, "training"), T)
        val_loader = SequentialWindows(val_ids, _rows_that_fit(len(val_ids), batch, T, ctx, "validation"), T,
                                       what="validation")
        epochs = int(t["epochs"])
        per_epoch = math.ceil(len(train_loader) / int(t["grad_accum"]))
        extra = [ResetHidden(trained)]

    optimizer = torch.optim.AdamW(decay_groups(model, float(t["weight_decay"])), lr=float(t["lr"]),
                                  betas=(0.9, float(t.get("beta2", 0.999))))
    tracker, tracking = ctx.open_tracker(cfg, name)
    callbacks = [*ctx.callbacks, *tracking]
    callbacks += extra   # no BestModel: a time-limited run must keep its last, most-trained weights
    scheduler, interval = None, "step"
    if t["max_time_s"] is not None and not float(t["max_time_s"]) > 0:
        raise ConfigError(f"train.max_time_s must be a positive number of seconds (or null); got {t['max_time_s']}",
                          fix="e.g. --set train.max_time_s=120")
    if t["max_time_s"]:     # run until the time is up; steps/epochs no longer limit it
        epochs = None   # no epoch limit: TimeBudget stops the run
        callbacks.append(TimeBudget(float(t["max_time_s"]), float(t["lr"]), float(t["min_lr"]),
                                    int(t["warmup_steps"])))
    elif epochs * per_epoch > 1:
        warmup = max(1, min(int(t["warmup_steps"]), epochs * per_epoch - 1))
        scheduler, interval = make_scheduler("warmup_cosine", optimizer, epochs, per_epoch,
                                             warmup_steps=warmup, min_lr=float(t["min_lr"]))
    ctx.log(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters, vocabulary "
            f"{len(vocab)}, {len(train_ids):,} training / {len(val_ids):,} validation characters")
    start, cpu_start = time.perf_counter(), time.process_time()
    trainer = fit(trained, train_loader, val_loader, lm_loss, optimizer, epochs, scheduler=scheduler,
                  scheduler_interval=interval, callbacks=callbacks, device=device,
                  grad_accum_steps=int(t["grad_accum"]), clip_grad_norm=t["clip_grad_norm"],
                  metrics={}, out_dir=ctx.out_dir, resume=ctx.resume, progress=ctx.progress,
                  config=cfg, log=ctx.log)
    train_time, train_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    tokens = trainer.global_step * batch * T * int(t["grad_accum"])

    if kind == "gpt":
        val_loss = gpt_val_loss(model, val_ids, T, device)
    else:
        rows = _rows_that_fit(len(val_ids), batch, T, ctx, "validation")
        val_loss = rnn_val_loss(trained, SequentialWindows(val_ids, rows, T, what="validation"), device)

    texts, sample_start = [], time.perf_counter()
    for i in range(int(s["count"])):
        texts.append(sample(model, vocab, str(s["prime"]), int(s["length"]), float(s["temperature"]),
                            s["top_k"], seed=ctx.seed + i, unknown=str(s["unknown"])))
    sample_time = time.perf_counter() - sample_start
    atomic_write_text(ctx.out_dir / "samples.txt", "\n\n=====\n\n".join(texts) + "\n")
    plot_history(trainer.history, ctx.out_dir / "history.png", title=name)
    metrics = {
        "val_loss": val_loss, "val_bpc": val_loss / math.log(2),
        "train_loss": trainer.history[-1].get("train_loss") if trainer.history else None,
        "steps": trainer.global_step, "train_tokens": tokens, "train_time_s": train_time,
        "train_cpu_time_s": train_cpu,
        "train_tokens_per_s": tokens / train_time if train_time > 0 else None,
        "sample_tokens_per_s": int(s["count"]) * int(s["length"]) / sample_time if sample_time > 0 else None,
        "n_params": sum(p.numel() for p in model.parameters()), "vocab_size": len(vocab),
    }
    if tracker is not None:
        tracker.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, trainer.global_step)
        tracker.close()
    ctx.log(f"{name}: val_loss {val_loss:.4f} after {trainer.global_step} steps in {train_time:.1f} s\n{texts[0]}")
    return metrics


def _runner(kind: str, name: str):
    return lambda cfg, ctx: run(cfg, ctx, kind, name)


RECIPES = [
    Recipe("char-gpt", "GPT decoder (4 layers, 128-dim) on characters; nanoGPT-style training",
           "tinyshakespeare (or data.corpus=embedded)", GPT_DEFAULTS, _runner("gpt", "char-gpt"),
           tags=("sequences", "A4")),
    Recipe("char-lstm", "course char-RNN with LSTM cells, truncated BPTT, top-k sampling",
           "tinyshakespeare (or data.corpus=embedded)", _rnn_defaults("lstm"), _runner("rnn", "char-lstm"),
           tags=("sequences", "A4")),
    Recipe("char-gru", "course char-RNN with GRU cells, truncated BPTT, top-k sampling",
           "tinyshakespeare (or data.corpus=embedded)", _rnn_defaults("gru"), _runner("rnn", "char-gru"),
           tags=("sequences", "A4")),
]
