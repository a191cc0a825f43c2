"""Recipe configs: --set parsing, strictness, type checks."""

from __future__ import annotations

import pytest

from dlcc.errors import ConfigError
from dlcc.recipes.config import apply_overrides, flatten, parse_override

DEFAULTS = {"epochs": 10, "lr": 0.1, "model": {"hidden": [64, 32], "act": "relu"}, "amp": False}


def test_overrides_parse_yaml_values_and_nested_keys():
    cfg = apply_overrides(DEFAULTS, ["epochs=3", "model.hidden=[8, 4]", "lr=1", "amp=true"])
    assert cfg["epochs"] == 3 and cfg["model"]["hidden"] == [8, 4]
    assert cfg["lr"] == 1.0 and isinstance(cfg["lr"], float)
    assert cfg["amp"] is True
    assert DEFAULTS["epochs"] == 10  # defaults untouched


@pytest.mark.parametrize("text, words", [
    ("epoch=3", "unknown setting 'epoch'"),
    ("model.width=3", "unknown setting 'model.width'"),
    ("epochs", "not of the form key=value"),
    ("=3", "empty key"),
    ("epochs=many", "expected a number"),
    ("epochs=2.5", "expected a whole number"),
    ("amp=3", "expected true or false"),
])
def test_bad_overrides_are_named(text, words):
    with pytest.raises(ConfigError) as err:
        apply_overrides(DEFAULTS, [text])
    assert words in str(err.value)


def test_unknown_key_lists_known_ones():
    with pytest.raises(ConfigError) as err:
        apply_overrides(DEFAULTS, ["model.widht=3"])
    assert "act, hidden" in str(err.value)


def test_parse_and_flatten():
    assert parse_override("a.b=[1,2]") == (["a", "b"], [1, 2])
    assert flatten(DEFAULTS)["model.act"] == "relu"


def test_exponent_numbers_are_numbers():
    assert parse_override("lr=1e-3") == (["lr"], 1e-3)
    assert apply_overrides(DEFAULTS, ["lr=1e6"])["lr"] == 1e6
    assert parse_override("name=nan") == (["name"], "nan")
