"""Shared helpers for the layer parity tests: run a scratch layer and its torch twin side by side."""

from __future__ import annotations

import numpy as np
import torch

TOL = 1e-6


def rel_err(a, b) -> float:
    """max |a - b| / max(|a|, |b|): scale-free and safe when many entries are zero.

    The scale is floored at 1e-6 so an array that is zero up to round-off (the gradient of a
    bias in front of BatchNorm, ~1e-16) compares with an absolute tolerance of 1e-12.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-6)
    return float(np.abs(a - b).max() / scale)


def assert_close(ours, theirs, what: str, tol: float = TOL) -> None:
    err = rel_err(ours, theirs)
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


def to_np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def check_parity(layer, torch_layer: torch.nn.Module, x: np.ndarray, *, seed: int = 0,
                 copy_weights: bool = True, input_grad: bool = True) -> dict:
    """Forward and backward both; assert output, dx and every parameter gradient agree.

    The torch module must already be float64. Returns the outputs for extra checks.
    """
    if copy_weights:
        layer.load_state_dict(torch_layer.state_dict())
    xt = torch.from_numpy(x.copy())
    if xt.is_floating_point():
        xt.requires_grad_(True)
    torch_layer.zero_grad(set_to_none=True)   # torch accumulates; we compare one backward
    yt = torch_layer(xt)
    y = layer.forward(x)
    assert y.dtype == np.float64, f"output dtype {y.dtype}"
    assert_close(y, to_np(yt), f"{layer!r} forward")
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    yt.backward(torch.from_numpy(dy))
    dx = layer.backward(dy)
    if xt.is_floating_point() and input_grad:
        assert dx is not None and dx.shape == x.shape
        assert_close(dx, to_np(xt.grad), f"{layer!r} dx")
    torch_grads = dict(torch_layer.named_parameters())
    ours = {name: module.grads[key] for name, module, key in layer.named_parameters()}
    assert set(ours) == set(torch_grads), f"parameter names {sorted(ours)} != {sorted(torch_grads)}"
    for name, grad in ours.items():
        assert_close(grad, to_np(torch_grads[name].grad), f"{layer!r} d{name}")
    return {"y": y, "dx": dx, "dy": dy}
