"""Assertions for assignment tests, with messages written for students.

`assert_close` is the workhorse. When it fails it says which value, how many entries differ,
and shows the student's value beside the expected one at the worst indices:

    dW1: 6 of 20 values differ (rtol 1e-05, atol 1e-08); largest difference 0.42 at [3, 1]
        index      yours          expected       difference
        [3, 1]     0.512          0.0921         0.42
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def _as_array(value: Any, name: str) -> np.ndarray:
    if value is None:
        raise AssertionError(f"{name}: your code returned None; a return statement is missing?")
    try:
        arr = np.asarray(value)
    except Exception:
        raise AssertionError(f"{name}: expected numbers, got {type(value).__name__}") from None
    if arr.dtype.kind not in "biufc":
        raise AssertionError(f"{name}: expected numbers, got {type(value).__name__} "
                             f"of dtype {arr.dtype}")
    return arr


def _fmt(x) -> str:
    return f"{x:.6g}" if np.isscalar(x) and not isinstance(x, (bool, np.bool_)) else str(x)


def assert_shape(value: Any, shape: tuple, name: str = "value") -> None:
    arr = _as_array(value, name)
    if tuple(arr.shape) != tuple(shape):
        hint = " (transposed?)" if tuple(arr.shape) == tuple(shape)[::-1] and len(shape) > 1 else ""
        raise AssertionError(f"{name}: shape {tuple(arr.shape)}, expected {tuple(shape)}{hint}")


def assert_close(actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-8,
                 name: str = "value", show: int = 5) -> None:
    """Like numpy's assert_allclose (|yours - expected| <= atol + rtol*|expected|), with a
    report of where the values differ."""
    exp = np.asarray(expected)
    act = _as_array(actual, name)
    if act.shape != exp.shape:
        assert_shape(act, exp.shape, name)
    act_f = act.astype(np.complex128 if act.dtype.kind == "c" else np.float64)
    exp_f = exp.astype(np.complex128 if exp.dtype.kind == "c" else np.float64)
    ok = np.isclose(act_f, exp_f, rtol=rtol, atol=atol, equal_nan=True)
    if ok.all():
        return
    bad = ~ok
    diff = np.abs(act_f - exp_f)
    diff = np.where(np.isnan(diff), np.inf, diff)
    if act.ndim == 0:
        raise AssertionError(f"{name}: yours {_fmt(act_f.item())}, expected {_fmt(exp_f.item())} "
                             f"(difference {_fmt(diff.item())}; rtol {rtol:g}, atol {atol:g})")
    order = np.argsort(np.where(bad, diff, -1).ravel())[::-1][:min(show, int(bad.sum()))]
    worst = np.unravel_index(order[0], act.shape)
    lines = [f"{name}: {int(bad.sum())} of {act.size} values differ (rtol {rtol:g}, atol {atol:g}); "
             f"largest difference {_fmt(diff[worst])} at {list(map(int, worst))}",
             f"    {'index':<14} {'yours':<14} {'expected':<14} difference"]
    for flat in order:
        idx = np.unravel_index(flat, act.shape)
        lines.append(f"    {str(list(map(int, idx))):<14} {_fmt(act_f[idx]):<14} "
                     f"{_fmt(exp_f[idx]):<14} {_fmt(diff[idx])}")
    if np.isnan(act_f).any() and not np.isnan(exp_f).any():
        lines.append(f"    note: {int(np.isnan(act_f).sum())} of your values are NaN")
    raise AssertionError("\n".join(lines))


def assert_keys(mapping: Any, keys, name: str = "params") -> None:
    if not isinstance(mapping, dict):
        raise AssertionError(f"{name}: expected a dict, got {type(mapping).__name__}")
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise AssertionError(f"{name}: missing keys {missing}; found {sorted(map(str, mapping))}")


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f() with respect to the array x, changed in place."""
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + eps
        plus = float(f())
        x[idx] = old - eps
        minus = float(f())
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad
