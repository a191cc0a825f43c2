"""Recurrent layers: RNN (tanh/relu), LSTM and GRU, with backpropagation through time.

Names, shapes and parameter layouts are PyTorch's, so `load_state_dict(torch_rnn.state_dict())`
copies a torch module in:

    weight_ih_l{k}: (G*H, I) for layer 0, (G*H, H) above     G = 1 (RNN), 4 (LSTM), 3 (GRU)
    weight_hh_l{k}: (G*H, H)
    bias_ih_l{k}, bias_hh_l{k}: (G*H,)

Gate blocks are stacked in torch's order: i, f, g, o for the LSTM and r, z, n for the GRU.

Shapes (T = sequence length, B = batch, I = input size, H = hidden size, L = layers):

    x:       (T, B, I), or (B, T, I) with batch_first=True, or (T, I) unbatched
    h0, h_n: (L, B, H), or (L, H) unbatched (batch_first never applies to states)
    output:  same layout as x with I replaced by H (the top layer's hidden states)

    output, h_n = rnn.forward(x, h0=None)               # RNN and GRU
    output, (h_n, c_n) = lstm.forward(x, (h0, c0))      # LSTM

`backward` returns one gradient per forward input: `dx` when forward got only `x`, or
`(dx, dh0)` (LSTM: `(dx, (dh0, dc0))`) when forward also got the initial state. The optional
second argument is the gradient with respect to the final state, `d_h_n` (LSTM: `(d_h_n, d_c_n)`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit as _sigmoid  # no overflow warnings; keeps float32 as float32

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import Module, check_array


class _Recurrent(Module):
    """Shared machinery: parameters, input checks, layer stacking, inter-layer dropout and the
    weight gradients. Subclasses implement one layer's time loop in `_scan` / `_scan_back`."""

    num_gates = 1
    has_cell = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0,
                 rng: np.random.Generator | None = None, dtype=np.float32) -> None:
        super().__init__()
        name = type(self).__name__
        for label, value in (("input_size", input_size), ("hidden_size", hidden_size),
                             ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name}: {label} must be a positive integer, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"{name}: dropout must be in [0, 1), got {dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.rng = rng if rng is not None else np.random.default_rng()
        # torch initialises every weight and bias from U(-1/sqrt(H), 1/sqrt(H)).
        bound = 1.0 / np.sqrt(hidden_size)
        gh = self.num_gates * hidden_size
        for k in range(num_layers):
            fan_in = input_size if k == 0 else hidden_size
            shapes = {f"weight_ih_l{k}": (gh, fan_in), f"weight_hh_l{k}": (gh, hidden_size)}
            if bias:
                shapes.update({f"bias_ih_l{k}": (gh,), f"bias_hh_l{k}": (gh,)})
            for key, shape in shapes.items():
                self.params[key] = self.rng.uniform(-bound, bound, shape).astype(dtype)
        self._caches: list = []

    # --- description --------------------------------------------------------------------
    def _desc(self) -> str:
        return f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size})"

    def __repr__(self) -> str:
        act = getattr(self, "nonlinearity", "tanh")
        extra = "".join([f", num_layers={self.num_layers}" if self.num_layers > 1 else "",
                         ", bias=False" if not self.bias else "",
                         ", batch_first=True" if self.batch_first else "",
                         f", dropout={self.dropout}" if self.dropout else "",
                         f", nonlinearity='{act}'" if act != "tanh" else ""])
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}{extra})"

    def _layer_params(self, k: int):
        p = self.params
        return (p[f"weight_ih_l{k}"], p[f"weight_hh_l{k}"],
                p.get(f"bias_ih_l{k}"), p.get(f"bias_hh_l{k}"))

    # --- forward --------------------------------------------------------------------------
    def forward(self, x: np.ndarray, hx=None):
        """Run the whole sequence. Returns (output, h_n), or (output, (h_n, c_n)) for the LSTM."""
        desc = self._desc()
        x = check_array(desc, x, ndim=(2, 3), last_dim=self.input_size)
        dtype = self.params["weight_ih_l0"].dtype
        self._unbatched = x.ndim == 2
        if self._unbatched:
            x = x[:, None, :]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise InputError(f"{desc}: input has shape {x.shape} (time, batch, features); "
                             "sequence length and batch size must be at least 1")
        x = np.ascontiguousarray(x, dtype=dtype)
        batch = x.shape[1]
        self._given_state = hx is not None
        h0, c0 = self._initial_state(hx, batch, dtype)

        layer_in, h_n, c_n = x, [], []
        self._caches = []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer_params(k)
            gi = layer_in @ w_ih.T
            if b_ih is not None:
                gi += b_ih
            state0 = (h0[k], c0[k]) if self.has_cell else h0[k]
            out, state_last, scan_cache = self._scan(gi, state0, w_hh, b_hh)
            if self.has_cell:
                h_n.append(state_last[0])
                c_n.append(state_last[1])
            else:
                h_n.append(state_last)
            mask = None
            if self.dropout and self.training and k < self.num_layers - 1:
                keep = 1.0 - self.dropout
                mask = (self.rng.random(out.shape) < keep).astype(dtype) / keep
                out = out * mask
            self._caches.append((layer_in, h0[k], scan_cache, mask))
            layer_in = out

        output = self._to_user_layout(layer_in)
        h_n = np.stack(h_n)
        if self._unbatched:
            h_n = h_n[:, 0]
        if not self.has_cell:
            return output, h_n
        c_n = np.stack(c_n)
        if self._unbatched:
            c_n = c_n[:, 0]
        return output, (h_n, c_n)

    def _to_user_layout(self, seq: np.ndarray) -> np.ndarray:
        if self._unbatched:
            return seq[:, 0]
        return seq.transpose(1, 0, 2) if self.batch_first else seq

    def _from_user_layout(self, seq: np.ndarray) -> np.ndarray:
        if self._unbatched:
            return seq[:, None, :]
        return seq.transpose(1, 0, 2) if self.batch_first else seq

    def _check_state(self, state, name: str, batch: int, dtype) -> np.ndarray:
        expected = (self.num_layers, self.hidden_size) if self._unbatched else \
            (self.num_layers, batch, self.hidden_size)
        state = check_array(self._desc(), state, name=name)
        if state.shape != expected:
            raise InputError(f"{self._desc()}: {name} has shape {state.shape}, expected {expected} "
                             "(num_layers, batch, hidden_size); batch_first does not apply to states")
        state = state.astype(dtype, copy=False)
        return state[:, None, :] if self._unbatched else state

    def _initial_state(self, hx, batch: int, dtype):
        zeros = np.zeros((self.num_layers, batch, self.hidden_size), dtype=dtype)
        if hx is None:
            return zeros, (zeros if self.has_cell else None)
        if self.has_cell:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise InputError(f"{self._desc()}: the initial state must be a tuple (h0, c0), "
                                 f"got {type(hx).__name__}")
            return (self._check_state(hx[0], "h0", batch, dtype),
                    self._check_state(hx[1], "c0", batch, dtype))
        return self._check_state(hx, "h0", batch, dtype), None

    # --- backward -------------------------------------------------------------------------
    def backward(self, d_output: np.ndarray, d_h_n=None):
        """Backpropagate through time; fills `grads` for every parameter.

        Args:
            d_output: gradient of the loss w.r.t. `output`, same shape as `output`.
            d_h_n: optional gradient w.r.t. `h_n` (LSTM: a tuple `(d_h_n, d_c_n)`, either may be None).

        Returns:
            `dx`, or `(dx, dh0)` / `(dx, (dh0, dc0))` when forward was given an initial state.
        """
        if not self._caches:
            raise InputError(f"{self._desc()}: backward called before forward")
        desc = self._desc()
        layer_in0 = self._caches[0][0]
        steps, batch = layer_in0.shape[:2]
        dtype = layer_in0.dtype
        hs = self.hidden_size
        out_shape = ((steps, hs) if self._unbatched else
                     (batch, steps, hs) if self.batch_first else (steps, batch, hs))
        d_output = check_array(desc, d_output, name="d_output")
        if d_output.shape != out_shape:
            raise InputError(f"{desc}: d_output has shape {d_output.shape}, expected {out_shape} "
                             "(the shape of output)")
        grad = self._from_user_layout(d_output).astype(dtype, copy=False)
        d_h_last, d_c_last = self._final_state_grads(d_h_n, batch, dtype)

        d_h0 = np.zeros((self.num_layers, batch, self.hidden_size), dtype=dtype)
        d_c0 = np.zeros_like(d_h0) if self.has_cell else None
        for k in reversed(range(self.num_layers)):
            layer_in, h0_k, scan_cache, mask = self._caches[k]
            w_ih, w_hh, b_ih, b_hh = self._layer_params(k)
            if mask is not None:
                grad = grad * mask
            d_last = (d_h_last[k], d_c_last[k]) if self.has_cell else d_h_last[k]
            d_gi, d_gh, d_state0 = self._scan_back(grad, d_last, scan_cache, w_hh)
            if self.has_cell:
                d_h0[k], d_c0[k] = d_state0
            else:
                d_h0[k] = d_state0
            gh = d_gi.shape[-1]
            # Weight gradients for all time steps in one matmul each, not one per step.
            h_prev = np.concatenate([h0_k[None], scan_cache[0][:-1]], axis=0)
            self.grads[f"weight_ih_l{k}"] = d_gi.reshape(-1, gh).T @ layer_in.reshape(-1, layer_in.shape[-1])
            self.grads[f"weight_hh_l{k}"] = d_gh.reshape(-1, gh).T @ h_prev.reshape(-1, self.hidden_size)
            if b_ih is not None:
                self.grads[f"bias_ih_l{k}"] = d_gi.sum(axis=(0, 1))
                self.grads[f"bias_hh_l{k}"] = d_gh.sum(axis=(0, 1))
            grad = d_gi @ w_ih

        dx = self._to_user_layout(grad)
        if not self._given_state:
            return dx
        if self._unbatched:
            d_h0 = d_h0[:, 0]
            d_c0 = d_c0[:, 0] if d_c0 is not None else None
        return (dx, (d_h0, d_c0)) if self.has_cell else (dx, d_h0)

    def _final_state_grads(self, d_h_n, batch: int, dtype):
        zeros = np.zeros((self.num_layers, batch, self.hidden_size), dtype=dtype)
        if d_h_n is None:
            return zeros, zeros
        if self.has_cell:
            if not (isinstance(d_h_n, (tuple, list)) and len(d_h_n) == 2):
                raise InputError(f"{self._desc()}: d_h_n must be a tuple (d_h_n, d_c_n) for the LSTM")
            d_h, d_c = d_h_n
            return (zeros if d_h is None else self._check_state(d_h, "d_h_n", batch, dtype),
                    zeros if d_c is None else self._check_state(d_c, "d_c_n", batch, dtype))
        return self._check_state(d_h_n, "d_h_n", batch, dtype), zeros

    # --- one layer's time loop (subclasses) -----------------------------------------------
    def _scan(self, gi, state0, w_hh, b_hh):  # pragma: no cover - abstract
        """gi: (T, B, G*H) input projections incl. bias_ih. Returns (out (T, B, H), last state,
        cache); cache[0] must be `out`."""
        raise NotImplementedError

    def _scan_back(self, d_out, d_last, cache, w_hh):  # pragma: no cover - abstract
        """Returns (d_gi, d_gh, d_state0): gradients w.r.t. the input projections and the
        hidden projections (both (T, B, G*H)), and w.r.t. the initial state."""
        raise NotImplementedError


