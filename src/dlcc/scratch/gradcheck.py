"""Check analytic gradients against central differences, in float64.

Two kinds of target:

* a **Module**: `gradcheck(layer, (x,))` or `gradcheck(lstm, (x, (h0, c0)))`. The scalar checked
  is L = sum(dy * forward(*inputs)) for a fixed random dy (one per output array, nested like the
  output). Analytic gradients come from `backward(*dy)`: its return value for the inputs (one
  gradient per forward input, or only the first input's) and `grads` for every parameter.
  A module whose parameters are not float64 is checked on a float64 copy.
* a **function** `fn(*inputs) -> (scalar, grads)`, e.g. a loss `(loss, dlogits)`. `grads` is one
  array, matched to the first input, or a tuple matched to the first inputs in order.

Numeric gradient of entry i: (L(x + eps e_i) - L(x - eps e_i)) / (2 eps). Big arrays are checked
on a random subset of `max_entries` indices. An entry passes when
|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).

Kinks (ReLU at 0, max-pool ties, |x|...): if the one-sided differences (L(x+eps) - L(x)) / eps
and (L(x) - L(x-eps)) / eps disagree, the function is not smooth within eps of that point, so the
numeric value means nothing there. Such entries are not compared, and a `GradcheckWarning` names
them.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np

from dlcc.scratch.base import Module


class GradcheckWarning(UserWarning):
    """Some entries sit within eps of a kink, so their numeric gradient is unreliable."""


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; `report` holds the details."""

    def __init__(self, message: str, report: GradcheckReport):
        super().__init__(message)
        self.report = report


@dataclass
class ArrayCheck:
    """The result for one parameter or input array."""

    name: str                     # "weight_ih_l0", "0.weight", "input 0", "input 1[0]"
    kind: str                     # "parameter" or "input"
    shape: tuple
    checked: int                  # entries compared (kinks excluded)
    failed: int                   # entries outside tolerance
    worst_index: tuple            # the entry furthest outside (or closest to) the tolerance
    analytic: float
    numeric: float
    rel_error: float              # |a - n| / max(|a|, |n|) at worst_index
    kinks: list = field(default_factory=list)   # indices skipped as near a kink

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def describe(self) -> str:
        return (f"{self.kind} {self.name} {self.shape}: worst at index {self.worst_index}: analytic "
                f"{self.analytic:.10g}, numeric {self.numeric:.10g}, relative error "
                f"{self.rel_error:.3e} ({self.failed} of {self.checked} checked entries outside tolerance)")


@dataclass
class GradcheckReport:
    target: str
    arrays: list[ArrayCheck]
    eps: float
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        return all(a.passed for a in self.arrays)

    @property
    def failures(self) -> list[ArrayCheck]:
        return [a for a in self.arrays if not a.passed]

    @property
    def max_rel_error(self) -> float:
        return max((a.rel_error for a in self.arrays), default=0.0)

    def __str__(self) -> str:
        head = f"gradcheck {self.target}: {'ok' if self.ok else 'FAILED'} " \
               f"(eps={self.eps:g}, rtol={self.rtol:g}, atol={self.atol:g})"
        lines = [head] + [("  ok    " if a.passed else "  FAIL  ") + a.describe() for a in self.arrays]
        return "\n".join(lines)


# --- nested structures (LSTM states are tuples inside tuples) -------------------------------
def _flatten(obj, path: str, out: list) -> None:
    if isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj):
            _flatten(item, f"{path}[{i}]", out)
    else:
        out.append((path, obj))


def _map_floats(obj, fn):
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map_floats(item, fn) for item in obj)
    if isinstance(obj, np.ndarray) and obj.dtype.kind == "f":
        return fn(obj)
    return obj


def _is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


# --- the check -------------------------------------------------------------------------------
def gradcheck(target, inputs, *, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-7,
              max_entries: int = 200, seed: int = 0, check_params: bool = True,
              raise_on_failure: bool = True) -> GradcheckReport:
    """Compare analytic with numeric gradients of a Module or a `(value, grads)` function.

    Args:
        target: a `Module`, or a callable `fn(*inputs) -> (scalar, grad or tuple of grads)`.
        inputs: the forward arguments (an array, or a tuple that may nest, e.g. `(x, (h0, c0))`).
            Non-float entries (integer labels) are passed through and not checked.
        eps: central-difference step. rtol, atol: tolerance per entry (see module docstring).
        max_entries: check at most this many random entries per array.
        seed: seeds the upstream gradient dy and the choice of entries.
        check_params: also check every parameter of a Module.
        raise_on_failure: raise `GradcheckError` (an AssertionError) naming the first failing
            array, its worst index, both values and the relative error; else just return.

    Returns:
        A `GradcheckReport` (printable), with `ok`, `failures` and `max_rel_error`.
    """
    rng = np.random.default_rng(seed)
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    inputs = _map_floats(inputs, lambda a: a.astype(np.float64, copy=True))
    if isinstance(target, Module):
        label = repr(target)
        module = target
        if any(m.params[k].dtype != np.float64 for _, m, k in target.named_parameters()):
            module = copy.deepcopy(target).astype(np.float64)
        loss, analytic = _module_problem(module, inputs, rng, check_params)
    else:
        label = getattr(target, "__name__", repr(target))
        loss, analytic = _function_problem(target, inputs)

    base = loss()
    results = []
    for kind, name, array, grad in analytic:
        results.append(_check_array(kind, name, array, grad, loss, base, eps, rtol, atol, max_entries, rng))

    report = GradcheckReport(label, results, eps, rtol, atol)
    kinky = [a for a in results if a.kinks]
    if kinky:
        details = "; ".join(f"{a.name}: {len(a.kinks)} entries, e.g. index {a.kinks[0]}" for a in kinky)
        warnings.warn(f"gradcheck {label}: inputs within eps={eps:g} of a kink (one-sided differences "
                      f"disagree), not compared: {details}. Move inputs away from 0 / break ties, "
                      "or lower eps.", GradcheckWarning, stacklevel=2)
    if raise_on_failure and not report.ok:
        first = report.failures[0]
        raise GradcheckError(f"gradcheck failed for {label}: {first.describe()}; "
                             f"tolerance |a - n| <= {atol:g} + {rtol:g} * max(|a|, |n|)\n{report}",
                             report)
    return report


