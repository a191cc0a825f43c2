"""The scalar `Value` engine against torch (float64) and the A2 exercises."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcc.scratch.autograd import Value


def both(fn, *xs):
    """Run fn on Values and on float64 torch scalars; return (values, torch values)."""
    ours = [Value(x) for x in xs]
    ref = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out, out_t = fn(*ours), fn(*ref)
    out.backward()
    out_t.backward()
    assert out.data == pytest.approx(out_t.item(), rel=1e-12, abs=1e-12)
    for v, t in zip(ours, ref):
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-10, abs=1e-12)
    return ours, ref


def test_a2_scalar_to_scalar_grad():
    # f = x^3 + y^3 + x^2 + y^2 + 2xy + 2x + 2y + 1 at x=10.2, y=5.6 (A2 task a.1)
    (x, y), _ = both(lambda x, y: x**3 + y**3 + x**2 + y**2 + 2 * x * y + 2 * x + 2 * y + 1, 10.2, 5.6)
    assert x.grad == pytest.approx(3 * 10.2**2 + 2 * 10.2 + 2 * 5.6 + 2, rel=1e-12)
    assert y.grad == pytest.approx(3 * 5.6**2 + 2 * 5.6 + 2 * 10.2 + 2, rel=1e-12)


def test_a2_written_graphs():
    # L = x^3 + y^3 + z^3 + 2xy + 2xz at (10, 6, 2)
    (x, y, z), _ = both(lambda x, y, z: x**3 + y**3 + z**3 + 2 * x * y + 2 * x * z, 10.0, 6.0, 2.0)
    assert (x.grad, y.grad, z.grad) == (316.0, 128.0, 32.0)
    # L = e * ReLU(a x + b y + c z + d) + f, both sides of the ReLU kink
    for d in (1.5, -30.0):
        both(lambda a, b, c, d_, e, f: e * (a * 2.0 + b * -1.0 + c * 3.0 + d_).relu() + f,
             0.5, 2.0, -1.0, d, 3.0, 0.7)


@pytest.mark.parametrize("name, fn, args", [
    ("add/sub/neg", lambda x, y: x + y - (-x) - 3 + (2 - y), (1.3, -0.4)),
    ("mul/div", lambda x, y: x * y / (y * y + 1) + 2 / x - x / 4, (1.3, -0.4)),
    ("pow const", lambda x, y: x**2.5 + y**-2 + x**0.5 * y**3, (1.7, 0.9)),
    ("pow variable", lambda x, y: x**y + 2**x, (1.7, 0.9)),
    ("exp/log", lambda x, y: (x * y).exp() + (x + y * y).log(), (0.3, 1.1)),
    ("tanh/sigmoid", lambda x, y: (x * y).tanh() + (x - 3 * y).sigmoid(), (0.3, -1.1)),
    ("relu", lambda x, y: (x - y).relu() * (y - x).relu() + (x * 2).relu(), (0.3, -1.1)),
])
def test_operations_match_torch(name, fn, args):
    both(fn, *args)


def test_sigmoid_is_stable_for_large_inputs():
    for x in (-800.0, 800.0):
        v = Value(x)
        s = v.sigmoid()
        s.backward()
        assert math.isfinite(s.data) and v.grad == 0.0


def test_gradients_accumulate_over_paths_and_nodes_used_twice():
    x = Value(3.0)
    a = x * x + x            # two paths through x (three uses)
    b = a * a                # a node used twice
    b.backward()
    assert a.grad == 2 * a.data
    assert x.grad == 2 * a.data * (2 * 3.0 + 1)


def test_leaf_grads_accumulate_across_calls_like_torch_but_inner_ones_do_not():
    x = Value(2.0)
    h = x * x
    f = h * 3
    f.backward()
    f.backward()
    assert x.grad == 2 * 12.0 and h.grad == 3.0


def test_deep_graph_needs_no_recursion():
    xs = [Value(float(i)) for i in range(5000)]
    total = xs[0]
    for v in xs[1:]:
        total = total + v * v
    total.backward()
    assert xs[4999].grad == 2 * 4999 and xs[0].grad == 1.0


finite = st.floats(min_value=-3, max_value=3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(finite, finite)
def test_composite_expression_matches_torch(x, y):
    both(lambda x, y: (x * y).tanh() + (x - y).sigmoid() * (y / 3).exp()
         - x.relu() / (1 + y**2) + (1 + x**2).log() + x * x * y, x, y)
