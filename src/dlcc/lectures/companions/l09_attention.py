"""Lecture 9 companion: attention and transformers.

1. Scaled dot-product attention written out in NumPy, checked against dlcc's SelfAttention.
2. Why divide by sqrt(d): without it, softmax rows collapse onto one key as d grows.
3. Attention maps: a one-block transformer encoder learns to reverse a sequence; its attention
   is the anti-diagonal. A causal (GPT) block's map is lower-triangular.
4. Sinusoidal positional encodings and how similar two positions look.
5. Sizes: Q, K, V and the attention matrix for T = 1000, D = 256; the course's ECGDetector;
   ViT's patch tokens.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from dlcc.lectures.plotting import new_figure
from dlcc.models.summary import count_params
from dlcc.models.transformer import Block, ECGDetector, SelfAttention


def attention_maps(block: Block, x: torch.Tensor) -> torch.Tensor:
    """The attention weights inside `block` for input x `[B, T, D]`: `[B, heads, T, T]`,
    recomputed from the block's own query and key projections."""
    attn = block.attn
    B, T, D = x.shape
    h = block.ln1(x)
    q = attn.query(h).view(B, T, attn.n_head, -1).transpose(1, 2)
    k = attn.key(h).view(B, T, attn.n_head, -1).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if attn.causal:
        scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    return scores.softmax(-1)


def _by_hand(c):
    c.section("1. Attention by hand: softmax(Q K^T / sqrt(d)) V, against dlcc's SelfAttention")
    torch.manual_seed(0)
    layer = SelfAttention(n_embd=16, n_head=2)
    x = torch.randn(1, 6, 16)
    w = {n: p.detach().numpy().astype(np.float64) for n, p in layer.named_parameters()}
    xn = x[0].numpy().astype(np.float64)
    q = xn @ w["query.weight"].T + w["query.bias"]           # [T, D]
    k = xn @ w["key.weight"].T + w["key.bias"]
    v = xn @ w["value.weight"].T + w["value.bias"]
    heads = []
    for hd in range(2):                                      # two heads of 8 dimensions each
        sl = slice(8 * hd, 8 * hd + 8)
        scores = q[:, sl] @ k[:, sl].T / math.sqrt(8)
        weights = np.exp(scores - scores.max(1, keepdims=True))
        weights /= weights.sum(1, keepdims=True)
        heads.append(weights @ v[:, sl])
    out = np.concatenate(heads, 1) @ w["proj.weight"].T + w["proj.bias"]
    with torch.no_grad():
        ref = layer(x)[0].numpy()
    c.say(f"x [T=6, D=16] -> Q, K, V [6, 16] -> 2 heads of [6, 8] -> scores [6, 6] per head -> out {out.shape}")
    c.number("attention_by_hand_diff", np.abs(out - ref).max(), "max |by hand - SelfAttention| (float32 reference)", ".1e")


