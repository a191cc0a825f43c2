"""A scalar autograd node (micrograd-like).

    x, y = Value(10.2), Value(5.6)
    f = x**3 + y**3 + x**2 + y**2 + 2*x*y + 2*x + 2*y + 1
    f.backward()
    x.grad   # 3x^2 + 2x + 2y + 2
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable


def topological_order(root, parents: Callable) -> list:
    """Nodes reachable from `root`, each after all of its inputs (iterative, so deep graphs such
    as a long running sum do not hit Python's recursion limit)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in parents(node):
            if id(parent) not in visited:
                stack.append((parent, False))
    return order


class Value:
    """A float that remembers how it was computed.

    Attributes:
        data: the value. grad: d(root)/d(this), filled by `root.backward()`.
        op: the operation that produced it ("" for leaves), for drawing graphs.
    """

    __slots__ = ("data", "grad", "op", "label", "_parents", "_backward")

    def __init__(self, data: float, _parents: Iterable[Value] = (), op: str = "", label: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self.op, self.label = op, label
        self._parents = tuple(_parents)
        self._backward: Callable[[], None] = lambda: None

    # --- arithmetic ---------------------------------------------------------------------
    def __add__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = backward
        return out

    def __mul__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = backward
        return out

    def __pow__(self, other) -> Value:
        if isinstance(other, Value):   # x ** y with both variable: d/dy = x^y ln x
            return (other * self.log()).exp()
        k = float(other)
        out = Value(self.data ** k, (self,), f"**{other:g}")

        def backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = backward
        return out

    def __rpow__(self, base) -> Value:     # number ** Value
        return (self * math.log(base)).exp()

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other) -> Value:
        return self + (-_as_value(other))

    def __truediv__(self, other) -> Value:
        return self * _as_value(other) ** -1

    def __radd__(self, other) -> Value:
        return self + other

    def __rmul__(self, other) -> Value:
        return self * other

    def __rsub__(self, other) -> Value:
        return _as_value(other) - self

    def __rtruediv__(self, other) -> Value:
        return _as_value(other) / self

    # --- functions ----------------------------------------------------------------------
    def _unary(self, value: float, local_grad: float, op: str) -> Value:
        out = Value(value, (self,), op)

        def backward():
            self.grad += local_grad * out.grad
        out._backward = backward
        return out

    def exp(self) -> Value:
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self) -> Value:
        return self._unary(math.log(self.data), 1.0 / self.data, "log")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")

    def relu(self) -> Value:
        return self._unary(max(self.data, 0.0), float(self.data > 0), "relu")

    def sigmoid(self) -> Value:
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return self._unary(s, s * (1.0 - s), "sigmoid")

    # --- backprop -----------------------------------------------------------------------
    def backward(self) -> None:
        """Fill `.grad` of every node this one depends on with d(self)/d(node).

        Leaf gradients accumulate across calls (as in torch); intermediate ones are recomputed.
        """
        order = topological_order(self, lambda v: v._parents)
        for node in order:
            if node._parents:
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"


def _as_value(x) -> Value:
    return x if isinstance(x, Value) else Value(x)
