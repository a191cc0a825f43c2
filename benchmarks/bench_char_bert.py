"""char-bert on tinyshakespeare: masked-character accuracy against baselines, on a CPU budget.

    python benchmarks/bench_char_bert.py [--threads 1] [--set KEY=VALUE ...] [--save benchmarks/results/char_bert]

Runs the `char-bert` recipe with its defaults (4 layers, 4 heads, 128-dim encoder, 64-character
windows, 1000 steps of 32 windows; validation = 10 %, test = the last 10 % of the text) in this
process and scores the kept weights on every 64-character window of the validation and test
text, 15 % of the positions selected and corrupted 80/10/10 with a fixed seed. Baselines at the
very same positions:

- majority: always the most frequent training character (the space);
- neighbours: the most frequent training character between the same left and right
  neighbours (a two-sided bigram table; one-sided or majority where a neighbour is outside the
  window). It reads the *uncorrupted* neighbours, so it is an optimistic baseline: the encoder
  sees them corrupted whenever they were selected too.

Budget: <= 15 CPU-minutes (process CPU time, user + system, of the whole run: data, training,
evaluations), with 1-2 torch threads. The machine is shared with other jobs; CPU time is what
the bar is about, wall time is reported beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import report  # noqa: E402

from dlcc.recipes.char_lm import split_text  # noqa: E402
from dlcc.recipes.registry import get_recipe  # noqa: E402
from dlcc.recipes.runner import run_recipe  # noqa: E402
from dlcc.text import IGNORE, CharVocab, load_corpus, mask_tokens  # noqa: E402

BUDGET_CPU_MIN = 15.0


def neighbour_baseline(train: np.ndarray, text: np.ndarray, seq_len: int, n: int, seed: int) -> dict:
    """Accuracy of the majority and two-sided-bigram guesses at the positions char-bert is scored on."""
    none = n                                     # "no neighbour" symbol (window edge)
    counts = np.zeros((n + 1, n + 1, n), dtype=np.int64)
    centre, left, right = train[1:-1], train[:-2], train[2:]
    for l, r in ((left, right), (left, np.full_like(right, none)), (np.full_like(left, none), right)):
        np.add.at(counts, (l, r, centre), 1)
    np.add.at(counts, (none, none, train), 1)
    guess = counts.argmax(-1)
    windows = len(text) // seq_len
    x = torch.as_tensor(text[: windows * seq_len], dtype=torch.long).view(windows, seq_len)
    _, targets = mask_tokens(x, n, n, torch.Generator().manual_seed(seed))   # the recipe's scoring corruption
    rows, cols = np.nonzero((targets != IGNORE).numpy())
    truth = x.numpy()[rows, cols]
    l = np.where(cols > 0, x.numpy()[rows, np.maximum(cols - 1, 0)], none)
    r = np.where(cols < seq_len - 1, x.numpy()[rows, np.minimum(cols + 1, seq_len - 1)], none)
    majority = int(np.bincount(train, minlength=n).argmax())
    return {"selected": len(truth), "majority_accuracy": float(np.mean(truth == majority)),
            "neighbour_accuracy": float(np.mean(guess[l, r] == truth))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra char-bert override")
    parser.add_argument("--save", type=Path, default=None, help="write <save>.md and <save>.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-char-bert-"))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    out, m = run_recipe("char-bert", args.set, out=work / "run", progress=False,
                        log=lambda line: print(f"  {line}", flush=True))
    cpu_min, wall_min = (time.process_time() - cpu0) / 60, (time.perf_counter() - wall0) / 60

    cfg = get_recipe("char-bert").make_config(args.set)      # what the run used
    d = cfg.data
    text = load_corpus(d.corpus)
    vocab = CharVocab.from_text(text)
    train_ids, val_ids, test_ids = split_text(vocab.encode(text), d.val_frac, d.test_frac)
    base = {part: neighbour_baseline(train_ids, ids, d.seq_len, len(vocab), cfg.seed + 2)
            for part, ids in (("val", val_ids), ("test", test_ids))}
    rows = [("char-bert (kept weights)", m["val_masked_accuracy_full_text"], m["test_masked_accuracy"],
             m["val_masked_loss_full_text"], m["test_masked_loss"]),
            ("neighbours (two-sided bigram, clean neighbours)", base["val"]["neighbour_accuracy"],
             base["test"]["neighbour_accuracy"], None, None),
            ("majority (always the most frequent character)", base["val"]["majority_accuracy"],
             base["test"]["majority_accuracy"], None, None)]
    fmt = lambda v: "-" if v is None else f"{v:.4f}"   # noqa: E731
    lines = ["# char-bert: masked-character accuracy on tinyshakespeare", "",
             f"Recipe `char-bert` ({m['n_params']:,} parameters, {m['steps']} steps, best evaluation at step "
             f"{m['best_step']}), {args.threads} torch thread(s); scored on every {d.seq_len}-character window of "
             f"the validation ({m['val_selected']:,} selected positions) and test ({m['test_selected']:,}) text.", "",
             "| predictor | val masked accuracy | test masked accuracy | val masked loss | test masked loss |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {name} | **{fmt(a)}** | **{fmt(b)}** | {fmt(c)} | {fmt(e)} |" for name, a, b, c, e in rows]
    within = cpu_min <= BUDGET_CPU_MIN
    lines += ["", f"Budget: {cpu_min:.1f} CPU-minutes (process user + system time of the whole run; "
                  f"{wall_min:.1f} wall minutes on the shared machine) of <= {BUDGET_CPU_MIN:g} -> "
                  f"{'within' if within else 'OVER'}; training alone {m['fit_cpu_time_s'] / 60:.1f} CPU-minutes.",
              f"char-bert beats the majority baseline by {100 * (m['test_masked_accuracy'] - base['test']['majority_accuracy']):.1f} "
              f"points and the neighbour baseline by "
              f"{100 * (m['test_masked_accuracy'] - base['test']['neighbour_accuracy']):.1f} points of test accuracy.",
              "", f"Load average before: {[round(x, 2) for x in load_before]}",
              "Command: python benchmarks/bench_char_bert.py " + " ".join(argv if argv is not None else sys.argv[1:])]
    report(lines, args.save, {"metrics": m, "baselines": base, "cpu_minutes": cpu_min, "wall_minutes": wall_min,
                              "budget_cpu_minutes": BUDGET_CPU_MIN, "within_budget": within, "threads": args.threads,
                              "overrides": args.set, "load_before": load_before})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
