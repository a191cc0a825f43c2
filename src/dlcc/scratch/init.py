"""Weight initialisation, as torch.nn.init defines it (same gains, same fan computation).

Each `*_` function fills an existing array in place and returns it, like torch's:

    w = np.empty((256, 784)); kaiming_uniform_(w, nonlinearity="relu", rng=rng)

Fans follow torch: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel); a Linear weight is (out, in), so fan_in = in.
"""

from __future__ import annotations

import math

import numpy as np

from dlcc.errors import ConfigError

_LINEAR_LIKE = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (torch.nn.init.calculate_gain).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2))
    with slope `param` (default 0.01); selu: 3/4.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ConfigError(f"calculate_gain: negative slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ConfigError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}",
                      fix="use one of linear, conv2d, sigmoid, tanh, relu, leaky_relu, selu")


def fan_in_and_fan_out(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape, as torch computes them (needs >= 2 dimensions)."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ConfigError(f"fan_in_and_fan_out: a weight of shape {shape} has fewer than 2 "
                          "dimensions, so its fans are undefined")
    receptive_field = math.prod(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(shape, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ConfigError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return fan_in if mode == "fan_in" else fan_out


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng()


def uniform_(array: np.ndarray, a: float = 0.0, b: float = 1.0, rng=None) -> np.ndarray:
    """Fill with U(a, b)."""
    array[...] = _rng(rng).uniform(a, b, array.shape)
    return array


def normal_(array: np.ndarray, mean: float = 0.0, std: float = 1.0, rng=None) -> np.ndarray:
    """Fill with N(mean, std^2)."""
    array[...] = _rng(rng).normal(mean, std, array.shape)
    return array


def zeros_(array: np.ndarray) -> np.ndarray:
    array[...] = 0
    return array


def xavier_uniform_(array: np.ndarray, gain: float = 1.0, rng=None) -> np.ndarray:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(array.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(array, -bound, bound, rng)


def xavier_normal_(array: np.ndarray, gain: float = 1.0, rng=None) -> np.ndarray:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(array.shape)
    return normal_(array, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def kaiming_uniform_(array: np.ndarray, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", rng=None) -> np.ndarray:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    torch's defaults (a=0, leaky_relu) give gain sqrt(2), the same as relu. torch's Linear and
    Conv layers use a=sqrt(5), i.e. b = 1 / sqrt(fan_in).
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(array.shape, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(array, -bound, bound, rng)


def kaiming_normal_(array: np.ndarray, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", rng=None) -> np.ndarray:
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(array.shape, mode))
    return normal_(array, 0.0, std, rng)


__all__ = ["calculate_gain", "fan_in_and_fan_out", "uniform_", "normal_", "zeros_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]
