"""A pre-LN transformer block (the GPT-2 / ViT layout), forward and backward.

    h = x + dropout1(self_attn(norm1(x)))                    attention sub-layer
    y = h + dropout2(linear2(dropout(gelu(linear1(norm2(h))))))   position-wise MLP

Normalising *before* each sub-layer keeps the residual path x -> y an identity plus
corrections, so gradients reach early blocks undamped and deep stacks train without the
learning-rate warm-up the post-LN original needed. A final LayerNorm after the last block is
the model's job, not the block's.

Parameter names equal those of torch.nn.TransformerEncoderLayer(d_model, nhead,
dim_feedforward, activation="gelu", norm_first=True), so its state_dict loads directly:
self_attn.in_proj_weight, self_attn.out_proj.weight, linear1.weight, linear2.weight,
norm1.weight, norm2.weight and the biases.
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import ConfigError
from dlcc.scratch.base import Module
from dlcc.scratch.layers._util import as_rng, cached
from dlcc.scratch.layers.activations import GELU, ReLU
from dlcc.scratch.layers.dropout import Dropout
from dlcc.scratch.layers.linear import Linear
from dlcc.scratch.layers.multihead import MultiheadAttention
from dlcc.scratch.layers.norm import LayerNorm

_NAMES = ("self_attn", "linear1", "activation", "dropout", "linear2", "norm1", "norm2",
          "dropout1", "dropout2")


class TransformerBlock(Module):
    """Pre-LN encoder block. Shapes: x (L, B, E), or (B, L, E) with batch_first=True -> same.

    forward(x, key_padding_mask=None, attn_mask=None, is_causal=False): masks as in
    `MultiheadAttention` (torch's conventions); is_causal=True makes it a decoder block.
    backward(dy) -> dx. `self_attn.attn_weights` holds the last forward's weights (B, H, L, L).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.0,
                 activation: str = "gelu", batch_first: bool = False, layer_norm_eps: float = 1e-5,
                 *, rng: np.random.Generator | int | None = None, dtype=np.float32) -> None:
        super().__init__()
        if activation not in ("gelu", "relu"):
            raise ConfigError(f"TransformerBlock: activation must be 'gelu' or 'relu', got {activation!r}")
        rng = as_rng(rng)
        self.batch_first = bool(batch_first)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, batch_first=batch_first,
                                            rng=rng, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, rng=rng, dtype=dtype)
        self.activation = GELU() if activation == "gelu" else ReLU()
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, rng=rng, dtype=dtype)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self.children = [getattr(self, name) for name in _NAMES]
        self._ready = None

    def child_name(self, index: int) -> str:
        return _NAMES[index]

    def _mlp(self, x: np.ndarray) -> np.ndarray:
        return self.linear2.forward(self.dropout.forward(self.activation.forward(self.linear1.forward(x))))

    def _mlp_backward(self, dy: np.ndarray) -> np.ndarray:
        dy = self.linear2.backward(dy)
        return self.linear1.backward(self.activation.backward(self.dropout.backward(dy)))

    def forward(self, x: np.ndarray, key_padding_mask=None, attn_mask=None,
                is_causal: bool = False) -> np.ndarray:
        a = self.norm1.forward(x)
        h = x + self.dropout1.forward(self.self_attn.forward(a, None, None, key_padding_mask,
                                                              attn_mask, is_causal))
        y = h + self.dropout2.forward(self._mlp(self.norm2.forward(h)))
        self._ready = True
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cached(repr(self), self._ready)
        # y = h + f(h): dh = dy + f'(h)^T dy; likewise for x -> h. The residuals add the identity.
        dh = dy + self.norm2.backward(self._mlp_backward(self.dropout2.backward(dy)))
        dx = dh + self.norm1.backward(self.self_attn.backward(self.dropout1.backward(dh)))
        return dx

    def __repr__(self) -> str:
        return (f"TransformerBlock(d_model={self.self_attn.embed_dim}, nhead={self.self_attn.num_heads}, "
                f"dim_feedforward={self.linear1.out_features}, batch_first={self.batch_first})")
