"""Transformers for sequences: GPT- and BERT-style character models and the course's ECGDetector.

All three are stacks of the same pre-LN `Block` (x + Attn(LN(x)), then x + MLP(LN(x))), with
learned positional embeddings and every Linear/Embedding weight drawn from N(0, 0.02), biases
zero, LayerNorm (1, 0) — the minGPT/nanoGPT recipe the course adapted.

- `GPT`: token ids `[B, T]` (int64) -> next-token logits `[B, T, vocab]`; causal attention,
  the output layer shares its weight with the token embedding (weight tying). A `KVCache`
  makes sampling incremental (one new token per forward pass).
- `BERT`: the same network with attention in both directions, for masked-token prediction.
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


class LayerCache:
    """One attention layer's slice of a `KVCache`: buffers k, v `[B, h, capacity, D/h]`,
    `start`, the position of the first token of the current forward pass, and the layer's
    query/key/value projections stacked into one `[3D, D]` matrix (and bias), so that a
    decoding step, which is dominated by per-operation overhead, runs one product, not three.
    The stacked copy is taken when the cache is made: make a new cache after changing weights."""

    def __init__(self, attn: SelfAttention, k: torch.Tensor, v: torch.Tensor):
        self.k, self.v, self.start = k, v, 0
        self.weight = torch.cat([attn.query.weight, attn.key.weight, attn.value.weight]).detach()
        biases = [attn.query.bias, attn.key.bias, attn.value.bias]
        self.bias = None if biases[0] is None else torch.cat(biases).detach()

    def store(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write this pass's keys/values `[B, h, T, D/h]` at start..start+T-1; return all the
        keys/values so far, `[B, h, start + T, D/h]` (views, no copy)."""
        end = self.start + k.shape[2]
        self.k[:, :, self.start:end] = k
        self.v[:, :, self.start:end] = v
        return self.k[:, :, :end], self.v[:, :, :end]


