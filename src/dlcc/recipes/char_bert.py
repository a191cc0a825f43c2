"""Recipe `char-bert`: a BERT-style masked-language-model encoder on characters.

The same data as char-gpt (tinyshakespeare by default, `data.corpus=embedded` for the small
shipped corpus, or a UTF-8 `.txt` path; split by position into training, validation and,
with `data.test_frac > 0`, a test part at the end) and the same network, but with attention
in both directions (`dlcc.models.transformer.BERT`). Training windows of `data.seq_len`
characters are corrupted the BERT way (`dlcc.text.masking`): 15 % of the positions are
selected, of those 80 % become `[MASK]`, 10 % a random character and 10 % stay as they were;
the loss is the cross-entropy at the selected positions only. Training is step-based like
char-gpt: an evaluation every `train.eval_every` steps on `data.eval_batches` fixed validation
batches (the same windows and corruption each time), and the weights of the best one kept.

Writes metrics.json: `val_loss` / `val_masked_accuracy` (the kept evaluation's batches),
`val_masked_loss_full_text` / `val_masked_accuracy_full_text` (every window of the validation
text, corrupted with a fixed seed), `test_masked_loss` / `test_masked_accuracy` with a test
part, and `*_majority_accuracy`: always answering the most frequent training character at the
same positions, the baseline to beat. A masked-LM encoder does not generate text, so `dlcc
predict` and `dlcc export` refuse its runs (task "masked-language-model").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcc.config import section, setting
from dlcc.recipes.char_lm import GPTModel, TextData, split_text
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import TrainConfig


@dataclass
class Masking:
    select: float = setting(0.15, "share of the positions selected for prediction (BERT: 0.15)", gt=0, le=1)
    mask: float = setting(0.8, "of the selected positions: share replaced by [MASK] (BERT: 0.8)", ge=0, le=1)
    random: float = setting(0.1, "of the selected positions: share replaced by a random character; the rest "
                                 "stay unchanged (BERT: 0.1)", ge=0, le=1)

    def check(self, where: str) -> None:
        from dlcc.text.masking import check_fractions

        check_fractions(self.select, self.mask, self.random)


@dataclass
class BERTConfig:
    seed: int = setting(0, "seed for weights, windows and masking", ge=0)
    data: TextData = section(TextData, test_frac=0.1)
    model: GPTModel = section(GPTModel)
    masking: Masking = section(Masking)
    train: TrainConfig = section(TrainConfig, epochs=None, steps=1000, eval_every=250, batch_size=32,
                                 optimizer="adamw", lr=2e-3, beta2=0.99, weight_decay=0.1, schedule="warmup_cosine",
                                 warmup_steps=100, end_factor=0.1, clip_grad_norm=1.0, select="val_loss")


def build_model(cfg: BERTConfig, artifacts: dict):
    """The encoder for `cfg`: the vocabulary saved in `artifacts["vocab"]` plus the [MASK] token."""
    from dlcc.models.transformer import BERT

    m = cfg.model
    return BERT(len(artifacts["vocab"]["chars"]) + 1, cfg.data.seq_len, m.n_layer, m.n_head, m.n_embd, m.dropout,
                checkpointing=m.checkpointing)


def run(cfg: BERTConfig, ctx: RunContext) -> dict:
    from dlcc.models.transformer import decay_groups
    from dlcc.text import CharVocab, MaskedWindows, load_corpus, masked_accuracy, masked_lm_loss
    from dlcc.text.masking import masked_text_scores
    from dlcc.train import Task, train_and_report
    from dlcc.utils.device import choose_device
    from dlcc.utils.io import write_json

    device = choose_device(ctx.device)
    d, t, k = cfg.data, cfg.train, cfg.masking
    text = load_corpus(d.corpus)
    vocab = CharVocab.from_text(text)
    train_ids, val_ids, test_ids = split_text(vocab.encode(text), d.val_frac, d.test_frac)
    write_json(ctx.out_dir / "vocab.json", vocab.to_dict())
    n_chars = len(vocab)
    artifacts = {"vocab": vocab.to_dict(), "mask_id": n_chars}
    model = build_model(cfg, artifacts)
    fractions = {"select": k.select, "mask": k.mask, "random": k.random}
    per_pass = (t.eval_every or t.steps or 1000) * t.grad_accum_steps     # a pass = one evaluation period
    train_loader = MaskedWindows(train_ids, t.batch_size, d.seq_len, per_pass, n_chars, n_chars, seed=cfg.seed,
                                 **fractions)
    val_loader = MaskedWindows(val_ids, t.batch_size, d.seq_len, d.eval_batches, n_chars, n_chars,
                               seed=cfg.seed + 1, reseed=d.eval_fixed, what="validation", **fractions)
    # the majority baseline: always answer the most frequent character of the training text
    majority = int(np.bincount(train_ids, minlength=n_chars).argmax())
    name = ctx.name or "char-bert"
    ctx.log(f"{name}: vocabulary {n_chars} + [MASK], {len(train_ids):,} training / {len(val_ids):,} validation / "
            f"{len(test_ids):,} test characters; most frequent character {vocab.chars[majority]!r}")
    task = Task(model, train_loader, val_loader, masked_lm_loss, metrics={"masked_accuracy": masked_accuracy},
                param_groups=decay_groups(model, t.weight_decay), artifacts=artifacts, title=name)

    def scores(net, ids) -> dict:   # every window of the text, corrupted with a fixed seed
        return masked_text_scores(net, ids, d.seq_len, n_chars, device, seed=cfg.seed + 2, guess=majority,
                                  **fractions)

    def validate(net, info):
        s = scores(net, val_ids)
        tokens = info["steps"] * t.batch_size * d.seq_len * t.grad_accum_steps
        train_time = info["train_time_s"]
        return {"val_masked_loss_full_text": s["loss"], "val_masked_accuracy_full_text": s["accuracy"],
                "val_majority_accuracy": s["guess_accuracy"], "val_selected": s["selected"], "vocab_size": n_chars,
                "train_tokens": tokens, "train_tokens_per_s": tokens / train_time if train_time > 0 else None}

    def test(net, info):
        if len(test_ids) < d.seq_len:
            return {}
        s = scores(net, test_ids)
        return {"test_masked_loss": s["loss"], "test_masked_accuracy": s["accuracy"],
                "test_majority_accuracy": s["guess_accuracy"], "test_selected": s["selected"]}

    metrics = train_and_report(task, t, ctx, validate=validate, test=test)
    if not metrics:   # a rank other than 0 of a multi-process run: rank 0 reports
        return metrics
    ctx.log(f"{name}: masked-character accuracy {metrics['val_masked_accuracy_full_text']:.3f} on the whole "
            f"validation text (always {vocab.chars[majority]!r}: {metrics['val_majority_accuracy']:.3f}) after "
            f"{metrics['steps']} steps")
    return metrics


RECIPE = Recipe("char-bert", "BERT-style masked-LM encoder on characters (15 % masked, 80/10/10), step-based",
                "tinyshakespeare (or data.corpus=embedded)", BERTConfig, run, build_model, tags=("sequences",),
                task="masked-language-model")