def _scaling(c):
    c.section("2. Why divide by sqrt(d): entropy of the attention weights for random q, k")
    rng = np.random.default_rng(0)
    dims = [4, 16, 64, 256, 1024]
    rows, ent_raw, ent_scaled = [], [], []
    for d in dims:
        q, k = rng.normal(size=(200, d)), rng.normal(size=(32, d))
        for scale, store in ((1.0, ent_raw), (1 / math.sqrt(d), ent_scaled)):
            s = q @ k.T * scale
            p = np.exp(s - s.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            store.append(float(np.mean(-(p * np.log(p + 1e-300)).sum(1))))
        rows.append([d, float(np.std(q @ k.T)), ent_raw[-1], ent_scaled[-1]])
    c.table(["d", "std of q.k", "entropy, raw scores", "entropy, scores / sqrt(d)"], rows, ".3g")
    c.number("entropy_raw_d1024", ent_raw[-1], "entropy of raw-score attention at d = 1024 (0 = one-hot)", ".3g")
    c.number("entropy_scaled_d1024", ent_scaled[-1], f"entropy with scaling (uniform over 32 keys: {math.log(32):.3g})", ".3g")
    fig, ax = new_figure(size=(6.2, 3.5))
    ax.semilogx(dims, ent_raw, "o-", label="softmax(q·k)")
    ax.semilogx(dims, ent_scaled, "s-", label="softmax(q·k / √d)")
    ax.axhline(math.log(32), color="0.5", ls=":", label="uniform over 32 keys")
    ax.set_xlabel("dimension d of queries and keys")
    ax.set_ylabel("entropy of attention weights (nats)")
    ax.legend(fontsize=8)
    c.figure("scaling", fig, "For random queries and keys, q·k has standard deviation √d. Unscaled, "
             "the softmax saturates as d grows (entropy near 0: all weight on one key, gradients "
             "vanish); dividing by √d keeps it spread.")


class _Reverser(nn.Module):
    """Token + learned position embeddings -> one non-causal Block -> LayerNorm -> logits."""

    def __init__(self, vocab: int, length: int, d: int = 32):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(length, d)
        self.block = Block(d, n_head=1)
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

    def embed(self, idx):
        return self.tok(idx) + self.pos(torch.arange(idx.shape[1]))

    def forward(self, idx):
        return self.head(self.ln(self.block(self.embed(idx))))


def _attention_maps(c):
    c.section("3. Attention maps: learning to reverse a sequence of 8 tokens (one block, one head)")
    torch.manual_seed(0)
    vocab, length = 10, 8
    model = _Reverser(vocab, length)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(c.steps(600, 1500)):
        x = torch.randint(0, vocab, (64, length), generator=gen)
        loss = nn.functional.cross_entropy(model(x).reshape(-1, vocab), x.flip(1).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x = torch.randint(0, vocab, (256, length), generator=gen)
    with torch.no_grad():
        acc = (model(x).argmax(-1) == x.flip(1)).float().mean().item()
        maps = attention_maps(model.block, model.embed(x)).mean(0)[0].numpy()
    anti = float(np.mean([maps[i, length - 1 - i] for i in range(length)]))
    c.number("reverse_accuracy", acc, "token accuracy on new sequences", ".3f")
    c.number("anti_diagonal_weight", anti, "mean attention weight on the mirrored position", ".3f")
    torch.manual_seed(1)
    causal = Block(32, n_head=1, causal=True)
    with torch.no_grad():
        cmap = attention_maps(causal, torch.randn(1, length, 32))[0, 0].numpy()
    c.number("causal_weight_above_diagonal", cmap[np.triu_indices(length, 1)].sum(), "attention on future positions, causal block", ".1e")
    fig, (a1, a2) = new_figure(1, 2, size=(8.5, 3.8))
    for ax, m, title in ((a1, maps, f"trained reverser (accuracy {acc:.2f})"), (a2, cmap, "causal block, untrained")):
        im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1)
        ax.set_xlabel("key position (attended to)")
        ax.set_ylabel("query position")
        ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=[a1, a2], shrink=0.8)
    c.figure("attention_maps", fig, "Left: averaged attention weights of a transformer block trained "
             "to reverse its input. Output position i looks at input position 7 − i. Right: a causal "
             "block can only look at the present and the past (zero above the diagonal).")


def _positions(c):
    c.section("4. Sinusoidal positional encodings: PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(...)")
    T, d = 64, 64
    t = np.arange(T)[:, None]
    freq = 1.0 / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2], pe[:, 1::2] = np.sin(t * freq), np.cos(t * freq)
    sim = pe @ pe.T / (d / 2)
    c.number("pe_self_similarity", sim[10, 10], "similarity of a position with itself", ".3g")
    c.number("pe_similarity_10_11", sim[10, 11], "similarity of positions 10 and 11", ".3g")
    c.number("pe_similarity_10_40", sim[10, 40], "similarity of positions 10 and 40", ".3g")
    fig, (a1, a2) = new_figure(1, 2, size=(9, 3.6))
    a1.imshow(pe, aspect="auto", cmap="RdBu_r")
    a1.set_xlabel("dimension")
    a1.set_ylabel("position t")
    a1.set_title("encodings", fontsize=9)
    a2.imshow(sim, cmap="viridis")
    a2.set_xlabel("position")
    a2.set_ylabel("position")
    a2.set_title("dot products between positions", fontsize=9)
    c.figure("positional_encoding", fig, "Left: each position gets a vector of sines and cosines at "
             "geometrically spaced frequencies. Right: nearby positions have similar vectors, so "
             "attention can tell near from far.")


def _sizes(c):
    c.section("5. Sizes and parameters")
    T, D = 1000, 256
    c.table(["tensor", "shape", "entries"], [
        ["X", f"[{T}, {D}]", T * D], ["Wq, Wk, Wv", f"[{D}, {D}] each", D * D],
        ["Q, K, V", f"[{T}, {D}] each", T * D], ["Q K^T (attention weights)", f"[{T}, {T}]", T * T],
        ["Y = softmax(.) V", f"[{T}, {D}]", T * D]])
    c.say("the weights do not depend on T: the same layer runs on any length (up to the positional table)")
    det = ECGDetector(in_channels=4, max_len=1024, n_layer=8, n_head=8, n_embd=256)
    c.number("ecg_detector_params", count_params(det), "the course's ECGDetector (4 leads, 8 layers, 8 heads, 256 wide)", ".0f")
    c.number("vit_tokens", (224 // 16) ** 2, "ViT tokens for a 224x224 image in 16x16 patches", ".0f")


def run(c) -> None:
    _by_hand(c)
    _scaling(c)
    _attention_maps(c)
    _positions(c)
    _sizes(c)