class RNN(_Recurrent):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu."""

    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, rng: np.random.Generator | None = None, dtype=np.float32):
        if nonlinearity not in ("tanh", "relu"):
            raise ConfigError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, rng, dtype)

    def _scan(self, gi, h, w_hh, b_hh):
        if b_hh is not None:
            gi = gi + b_hh
        out = np.empty(gi.shape[:2] + (self.hidden_size,), dtype=gi.dtype)
        w_hh_t = w_hh.T
        relu = self.nonlinearity == "relu"
        for t in range(gi.shape[0]):
            a = gi[t] + h @ w_hh_t
            h = np.maximum(a, 0, out=a) if relu else np.tanh(a, out=a)
            out[t] = h
        return out, h, (out,)

    def _scan_back(self, d_out, dh, cache, w_hh):
        (out,) = cache
        d_a = np.empty_like(out)
        relu = self.nonlinearity == "relu"
        for t in reversed(range(out.shape[0])):
            dh = dh + d_out[t]
            h = out[t]
            d_a[t] = dh * (h > 0) if relu else dh * (1.0 - h * h)
            dh = d_a[t] @ w_hh
        return d_a, d_a, dh


class LSTM(_Recurrent):
    """LSTM with torch's gate order (i, f, g, o):

        i, f, o = sigmoid(...), g = tanh(...),   c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
    """

    num_gates = 4
    has_cell = True

    def _scan(self, gi, state0, w_hh, b_hh):
        h, c = state0
        hs = self.hidden_size
        if b_hh is not None:
            gi = gi + b_hh
        steps = gi.shape[0]
        acts = np.empty_like(gi)                       # gate activations per step
        cs = np.empty(gi.shape[:2] + (hs,), dtype=gi.dtype)
        tanh_cs = np.empty_like(cs)
        out = np.empty_like(cs)
        w_hh_t = w_hh.T
        for t in range(steps):
            a = gi[t] + h @ w_hh_t
            act = _sigmoid(a)
            act[:, 2 * hs:3 * hs] = np.tanh(a[:, 2 * hs:3 * hs])
            i, f, g, o = act[:, :hs], act[:, hs:2 * hs], act[:, 2 * hs:3 * hs], act[:, 3 * hs:]
            c = f * c + i * g
            tc = np.tanh(c)
            h = o * tc
            acts[t], cs[t], tanh_cs[t], out[t] = act, c, tc, h
        return out, (h, c), (out, acts, cs, tanh_cs, state0[1])

    def _scan_back(self, d_out, d_last, cache, w_hh):
        out, acts, cs, tanh_cs, c0 = cache
        hs = self.hidden_size
        dh, dc = d_last
        d_a = np.empty_like(acts)
        for t in reversed(range(out.shape[0])):
            dh = dh + d_out[t]
            act = acts[t]
            i, f, g, o = act[:, :hs], act[:, hs:2 * hs], act[:, 2 * hs:3 * hs], act[:, 3 * hs:]
            tc = tanh_cs[t]
            c_prev = cs[t - 1] if t > 0 else c0
            dc = dc + dh * o * (1.0 - tc * tc)
            da = d_a[t]
            da[:, :hs] = dc * g * i * (1.0 - i)
            da[:, hs:2 * hs] = dc * c_prev * f * (1.0 - f)
            da[:, 2 * hs:3 * hs] = dc * i * (1.0 - g * g)
            da[:, 3 * hs:] = dh * tc * o * (1.0 - o)
            dc = dc * f
            dh = da @ w_hh
        return d_a, d_a, (dh, dc)


class GRU(_Recurrent):
    """GRU with torch's gate order (r, z, n) and torch's formula, where r multiplies the
    hidden projection *including* its bias:

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h
    """

    num_gates = 3

    def _scan(self, gi, h, w_hh, b_hh):
        hs = self.hidden_size
        steps = gi.shape[0]
        h0 = h
        out = np.empty(gi.shape[:2] + (hs,), dtype=gi.dtype)
        rz = np.empty(gi.shape[:2] + (2 * hs,), dtype=gi.dtype)
        ns = np.empty_like(out)
        ghn = np.empty_like(out)                       # W_hn h + b_hn, needed for dr
        w_hh_t = w_hh.T
        for t in range(steps):
            gh = h @ w_hh_t
            if b_hh is not None:
                gh += b_hh
            rz_t = _sigmoid(gi[t, :, :2 * hs] + gh[:, :2 * hs])
            r, z = rz_t[:, :hs], rz_t[:, hs:]
            n = np.tanh(gi[t, :, 2 * hs:] + r * gh[:, 2 * hs:])
            h = n + z * (h - n)
            out[t], rz[t], ns[t], ghn[t] = h, rz_t, n, gh[:, 2 * hs:]
        return out, h, (out, rz, ns, ghn, h0)

    def _scan_back(self, d_out, dh, cache, w_hh):
        out, rz, ns, ghn, h0 = cache
        hs = self.hidden_size
        d_gi = np.empty(out.shape[:2] + (3 * hs,), dtype=out.dtype)
        d_gh = np.empty_like(d_gi)
        for t in reversed(range(out.shape[0])):
            dh = dh + d_out[t]
            r, z, n = rz[t, :, :hs], rz[t, :, hs:], ns[t]
            h_prev = out[t - 1] if t > 0 else h0
            dn = dh * (1.0 - z) * (1.0 - n * n)           # through tanh
            dz = dh * (h_prev - n) * z * (1.0 - z)        # through sigmoid
            dr = dn * ghn[t] * r * (1.0 - r)
            d_gi[t, :, :hs], d_gi[t, :, hs:2 * hs], d_gi[t, :, 2 * hs:] = dr, dz, dn
            d_gh[t, :, :hs], d_gh[t, :, hs:2 * hs], d_gh[t, :, 2 * hs:] = dr, dz, dn * r
            dh = dh * z + d_gh[t] @ w_hh
        return d_gi, d_gh, dh
