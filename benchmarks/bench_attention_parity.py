"""Parity of the NumPy engine's attention with torch, in float64 (issue 18's bar: <= 1e-6).

    python benchmarks/bench_attention_parity.py [--save benchmarks/results/attention_parity]

Sweeps shapes (odd sizes, one-query, cross-attention with Lq != Lk) and the four mask kinds
(none, key padding, causal, both) through three levels: `scaled_dot_product_attention` against
torch.nn.functional.scaled_dot_product_attention, `MultiheadAttention` against
torch.nn.MultiheadAttention, and `TransformerBlock` against torch.nn.TransformerEncoderLayer
(norm_first=True, GELU), with the same weights. For each case it records the largest absolute
error of the output, of the input gradients and of the parameter gradients for a random
upstream gradient, and the CPU time (user + system) of the whole sweep.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import report  # noqa: E402

from dlcc.scratch import MultiheadAttention, TransformerBlock  # noqa: E402
from dlcc.scratch.layers.attention import (scaled_dot_product_attention,  # noqa: E402
                                           scaled_dot_product_attention_backward)
from dlcc.scratch.layers.masks import causal_mask, combine_masks, padding_mask  # noqa: E402

BAR = 1e-6
KINDS = ["none", "padding", "causal", "both"]
# (batch, heads, Lq, Lk, embed dim); self-attention levels use Lk = Lq.
SHAPES = [(3, 3, 7, 7, 9), (2, 1, 5, 11, 4), (1, 4, 1, 6, 8), (4, 2, 13, 3, 6), (2, 5, 16, 16, 35)]


def err(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def lengths_for(b: int, lk: int, rng) -> np.ndarray:
    lengths = rng.integers(1, lk + 1, size=b)
    lengths[0] = max(1, lk - 2)       # at least one sequence really padded
    return lengths


def sdpa_case(kind, b, h, lq, lk, e, rng) -> dict:
    d = max(1, e // h)
    q, k, v = rng.standard_normal((b, h, lq, d)), rng.standard_normal((b, h, lk, d)), rng.standard_normal((b, h, lk, d))
    pad = padding_mask(lengths_for(b, lk, rng), lk) if kind in ("padding", "both") else None
    causal = kind in ("causal", "both")
    out, cache = scaled_dot_product_attention(q, k, v, pad, is_causal=causal)
    dout = rng.standard_normal(out.shape)
    grads = scaled_dot_product_attention_backward(dout, cache)
    tmask = combine_masks(pad, causal_mask(lq, lk) if causal else None)
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    ot = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=None if tmask is None else torch.tensor(tmask))
    ot.backward(torch.tensor(dout))
    return {"output": err(out, ot.detach().numpy()),
            "input_grads": max(err(g, t.grad.numpy()) for g, t in zip(grads, (qt, kt, vt))),
            "param_grads": None}     # the function has no parameters


def torch_module_masks(kind, b, lq, lk, rng):
    kpm = None
    if kind in ("padding", "both"):
        kpm = np.arange(lk)[None, :] >= lengths_for(b, lk, rng)[:, None]   # True = padding
    am = ~causal_mask(lq, lk) if kind in ("causal", "both") else None      # True = not allowed
    return kpm, am


def param_errors(ours, ref) -> float:
    mine = {name: m.grads[k] for name, m, k in ours.named_parameters()}
    return max(err(mine[name], p.grad.numpy()) for name, p in ref.named_parameters())


def randomize(ref: torch.nn.Module) -> None:
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(0.3 * torch.randn_like(p))


def mha_case(kind, b, h, lq, lk, e, rng) -> dict:
    e = e - e % h or h
    ref = torch.nn.MultiheadAttention(e, h, batch_first=True, dtype=torch.float64)
    randomize(ref)
    ours = MultiheadAttention(e, h, batch_first=True, dtype=np.float64)
    ours.load_state_dict(ref.state_dict())
    q, k, v = rng.standard_normal((b, lq, e)), rng.standard_normal((b, lk, e)), rng.standard_normal((b, lk, e))
    kpm, am = torch_module_masks(kind, b, lq, lk, rng)
    y = ours.forward(q, k, v, kpm, am)
    dy = rng.standard_normal(y.shape)
    grads = ours.backward(dy)
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    yt, wt = ref(*ts, key_padding_mask=None if kpm is None else torch.tensor(kpm),
                 attn_mask=None if am is None else torch.tensor(am))
    yt.backward(torch.tensor(dy))
    return {"output": max(err(y, yt.detach().numpy()), err(ours.attn_weights.mean(1), wt.detach().numpy())),
            "input_grads": max(err(g, t.grad.numpy()) for g, t in zip(grads, ts)),
            "param_grads": param_errors(ours, ref)}


def block_case(kind, b, h, lq, lk, e, rng) -> dict:
    e = e - e % h or h
    ref = torch.nn.TransformerEncoderLayer(e, h, 2 * e + 1, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True, dtype=torch.float64)
    randomize(ref)
    ours = TransformerBlock(e, h, 2 * e + 1, batch_first=True, dtype=np.float64)
    ours.load_state_dict(ref.state_dict())
    x = rng.standard_normal((b, lq, e))
    kpm, am = torch_module_masks(kind, b, lq, lq, rng)
    y = ours.forward(x, kpm, am)
    dy = rng.standard_normal(y.shape)
    dx = ours.backward(dy)
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt, src_mask=None if am is None else torch.tensor(am),
             src_key_padding_mask=None if kpm is None else torch.tensor(kpm))
    yt.backward(torch.tensor(dy))
    return {"output": err(y, yt.detach().numpy()), "input_grads": err(dx, xt.grad.numpy()),
            "param_grads": param_errors(ours, ref)}


LEVELS = {"sdpa": sdpa_case, "multihead": mha_case, "block": block_case}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, default=Path(__file__).resolve().parent / "results" / "attention_parity")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rows = []
    for level, fn in LEVELS.items():
        for shape in SHAPES:
            b, h, lq, lk, e = shape
            if level == "block":
                lk = lq
            for kind in KINDS:
                errors = fn(kind, b, h, lq, lk, e, rng)
                rows.append({"level": level, "batch": b, "heads": h, "lq": lq, "lk": lk, "embed": e,
                             "mask": kind, **errors,
                             "ok": max(v for v in errors.values() if v is not None) <= BAR})
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    worst = max(max(r["output"], r["input_grads"], r["param_grads"] or 0.0) for r in rows)
    lines = ["# Attention parity: dlcc.scratch (NumPy) vs torch, float64", "",
             f"Command: `python benchmarks/bench_attention_parity.py`. Bar (issue 18): every max absolute "
             f"error <= {BAR:g}. Cases: {len(rows)}; worst error {worst:.2e}; all within the bar: "
             f"{all(r['ok'] for r in rows)}. CPU time {cpu_s:.1f} s (user + system), wall {wall_s:.1f} s "
             "(shared machine).", "",
             "| level | B | H | Lq | Lk | E | mask | output | input grads | param grads | ok |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['level']} | {r['batch']} | {r['heads']} | {r['lq']} | {r['lk']} | {r['embed']} | "
                     f"{r['mask']} | {r['output']:.1e} | {r['input_grads']:.1e} | "
                     f"{'-' if r['param_grads'] is None else format(r['param_grads'], '.1e')} | "
                     f"{'yes' if r['ok'] else 'NO'} |")
    lines += ["", "Levels: sdpa = scaled_dot_product_attention vs F.scaled_dot_product_attention (per-head "
              "dim E // H; grads of q, k, v); multihead = MultiheadAttention vs nn.MultiheadAttention "
              "(E rounded down to a multiple of H; output includes the head-averaged weights; grads of "
              "query, key, value and every parameter); block = TransformerBlock vs "
              "nn.TransformerEncoderLayer(norm_first=True, activation='gelu'), self-attention (Lk = Lq).",
              "Causal masks with Lq != Lk are aligned at the top left, as torch's is_causal."]
    report(lines, args.save, {"bar": BAR, "worst": worst, "all_ok": all(r["ok"] for r in rows),
                              "cpu_s": cpu_s, "wall_s": wall_s, "rows": rows})
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
