"""Public tests for a2_autograd.py: the course's known values. Run `dlcc course test A2`.

The grader also runs hidden tests with fresh random inputs, so passing these is necessary,
not sufficient.
"""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape

MOD = "a2_autograd"


def call(student, function, *args):
    """Your function's result, with any tensors turned into arrays (see checking.py)."""
    return student.module("checking").call_plain(MOD, function, *args)


@pytest.mark.task("A2.1")
def test_scalar_to_scalar_grad_course_values(student):
    x, y = 10.2, 5.6
    dx, dy = call(student, "scalar_to_scalar_grad", x, y)
    assert_close(dx, 3 * x**2 + 2 * x + 2 * y + 2, rtol=1e-6, name="df/dx at (10.2, 5.6)")
    assert_close(dy, 3 * y**2 + 2 * y + 2 * x + 2, rtol=1e-6, name="df/dy at (10.2, 5.6)")


@pytest.mark.task("A2.2")
def test_scalar_to_vector_grad_random_3d(student):
    rng = np.random.default_rng(0)
    x, A, b = rng.normal(size=(3, 1)), rng.normal(size=(3, 3)), rng.normal(size=(3, 1))
    dA, db = call(student, "scalar_to_vector_grad", x, A, b)
    assert_shape(dA, (3, 3), name="dA")
    assert_shape(db, (3, 1), name="db")
    assert_close(dA, 0.5 * x @ x.T, rtol=1e-6, name="dA (should be 1/2 x x^T)")
    assert_close(db, x, rtol=1e-6, name="db (should be x)")


@pytest.mark.task("A2.3")
def test_tensor_to_tensor_grad_course_example(student):
    x = np.eye(4, 3) - 0.5
    dx = call(student, "tensor_to_tensor_grad", x, 2 * np.eye(4), 3 * np.eye(3), np.eye(4, 3) - 0.24)
    assert_shape(dx, (4, 3), name="dx")
    expected = np.full((4, 3), -1.44)
    expected[np.arange(3), np.arange(3)] = 5.32
    assert_close(dx, expected, rtol=1e-6, atol=1e-9, name="dx (diagonal 5.32, elsewhere -1.44)")
