"""A2, part (a): let PyTorch's autograd compute gradients for you.

Each function receives plain numbers or NumPy arrays, builds the function with torch tensors
that have `requires_grad=True`, calls `.backward()` and returns the gradients as plain floats
or NumPy arrays (use `.item()` or `.detach().numpy()`). Do not write the derivatives by hand:
the point is to see autograd produce them. Check your work with `dlcc course test A2`.
"""

from __future__ import annotations

import numpy as np
import torch


def scalar_to_scalar_grad(x: float, y: float) -> tuple[float, float]:
    """Gradient of f(x, y) = x^3 + y^3 + x^2 + y^2 + 2xy + 2x + 2y + 1.

    Args:
        x, y: Python floats.
    Returns:
        (df/dx, df/dy) as Python floats.
    """
    # TODO (A2.1): your code here
    # HINT: torch.tensor(x, dtype=torch.float64, requires_grad=True); f.backward(); then .grad
    raise NotImplementedError("A2.1: this part of scalar_to_scalar_grad() is not implemented yet")
    return dx, dy


def scalar_to_vector_grad(x: np.ndarray, A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the scalar f(A, b) = 1/2 x^T A x + b^T x + 1 with respect to A and b.

    Args:
        x: [N, 1]; A: [N, N]; b: [N, 1] (NumPy, float64).
    Returns:
        (df/dA [N, N], df/db [N, 1]) as NumPy arrays.
    """
    # TODO (A2.2): your code here
    # HINT: only A and b need requires_grad; x is a constant here
    raise NotImplementedError("A2.2: this part of scalar_to_vector_grad() is not implemented yet")
    return dA, db


def tensor_to_tensor_grad(x: np.ndarray, A: np.ndarray, B: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Vector-Jacobian product of f(x) = A x B + ReLU(x) with an upstream gradient df.

    f maps a matrix to a matrix, so it has no single "gradient"; `f.backward(df)` computes
    sum_ij df_ij * d f_ij / dx, the gradient a loss L gets through f when dL/df = df.

    Args:
        x: [M, N]; A: [M, M]; B: [N, N]; df: [M, N] (NumPy, float64).
    Returns:
        dx: [M, N] NumPy array.
    """
    # TODO (A2.3): your code here
    # HINT: f = A @ x @ B + torch.relu(x); f.backward(gradient=...)
    raise NotImplementedError("A2.3: this part of tensor_to_tensor_grad() is not implemented yet")
    return dx


if __name__ == "__main__":
    print("scalar_to_scalar_grad(10.2, 5.6) =", scalar_to_scalar_grad(10.2, 5.6))
    x = np.eye(4, 3) - 0.5
    print("tensor_to_tensor_grad, course example:\n",
          tensor_to_tensor_grad(x, 2 * np.eye(4), 3 * np.eye(3), np.eye(4, 3) - 0.24))