def _module_problem(module: Module, inputs: tuple, rng, check_params: bool):
    """Build L(.) and the list of (name, array to perturb, analytic gradient) for a module."""
    out = module.forward(*inputs)
    dys = _map_floats(out, lambda a: rng.standard_normal(a.shape))

    def loss() -> float:
        total = 0.0
        flat_out, flat_dy = [], []
        _flatten(module.forward(*inputs), "", flat_out)
        _flatten(dys, "", flat_dy)
        for (_, o), (_, dy) in zip(flat_out, flat_dy):
            if _is_float_array(o):
                total += float(np.sum(o * dy))
        return total

    first = loss()
    if loss() != first:
        raise GradcheckError(f"gradcheck {module!r}: forward is not deterministic (two calls on the "
                             "same input gave different outputs); call .eval() or fix the "
                             "random state (Dropout in training mode?)", GradcheckReport(repr(module), [], 0, 0, 0))
    module.zero_grad()
    returned = module.backward(*dys) if isinstance(out, tuple) else module.backward(dys)
    analytic = _match_input_grads(inputs, returned)
    if check_params:
        for name, owner, key in module.named_parameters():
            analytic.append(("parameter", name, owner.params[key], owner.grads.get(key)))
    return loss, analytic


def _function_problem(fn, inputs: tuple):
    value, returned = fn(*inputs)
    if np.ndim(value) != 0:
        raise GradcheckError(f"gradcheck {fn!r}: the function must return (scalar, grads); its "
                             f"first value has shape {np.shape(value)}", GradcheckReport(repr(fn), [], 0, 0, 0))

    def loss() -> float:
        return float(fn(*inputs)[0])

    return loss, _match_input_grads(inputs, returned)


def _match_input_grads(inputs: tuple, returned) -> list:
    """Pair each input array with the gradient returned for it (positionally)."""
    if not isinstance(returned, tuple):
        returned = (returned,)
    flat_in, flat_grad = [], []
    for i, item in enumerate(inputs):
        _flatten(item, f"input {i}", flat_in)
    for i, item in enumerate(returned):
        _flatten(item, f"input {i}", flat_grad)
    grads = dict(flat_grad)
    return [("input", name, array, grads.get(name)) for name, array in flat_in
            if _is_float_array(array) and name in grads and grads[name] is not None]


def _check_array(kind, name, array, grad, loss, base, eps, rtol, atol, max_entries, rng) -> ArrayCheck:
    if grad is None:
        grad = np.zeros_like(array)      # a missing gradient is checked as zero (so it fails)
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != array.shape:
        raise GradcheckError(f"gradcheck: the gradient of {name} has shape {grad.shape}, but "
                             f"{name} has shape {array.shape}", GradcheckReport(name, [], eps, rtol, atol))
    flat = array.reshape(-1)             # a view: perturbing it perturbs the real array
    if not np.shares_memory(flat, array):
        raise GradcheckError(f"gradcheck: {name} is not contiguous", GradcheckReport(name, [], eps, rtol, atol))
    size = flat.size
    picks = np.arange(size) if size <= max_entries else np.sort(rng.choice(size, max_entries, replace=False))
    numeric = np.empty(len(picks))
    kink = np.zeros(len(picks), dtype=bool)
    for j, i in enumerate(picks):
        old = flat[i]
        flat[i] = old + eps
        up = loss()
        flat[i] = old - eps
        down = loss()
        flat[i] = old
        numeric[j] = (up - down) / (2 * eps)
        forward_d, backward_d = (up - base) / eps, (base - down) / eps
        # Smooth functions: the one-sided slopes differ by ~ f'' * eps; a kink: by O(1).
        kink[j] = abs(forward_d - backward_d) > 1e-3 * max(1.0, abs(forward_d), abs(backward_d))
    analytic = grad.reshape(-1)[picks]
    diff = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    excess = np.where(kink, -np.inf, diff - (atol + rtol * scale))
    worst = int(np.argmax(excess)) if (~kink).any() else 0
    rel = float(diff[worst] / scale[worst]) if scale[worst] > 0 else 0.0
    return ArrayCheck(
        name=name, kind=kind, shape=array.shape, checked=int((~kink).sum()), failed=int((excess > 0).sum()),
        worst_index=tuple(int(v) for v in np.unravel_index(picks[worst], array.shape)),
        analytic=float(analytic[worst]), numeric=float(numeric[worst]), rel_error=rel,
        kinks=[tuple(int(v) for v in np.unravel_index(i, array.shape)) for i in picks[kink]])


__all__ = ["gradcheck", "GradcheckReport", "ArrayCheck", "GradcheckError", "GradcheckWarning"]
