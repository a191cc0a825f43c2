"""Transformers for sequences: a GPT-style character model and the course's ECGDetector.

Both are stacks of the same pre-LN `Block` (x + Attn(LN(x)), then x + MLP(LN(x))), with
learned positional embeddings and every Linear/Embedding weight drawn from N(0, 0.02), biases
zero, LayerNorm (1, 0) — the minGPT/nanoGPT recipe the course adapted.

- `GPT`: token ids `[B, T]` (int64) -> next-token logits `[B, T, vocab]`; causal attention,
  the output layer shares its weight with the token embedding (weight tying).
- `ECGDetector`: a transformer *encoder* tagger, signal `[B, T, C]` (float32) -> one logit
  per time step `[B, T]`; attention sees the whole window (the detection is retrospective)
  unless `causal=True`. `patch > 1` groups `patch` samples into one token (T/patch tokens),
  which makes attention over long windows affordable on a CPU; the head then emits `patch`
  logits per token so the output keeps full time resolution.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dlcc.errors import ConfigError, InputError


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention with separate key/query/value projections.

    Shapes: x `[B, T, n_embd]` -> `[B, T, n_embd]`. With `causal`, position t attends only to
    positions <= t. Uses `F.scaled_dot_product_attention`, which picks a fused kernel.
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, causal: bool = False,
                 bias: bool = True):
        super().__init__()
        if n_embd % n_head:
            raise ConfigError(f"n_embd={n_embd} is not divisible by n_head={n_head}",
                              fix="choose n_embd as a multiple of n_head, e.g. n_embd=128 n_head=4")
        self.n_head, self.causal, self.dropout = n_head, causal, dropout
        self.key = nn.Linear(n_embd, n_embd, bias=bias)
        self.query = nn.Linear(n_embd, n_embd, bias=bias)
        self.value = nn.Linear(n_embd, n_embd, bias=bias)
        self.proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        h = self.n_head

        def heads(t: torch.Tensor) -> torch.Tensor:   # [B, T, D] -> [B, h, T, D/h]
            return t.view(B, T, h, D // h).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(B, T, D)
        return self.resid_drop(self.proj(y))


class MLP(nn.Module):
    """Linear(n, 4n) -> GELU -> Linear(4n, n) -> Dropout. Shapes: `[B, T, n]` -> `[B, T, n]`."""

    def __init__(self, n_embd: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    """Pre-LN transformer block: x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, causal: bool = False,
                 bias: bool = True):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = SelfAttention(n_embd, n_head, dropout, causal, bias)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd, dropout, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


def run_block(block: nn.Module, x: torch.Tensor, checkpoint: bool) -> torch.Tensor:
    """`block(x)`, or with `checkpoint` the same through torch.utils.checkpoint (activations
    recomputed in backward; the random state is replayed, so dropout masks match)."""
    if checkpoint and torch.is_grad_enabled():
        from torch.utils.checkpoint import checkpoint as recompute

        return recompute(block, x, use_reentrant=False)
    return block(x)