class KVCache:
    """The keys and values a GPT has computed for the tokens it has read: incremental decoding.

    Without a cache, generating token t+1 re-reads all t tokens (O(t) work per layer for each
    of them, O(t^2) per token); with it, only the new token is run through the network and
    its query attends to the stored keys/values of the earlier ones. `GPT.forward(idx, cache)`
    reads idx `[B, T]` as positions `length .. length+T-1`, stores their keys/values and
    advances `length`; a prompt then one token at a time gives the same logits as one pass
    over the whole sequence (up to float rounding).

    Buffers are preallocated, one k and one v `[B, n_head, block_size, head_dim]` per layer
    (2 x n_layer x B x block_size x n_embd floats: 1 MiB for char-gpt at block 256), and
    written in place, so a cache is for inference (`torch.no_grad()`) only. It never holds
    more than `block_size` tokens: the learned positions stop there, and a token's key depends
    on its position and on everything before it, so a cache cannot slide; `clear()` and
    re-read a shorter context instead (what `dlcc.text.sample` does when the window is full).
    """

    def __init__(self, model: GPT, batch_size: int = 1):
        if not model.causal:
            raise ConfigError(f"{type(model).__name__} attends in both directions: every token sees the ones after "
                              "it, so there is nothing to cache while decoding", fix="use a KV cache with a GPT")
        weight = model.tok_emb.weight
        attn = model.blocks[0].attn
        shape = (batch_size, attn.n_head, model.block_size, attn.query.out_features // attn.n_head)
        self.layers = [LayerCache(block.attn, weight.new_zeros(shape), weight.new_zeros(shape))
                       for block in model.blocks]
        self.batch_size, self.capacity, self.length = batch_size, model.block_size, 0

    def __len__(self) -> int:
        return self.length

    def clear(self) -> None:
        """Forget every token (the buffers are reused)."""
        self.length = 0

    def advance(self, idx: torch.Tensor) -> int:
        """Make room for the tokens of `idx` `[B, T]`; returns the position of its first one."""
        B, T = idx.shape
        if B != self.batch_size:
            raise InputError(f"the KV cache was made for batch size {self.batch_size}; got {B} sequences",
                             fix=f"make a KVCache(model, batch_size={B})")
        if self.length + T > self.capacity:
            raise InputError(f"the KV cache holds {self.length} tokens; {T} more exceed the model's block_size "
                             f"{self.capacity}", fix="clear() the cache and read the last block_size tokens again")
        start = self.length
        for layer in self.layers:
            layer.start = start
        self.length += T
        return start


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention with separate key/query/value projections.

    Shapes: x `[B, T, n_embd]` -> `[B, T, n_embd]`. With `causal`, position t attends only to
    positions <= t. Uses `F.scaled_dot_product_attention`, which picks a fused kernel. With a
    `LayerCache`, x holds the tokens after the cached ones, and their keys/values are stored.
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

    def forward(self, x: torch.Tensor, cache: LayerCache | None = None) -> torch.Tensor:
        B, T, D = x.shape
        h = self.n_head

        def heads(t: torch.Tensor) -> torch.Tensor:   # [B, T, D] -> [B, h, T, D/h]
            return t.view(B, T, h, D // h).transpose(1, 2)

        causal, mask = self.causal, None
        if cache is None:
            q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        else:                                        # attend over the cached tokens and these
            q, k, v = map(heads, F.linear(x, cache.weight, cache.bias).split(D, dim=-1))
            start = cache.start
            k, v = cache.store(k, v)
            if start and causal:                     # query i sits at position start + i
                causal = False                       # one query (T = 1) may see every stored key
                if T > 1:
                    mask = torch.ones(T, start + T, dtype=torch.bool, device=x.device).tril(start)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
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

    def forward(self, x: torch.Tensor, cache: LayerCache | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), cache)
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
    causal = True         # BERT below is the same network reading in both directions

    def __init__(self, vocab_size: int, block_size: int = 64, n_layer: int = 4, n_head: int = 4,
                 n_embd: int = 128, dropout: float = 0.0, bias: bool = True, checkpointing: bool = False):
        super().__init__()
        self.vocab_size, self.block_size, self.checkpointing = vocab_size, block_size, checkpointing
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(n_embd, n_head, dropout, causal=self.causal, bias=bias)
                                    for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight      # weight tying
        self.apply(init_gpt_weights)

    def forward(self, idx: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Logits `[B, T, vocab]`; with a `KVCache`, idx holds only the tokens after the cached
        ones (e.g. `[B, 1]`, the newest) and the logits are for those positions."""
        if idx.dim() != 2:
            raise InputError(f"{type(self).__name__} expects token ids [B, T]; got shape {tuple(idx.shape)}")
        T = idx.shape[1]
        if T > self.block_size:
            raise InputError(f"sequence length {T} exceeds the model's block_size {self.block_size}",
                             fix="crop the context to the last block_size tokens")
        start = 0 if cache is None else cache.advance(idx)
        pos = torch.arange(start, start + T, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        if cache is None:
            for block in self.blocks:
                x = run_block(block, x, self.checkpointing and self.training)
        else:
            for block, layer in zip(self.blocks, cache.layers):
                x = block(x, layer)
        return self.lm_head(self.ln_f(x))

    def shard_units(self) -> list[nn.Module]:
        """The units FSDP gathers one at a time (train/sharding.py): each transformer block; the
        embeddings, final norm and the tied head stay together in the root unit."""
        return list(self.blocks)

    def num_params(self) -> int:
        """Parameter count; the tied matrix is counted once."""
        return sum(p.numel() for p in self.parameters())


class BERT(GPT):
    """A BERT-style masked-language-model encoder: the GPT above without the causal mask.

    Every position attends to every other one (before and after it), so the network cannot
    be asked for the next token; it is trained instead to restore the tokens hidden in its
    input (`dlcc.text.masking`): BERT's masked-LM objective, at the character level. The
    vocabulary's last id is the `[MASK]` token (`mask_id`), which the text never contains.
    The weights, their initialisation and the tied output layer are the GPT's, so the two
    models differ only in what attention may see and in what they are trained on.

    Shapes: idx `[B, T]` int64 with T <= block_size -> logits `[B, T, vocab_size]`: for each
    position, the scores of the token that belongs there.
    """

    causal = False

    def __init__(self, vocab_size: int, block_size: int = 64, n_layer: int = 4, n_head: int = 4,
                 n_embd: int = 128, dropout: float = 0.0, bias: bool = True, checkpointing: bool = False):
        super().__init__(vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias, checkpointing)
        self.mask_id = vocab_size - 1


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
