"""A character language model on the user's text: `dlcc predict CHAR_RUN FILE.txt... --out DIR` and
`dlcc predict CHAR_RUN --prompt TEXT [--length N] --out DIR`.

With `--prompt`: `N` characters (default: the run's `sample.length`) generated after the prompt
with the run's own sampling settings (temperature, top-k, seed), written to generated.txt.

For each file: how well the model predicts it (bits per character, the recipes' measure: a
GPT reads it in non-overlapping windows of its context length - whole windows, as the
recipe's `val_loss_full_text` - and a char-RNN in one pass with its state carried along), and
a continuation of `CONTINUE` characters sampled after its last 200
(top-k 5, seeded). Characters the model never saw in training are left out and counted.
Writes texts.csv and `<file>_continued.txt`.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dlcc.errors import ConfigError, DataError

CONTINUE = 300
PRIME = 200
MAX_LENGTH = 100_000       # characters one --prompt may ask for: bounds the time of one call


def check_lm(model) -> None:
    """Refuse what predict cannot run as a language model, before anything is written."""
    if not model.is_torch:
        raise ConfigError(f"{model.source}: predict runs language models from their run directory only",
                          fix="give the run directory the export was made from")


def check_prompt(model, prompt: str, length: int | None) -> int:
    """Check `prompt` and `length` against the model's vocabulary; returns the length to generate.

    Refused (ConfigError, exit 2): an empty prompt, characters the model never saw (named, with
    the fix), a length below 1 or above `MAX_LENGTH`.
    """
    from dlcc.text import CharVocab

    if not prompt:
        raise ConfigError("--prompt is empty: generation needs at least one character to start from",
                          fix="e.g. --prompt 'ROMEO:'")
    vocab = CharVocab.from_dict(model.artifacts["vocab"])
    unseen = vocab.unseen(prompt)
    if unseen:
        shown = ", ".join(repr(c) for c in unseen[:10]) + (f" and {len(unseen) - 10} more" if len(unseen) > 10 else "")
        known = "".join(c for c in vocab.chars if c.isprintable())
        raise ConfigError(f"--prompt has character(s) {model.name} never saw in training: {shown}",
                          fix=f"use only characters of its vocabulary ({len(vocab)}: {known[:80]!r})")
    if length is None:
        length = int(model.config.get("sample", {}).get("length", CONTINUE))
    if not 1 <= length <= MAX_LENGTH:
        raise ConfigError(f"--length {length} is out of range: generate between 1 and {MAX_LENGTH:,} characters",
                          fix="e.g. --length 300")
    return length


def generate(model, prompt: str, length: int, out: Path, log=print) -> dict:
    """`prompt` followed by `length` sampled characters, with the run's sampling settings, into
    out/generated.txt; returns the summary's "generated" entry."""
    from dlcc.text import CharVocab, sample

    s = model.config.get("sample", {})
    temperature, top_k, seed = float(s.get("temperature", 1.0)), s.get("top_k"), int(model.config.get("seed", 0))
    text = sample(model.module, CharVocab.from_dict(model.artifacts["vocab"]), prompt, length,
                  temperature=temperature, top_k=top_k, seed=seed)
    (out / "generated.txt").write_text(text, encoding="utf-8")
    log(text)
    return {"prompt": prompt, "length": length, "temperature": temperature, "top_k": top_k, "seed": seed,
            "text": text, "file": str(out / "generated.txt")}


@torch.no_grad()
def bits_per_char(model, ids: np.ndarray, chunk: int = 1024) -> float:
    """Mean next-character cross-entropy of `ids` `[n]` in bits."""
    x = torch.as_tensor(ids, dtype=torch.long)
    total, count = 0.0, 0
    if getattr(model, "recurrent", False):
        hidden = None
        for i in range(0, len(x) - 1, chunk):
            inp, target = x[i:i + chunk][None], x[i + 1:i + chunk + 1][None]
            logits, hidden = model(inp[:, :target.shape[1]], hidden)
            total += F.cross_entropy(logits[0], target[0], reduction="sum").item()
            count += target.numel()
    else:                                   # whole windows only, as the recipe's evaluation (all for a short text)
        block = model.block_size
        n = (len(x) - 1) // block * block or len(x) - 1
        for i in range(0, n, block):
            inp, target = x[i:min(i + block, n)][None], x[i + 1:min(i + block, n) + 1][None]
            logits = model(inp)
            total += F.cross_entropy(logits[0], target[0], reduction="sum").item()
            count += target.numel()
    return total / count / math.log(2)


def text_files(inputs: list[Path]) -> list[Path]:
    """The text files named or inside the folders named (their *.txt); refuses a missing path
    and a folder without text files, naming it, before anything is written."""
    files = []
    for path in inputs:
        if path.is_dir():
            found = sorted(path.glob("*.txt"))
            if not found:
                raise DataError(f"{path}: the folder has no .txt files", fix="give text files or a folder of them")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(f"{path}: no such file", fix="check the path")
    return files


def predict_texts(model, inputs: list[Path], out: Path, prompt: str | None = None, length: int | None = None,
                  log=print) -> dict:
    """Score and continue each text file of `inputs` (files or folders of .txt), and with
    `prompt` generate after it; writes texts.csv, <file>_continued.txt, generated.txt."""
    from dlcc.text import CharVocab, sample

    check_lm(model)
    vocab = CharVocab.from_dict(model.artifacts["vocab"])
    texts = []                              # read and check every file before anything is written
    for path in text_files(inputs):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{path}: not UTF-8 text", fix="give plain text files") from None
        ids = vocab.encode(text, unknown="drop")
        if len(ids) < 2:
            raise DataError(f"{path}: fewer than 2 characters the model knows", fix="give a longer text")
        texts.append((path, text, ids))
    summary: dict = {"model": model.name}
    if prompt is not None:
        summary["generated"] = generate(model, prompt, check_prompt(model, prompt, length), out, log=log)
    rows = []
    for path, text, ids in texts:
        unseen = vocab.unseen(text)
        bits = bits_per_char(model.module, ids)
        prime = vocab.decode(ids[-PRIME:])
        continued = sample(model.module, vocab, prime, CONTINUE, top_k=5, seed=0)
        (out / f"{path.stem}_continued.txt").write_text(continued, encoding="utf-8")
        rows.append({"file": str(path), "characters": len(ids), "dropped": len(text) - len(ids),
                     "unseen": "".join(unseen), "bits_per_char": round(bits, 4)})
        log(f"{path.name}: {bits:.3f} bits per character over {len(ids):,} characters")
    if not rows:
        return summary
    with open(out / "texts.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return {**summary, "files": rows,
            "bits_per_char": float(np.average([r["bits_per_char"] for r in rows],
                                              weights=[r["characters"] for r in rows]))}
