"""Initialisers against torch.nn.init: exact gains and fans, bounds and std statistically."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.scratch import init


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_gain_equals_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [(3, 4), (10, 1), (8, 3, 5, 5), (16, 4, 3, 1), (2, 3, 4, 5, 6), (6, 2, 7)])
def test_fans_equal_torch_exactly(shape):
    assert init.fan_in_and_fan_out(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def _torch_filled(fn, shape, **kwargs):
    torch.manual_seed(0)
    return fn(torch.empty(shape, dtype=torch.float64), **kwargs).numpy()


# (our function, torch function, kwargs, expected std as a function of (fan_in, fan_out), uniform?)
CASES = [
    (init.xavier_uniform_, torch.nn.init.xavier_uniform_, {}, lambda i, o: math.sqrt(2 / (i + o)), True),
    (init.xavier_uniform_, torch.nn.init.xavier_uniform_, {"gain": 5 / 3}, lambda i, o: 5 / 3 * math.sqrt(2 / (i + o)), True),
    (init.xavier_normal_, torch.nn.init.xavier_normal_, {"gain": 2.0}, lambda i, o: 2 * math.sqrt(2 / (i + o)), False),
    (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, {}, lambda i, o: math.sqrt(2 / i), True),
    (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, {"a": math.sqrt(5)}, lambda i, o: math.sqrt(1 / (3 * i)), True),
    (init.kaiming_normal_, torch.nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"},
     lambda i, o: math.sqrt(2 / o), False),
    (init.kaiming_normal_, torch.nn.init.kaiming_normal_, {"nonlinearity": "tanh"}, lambda i, o: 5 / 3 / math.sqrt(i), False),
]


@pytest.mark.parametrize("shape", [(300, 500), (64, 32, 3, 5)])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_distribution_matches_torch(case, shape):
    ours_fn, torch_fn, kwargs, std_of, is_uniform = CASES[case]
    fan_in, fan_out = init.fan_in_and_fan_out(shape)
    expected_std = std_of(fan_in, fan_out)
    w = ours_fn(np.empty(shape), rng=np.random.default_rng(0), **kwargs)
    ref = _torch_filled(torch_fn, shape, **kwargs)
    n = w.size
    # The sample std of n draws is within 5 standard errors: se ~ std * sqrt(kurtosis-ish / 2n).
    tol = 5 * expected_std * math.sqrt(1.0 / n)
    assert abs(w.std() - expected_std) < tol
    assert abs(ref.std() - expected_std) < tol
    assert abs(w.mean()) < 5 * expected_std / math.sqrt(n)
    if is_uniform:
        bound = math.sqrt(3) * expected_std
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.99 * bound      # the support really reaches the bound
        assert np.abs(ref).max() <= bound + 1e-12


def test_fills_in_place_keeps_dtype_and_is_reproducible():
    w = np.empty((20, 10), dtype=np.float32)
    out = init.kaiming_uniform_(w, rng=np.random.default_rng(3))
    assert out is w and w.dtype == np.float32
    again = init.kaiming_uniform_(np.empty((20, 10), dtype=np.float32), rng=np.random.default_rng(3))
    np.testing.assert_array_equal(w, again)


def test_bad_arguments_raise_config_error():
    with pytest.raises(ConfigError, match=r"shape \(5,\) has fewer than 2 dimensions"):
        init.xavier_uniform_(np.empty(5))
    with pytest.raises(ConfigError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(np.empty((3, 3)), mode="fan_avg")
    with pytest.raises(ConfigError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
