"""Hidden tests for a2_autograd.py: fresh random inputs against the analytic gradients."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape

MOD = "a2_autograd"


def call(student, function, *args):
    return student.module("checking").call_plain(MOD, function, *args)


@pytest.mark.task("A2.1")
@pytest.mark.parametrize("seed", [101, 102])
def test_scalar_to_scalar_grad_random_points(student, seed):
    rng = np.random.default_rng(seed)
    for x, y in rng.uniform(-7, 7, size=(3, 2)):
        dx, dy = call(student, "scalar_to_scalar_grad", float(x), float(y))
        assert_close(dx, 3 * x**2 + 2 * x + 2 * y + 2, rtol=1e-6, atol=1e-9, name=f"df/dx at ({x:.3f}, {y:.3f})")
        assert_close(dy, 3 * y**2 + 2 * y + 2 * x + 2, rtol=1e-6, atol=1e-9, name=f"df/dy at ({x:.3f}, {y:.3f})")


@pytest.mark.task("A2.2")
@pytest.mark.parametrize("n", [1, 6])
def test_scalar_to_vector_grad_random_sizes(student, n):
    rng = np.random.default_rng(200 + n)
    x, A, b = rng.normal(size=(n, 1)), rng.normal(size=(n, n)), rng.normal(size=(n, 1))
    dA, db = call(student, "scalar_to_vector_grad", x, A, b)
    assert_shape(dA, (n, n), name="dA")
    assert_shape(db, (n, 1), name="db")
    assert_close(dA, 0.5 * x @ x.T, rtol=1e-6, atol=1e-12, name=f"dA for N = {n}")
    assert_close(db, x, rtol=1e-6, atol=1e-12, name=f"db for N = {n}")


@pytest.mark.task("A2.3")
@pytest.mark.parametrize("shape", [(5, 3), (2, 7)])
def test_vector_jacobian_product_random(student, shape):
    m, n = shape
    rng = np.random.default_rng(300 + m)
    x, A, B = rng.normal(size=(m, n)), rng.normal(size=(m, m)), rng.normal(size=(n, n))
    df = rng.normal(size=(m, n))
    dx = call(student, "tensor_to_tensor_grad", x, A, B, df)
    assert_shape(dx, (m, n), name="dx")
    expected = A.T @ df @ B.T + df * (x > 0)
    assert_close(dx, expected, rtol=1e-6, atol=1e-10, name=f"dx for x of shape {shape}")
