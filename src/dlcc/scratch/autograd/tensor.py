"""An n-d array autograd node with NumPy broadcasting.

    x = Tensor(np.eye(4, 3) - 0.5)
    A, B = Tensor(2 * np.eye(4)), Tensor(3 * np.eye(3))
    f = A @ x @ B + x.relu()
    f.backward(df)          # vector-Jacobian product with the upstream gradient df (same shape as f)
    x.grad                  # A^T df B^T + df * (x > 0)

The one rule that makes broadcasting work: when an input was broadcast in the forward pass, its
gradient is summed over the broadcast axes in the backward pass (`unbroadcast`).
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import InputError
from dlcc.scratch.autograd.value import topological_order


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` down to `shape`: over leading axes that broadcasting added, and over axes where
    `shape` has size 1 but `grad` does not."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def _axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axis)


class Tensor:
    """An array that remembers how it was computed.

    Attributes:
        data: the float array (integers are converted to float64).
        grad: d(root)/d(this), same shape as `data`, filled by `root.backward()`.
    """

    __array_priority__ = 100      # so `ndarray + Tensor` calls Tensor.__radd__

    def __init__(self, data, _parents: tuple = (), op: str = ""):
        data = np.asarray(data)
        if data.dtype.kind not in "f":
            data = data.astype(np.float64)
        self.data = data
        self.grad = np.zeros_like(data)
        self.op = op
        self._parents = _parents
        self._backward = lambda: None

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return float(self.data)

    def _make(self, data, parents: tuple, op: str, backward) -> Tensor:
        out = Tensor(data, parents, op)
        out._backward = lambda: backward(out.grad)
        return out

    # --- elementwise arithmetic with broadcasting ------------------------------------------
    def __add__(self, other) -> Tensor:
        other = _as_tensor(other)

        def backward(g):
            self.grad += unbroadcast(g, self.shape)
            other.grad += unbroadcast(g, other.shape)
        return self._make(self.data + other.data, (self, other), "+", backward)

    def __mul__(self, other) -> Tensor:
        other = _as_tensor(other)

        def backward(g):
            self.grad += unbroadcast(g * other.data, self.shape)
            other.grad += unbroadcast(g * self.data, other.shape)
        return self._make(self.data * other.data, (self, other), "*", backward)

    def __truediv__(self, other) -> Tensor:
        other = _as_tensor(other)

        def backward(g):
            self.grad += unbroadcast(g / other.data, self.shape)
            other.grad += unbroadcast(-g * self.data / other.data ** 2, other.shape)
        return self._make(self.data / other.data, (self, other), "/", backward)

    def __pow__(self, k) -> Tensor:
        if isinstance(k, Tensor):
            raise InputError("Tensor ** Tensor is not supported; the exponent must be a number",
                             fix="use (y * x.log()).exp() for a variable exponent")
        k = float(k)

        def backward(g):
            self.grad += g * k * self.data ** (k - 1)
        return self._make(self.data ** k, (self,), f"**{k:g}", backward)

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other) -> Tensor:
        return self + (-_as_tensor(other))

    def __radd__(self, other) -> Tensor:
        return _as_tensor(other) + self

    def __rmul__(self, other) -> Tensor:
        return _as_tensor(other) * self

    def __rsub__(self, other) -> Tensor:
        return _as_tensor(other) - self

    def __rtruediv__(self, other) -> Tensor:
        return _as_tensor(other) / self

    # --- matrix product ---------------------------------------------------------------------
    def __matmul__(self, other) -> Tensor:
        other = _as_tensor(other)
        a, b = self.data, other.data
        if a.ndim == 0 or b.ndim == 0:
            raise InputError(f"Tensor @: operands must be at least 1-D, got shapes {a.shape} and {b.shape}")
        try:
            out = a @ b
        except ValueError as err:
            raise InputError(f"Tensor @: shapes {a.shape} and {b.shape} do not match "
                             "(the last axis of the left must equal the second-to-last of the right)") from err

        def backward(g):
            # Treat 1-D operands as a row (left) / column (right) matrix, as matmul does.
            a2 = a[None, :] if a.ndim == 1 else a
            b2 = b[:, None] if b.ndim == 1 else b
            g2 = g[..., None] if b.ndim == 1 else g
            g2 = np.expand_dims(g2, -2) if a.ndim == 1 else g2
            da = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape)
            db = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape)
            self.grad += da.reshape(a.shape)
            other.grad += db.reshape(b.shape)
        return self._make(out, (self, other), "@", backward)

    def __rmatmul__(self, other) -> Tensor:
        return _as_tensor(other) @ self

    # --- reductions and shape -------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        axes = _axes(axis, self.ndim)

        def backward(g):
            if not keepdims:
                g = np.expand_dims(g, axes)
            self.grad += np.broadcast_to(g, self.shape)
        return self._make(self.data.sum(axis=axes, keepdims=keepdims), (self,), "sum", backward)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        count = int(np.prod([self.shape[a] for a in _axes(axis, self.ndim)]))
        return self.sum(axis, keepdims) * (1.0 / count)

    def reshape(self, *shape) -> Tensor:
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape

        def backward(g):
            self.grad += g.reshape(self.shape)
        return self._make(self.data.reshape(shape), (self,), "reshape", backward)

    def transpose(self, *axes) -> Tensor:
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = tuple(axes) if axes else tuple(reversed(range(self.ndim)))
        inverse = tuple(np.argsort(axes))

        def backward(g):
            self.grad += g.transpose(inverse)
        return self._make(self.data.transpose(axes), (self,), "transpose", backward)

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        return self.transpose()

    def __getitem__(self, index) -> Tensor:
        index = index.data.astype(np.intp) if isinstance(index, Tensor) else index

        def backward(g):
            np.add.at(self.grad, index, g)       # repeated indices add up
        return self._make(self.data[index], (self,), "[]", backward)

    # --- elementwise functions ------------------------------------------------------------
    def exp(self) -> Tensor:
        e = np.exp(self.data)

        def backward(g):
            self.grad += g * e
        return self._make(e, (self,), "exp", backward)

    def log(self) -> Tensor:
        def backward(g):
            self.grad += g / self.data
        return self._make(np.log(self.data), (self,), "log", backward)

    def relu(self) -> Tensor:
        mask = self.data > 0

        def backward(g):
            self.grad += g * mask
        return self._make(self.data * mask, (self,), "relu", backward)

    def sigmoid(self) -> Tensor:
        e = np.exp(-np.abs(self.data))               # never overflows
        s = np.where(self.data >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

        def backward(g):
            self.grad += g * s * (1.0 - s)
        return self._make(s, (self,), "sigmoid", backward)

    def tanh(self) -> Tensor:
        t = np.tanh(self.data)

        def backward(g):
            self.grad += g * (1.0 - t * t)
        return self._make(t, (self,), "tanh", backward)

    def softmax_cross_entropy(self, labels) -> Tensor:
        """Mean cross-entropy of logits (N, C) against integer labels (N,), stable; a scalar."""
        labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels).astype(np.intp)
        if self.ndim != 2 or labels.shape != (self.shape[0],):
            raise InputError(f"softmax_cross_entropy: logits have shape {self.shape} and labels "
                             f"{labels.shape}; expected (N, C) and (N,)")
        z = self.data - self.data.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        n = len(labels)
        loss = -log_p[np.arange(n), labels].mean()

        def backward(g):
            d = np.exp(log_p)
            d[np.arange(n), labels] -= 1.0
            self.grad += g * d / n
        return self._make(np.asarray(loss), (self,), "softmax_ce", backward)

    # --- backprop -----------------------------------------------------------------------
    def backward(self, grad=None) -> None:
        """Backpropagate from this tensor.

        Args:
            grad: the upstream gradient d(L)/d(self), same shape as `self`; may be omitted only
                when `self` has one element (then it is 1), as in torch.

        Leaf gradients accumulate across calls (as in torch); intermediate ones are recomputed.
        """
        if grad is None:
            if self.data.size != 1:
                raise InputError(f"Tensor.backward: a tensor of shape {self.shape} needs an upstream "
                                 "gradient of the same shape",
                                 fix="call f.backward(df) or reduce first, e.g. f.sum().backward()")
            grad = np.ones_like(self.data)
        grad = np.asarray(grad, dtype=self.data.dtype)
        if grad.shape != self.shape:
            raise InputError(f"Tensor.backward: upstream gradient has shape {grad.shape}, expected {self.shape}")
        order = topological_order(self, lambda t: t._parents)
        for node in order:
            if node._parents:
                node.grad = np.zeros_like(node.data)
        self.grad = grad.copy()
        for node in reversed(order):
            node._backward()

    def __repr__(self) -> str:
        return f"Tensor({np.array2string(self.data, precision=4)}, shape={self.shape})"


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)