def init_gpt_weights(module: nn.Module) -> None:
    """N(0, 0.02) for Linear and Embedding weights, zero biases, LayerNorm weight 1 bias 0."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class GPT(nn.Module):
    """A GPT-style decoder for next-token prediction.

    Args:
        vocab_size: number of tokens (characters).
        block_size: longest context; the positional table has this many rows.
        n_layer, n_head, n_embd: depth, attention heads, width.
        dropout: dropout on embeddings, attention weights and residual branches.
        bias: biases in Linear layers (LayerNorm always has them).
        checkpointing: in training, keep only each block's input and recompute its inside
            during backward (gradient checkpointing: less memory for about a third more time).

    Shapes: idx `[B, T]` int64 with T <= block_size -> logits `[B, T, vocab_size]` float32.
    `lm_head.weight` *is* `tok_emb.weight` (tied), so the model has one V x n_embd matrix.
    """

    recurrent = False

    def __init__(self, vocab_size: int, block_size: int = 64, n_layer: int = 4, n_head: int = 4,
                 n_embd: int = 128, dropout: float = 0.0, bias: bool = True, checkpointing: bool = False):
        super().__init__()
        self.vocab_size, self.block_size, self.checkpointing = vocab_size, block_size, checkpointing
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, dropout, causal=True, bias=bias)
                                    for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight      # weight tying
        self.apply(init_gpt_weights)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        if idx.dim() != 2:
            raise InputError(f"GPT expects token ids [B, T]; got shape {tuple(idx.shape)}")
        T = idx.shape[1]
        if T > self.block_size:
            raise InputError(f"sequence length {T} exceeds the model's block_size {self.block_size}",
                             fix="crop the context to the last block_size tokens")
        pos = torch.arange(T, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for block in self.blocks:
            x = run_block(block, x, self.checkpointing and self.training)
        return self.lm_head(self.ln_f(x))

    def shard_units(self) -> list[nn.Module]:
        """The units FSDP gathers one at a time (train/sharding.py): each transformer block; the
        embeddings, final norm and the tied head stay together in the root unit."""
        return list(self.blocks)

    def num_params(self) -> int:
        """Parameter count; the tied matrix is counted once."""
        return sum(p.numel() for p in self.parameters())


class ECGDetector(nn.Module):
    """Transformer encoder tagger: per-time-step trigger logits for a multi-lead signal.

    Args:
        in_channels: number of leads C.
        max_len: longest window in samples (the positional table covers max_len/patch tokens).
        n_layer, n_head, n_embd, dropout: as in `GPT` (course defaults 8, 8, 256, 0.1).
        causal: mask attention so a token sees only past tokens (for real-time triggering;
            with patch > 1 a token still sees the samples inside its own patch).
        patch: samples per token; the input is zero-padded at the end to a multiple of it.

    Shapes: x `[B, T, C]` float32 with T <= max_len -> logits `[B, T]` float32 (apply a
    sigmoid for probabilities). With `patch=1` this is the course's model layer for layer
    (input Linear, learned positions, blocks, final LayerNorm, bias-free Linear head).
    """

    def __init__(self, in_channels: int = 2, max_len: int = 1024, n_layer: int = 8,
                 n_head: int = 8, n_embd: int = 256, dropout: float = 0.1, causal: bool = False,
                 patch: int = 1):
        super().__init__()
        if patch < 1:
            raise ConfigError(f"patch must be >= 1; got {patch}", fix="use patch=1 (one token per sample)")
        self.in_channels, self.max_len, self.patch = in_channels, max_len, patch
        n_tokens = math.ceil(max_len / patch)
        self.embed = nn.Linear(in_channels * patch, n_embd)
        self.pos_emb = nn.Parameter(torch.zeros(1, n_tokens, n_embd))
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, dropout, causal=causal)
                                    for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, patch, bias=False)
        self.apply(init_gpt_weights)
        nn.init.normal_(self.pos_emb, mean=0.0, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[2] != self.in_channels:
            raise InputError(f"ECGDetector expects a signal [B, T, {self.in_channels}]; "
                             f"got shape {tuple(x.shape)}",
                             fix="pass leads last, e.g. x.transpose(1, 2) for [B, C, T] input")
        B, T, C = x.shape
        if T > self.max_len:
            raise InputError(f"window of {T} samples exceeds the model's max_len {self.max_len}",
                             fix="cut the signal into windows (dlcc.signals.predict_probs does this)")
        pad = (-T) % self.patch
        if pad:
            x = F.pad(x, (0, 0, 0, pad))
        n = x.shape[1] // self.patch
        tokens = self.embed(x.reshape(B, n, self.patch * C))       # [B, n, n_embd]
        h = self.drop(tokens + self.pos_emb[:, :n])
        for block in self.blocks:
            h = block(h)
        logits = self.head(self.ln_f(h)).reshape(B, n * self.patch)  # patch logits per token
        return logits[:, :T]


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW parameter groups the minGPT way: decay matrices and embeddings (dim >= 2), never
    biases, LayerNorm weights or other vectors (decaying a LayerNorm gain towards 0 only hurts)."""
    params = [p for p in model.parameters() if p.requires_grad]
    seen: set[int] = set()
    decay, no_decay = [], []
    for p in params:
        if id(p) in seen:      # tied weights appear once
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]
