"""Typed configs (dlcc.config): `--set` text parsed against declared types, ranges, choices,
sections, the 'did you mean' fix, config.yaml round trips, and `--show` rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest
import yaml

from dlcc.config import apply_overrides, apply_values, diff, from_dict, keys, render, section, setting, to_dict, \
    validate
from dlcc.errors import ConfigError


@dataclass
class Model:
    hidden: list[int] = setting([64, 32], "hidden sizes", ge=1)
    act: Literal["relu", "gelu"] = setting("relu", "activation")


@dataclass
class Train:
    epochs: int | None = setting(10, "passes", ge=1)
    lr: float = setting(0.1, "learning rate", gt=0)
    amp: Literal["auto", "off", "bf16", "fp16"] = setting("auto", "mixed precision")
    compile: bool | Literal["auto"] = setting("auto", "torch.compile")
    records: list[str] = setting(["100"], "record names")
    threshold: float | Literal["auto"] = setting("auto", "a number or auto", gt=0, lt=1)

    def check(self, where: str) -> None:
        if self.epochs is None and self.lr > 1:
            raise ConfigError(f"{where}lr too large without epochs")


@dataclass
class Cfg:
    seed: int = setting(0, "seed", ge=0)
    model: Model = section(Model)
    train: Train = section(Train, epochs=5)


def _set(*texts):
    return validate(apply_overrides(Cfg(), list(texts)))


def test_values_are_parsed_against_their_declared_types():
    cfg = _set("train.amp=off", "train.compile=false", "model.hidden=[8, 4]", "train.lr=1e-3", "train.epochs=null",
               "train.records=abc", "model.act=GELU", "train.threshold=0.3")
    assert cfg.train.amp == "off" and cfg.train.compile is False      # not YAML 1.1's booleans
    assert cfg.model.hidden == [8, 4] and cfg.train.lr == 1e-3 and cfg.train.epochs is None
    assert cfg.train.records == ["abc"] and cfg.model.act == "gelu" and cfg.train.threshold == 0.3
    assert _set("train.compile=auto").train.compile == "auto"
    assert _set("model.hidden=16,8").model.hidden == [16, 8]             # a comma list works too
    assert _set("train.records=[100, 101]").train.records == ["100", "101"]   # record numbers as names
    assert _set("train.epochs=3.0").train.epochs == 3
    assert Cfg().train.epochs == 5 and Cfg().model.hidden == [64, 32]        # defaults untouched


@pytest.mark.parametrize("text, words", [
    ("epochs=3", "unknown setting 'epochs'"),
    ("train.epoch=3", "did you mean train.epochs?"),
    ("epochs=3", "did you mean train.epochs?"),
    ("model=5", "model is a section"),
    ("model.hidden.x=1", "model.hidden is a single setting"),
    ("train.epochs", "not of the form key=value"),
    ("=3", "empty key"),
    ("train.epochs=many", "train.epochs takes whole number"),
    ("train.epochs=2.5", "takes whole number"),
    ("train.epochs=0", "it must be >= 1"),
    ("train.lr=-1", "it must be > 0"),
    ("train.lr=nan", "not a finite number"),
    ("train.amp=maybe", "one of auto, off, bf16, fp16"),
    ("train.compile=sometimes", "one of auto, true, false"),
    ("model.hidden=[64,", "not a complete list"),
    ("model.hidden=abc", "item 1, abc, is not a whole number"),
    ("model.hidden=[8, 0]", "it must be >= 1"),
    ("model.hidden=8,,4", "empty item"),
    ("train.threshold=1.5", "it must be < 1"),
    ("train.threshold=often", "takes number or auto"),
])
def test_bad_overrides_name_the_key_and_what_it_takes(text, words):
    with pytest.raises(ConfigError) as err:
        _set(text)
    assert words in str(err.value)
    assert "fix:" in str(err.value)


@dataclass
class Bounded:
    depth: int = setting(4, "blocks", ge=1, le=5)
    scale: float = setting(2.0, "at least one", ge=1)
    small: float = setting(1e-5, "tiny", gt=0, le=1e-4)
    rate: float = setting(0.5, "a fraction", gt=0, lt=1)
    sizes: list[int] = setting([2, 3], "each at most 5", ge=1, le=5)
    count: int = setting(1, "1 or 2", gt=0, lt=3)


@pytest.mark.parametrize("key", ["depth", "scale", "small", "rate", "sizes", "count"])
def test_a_type_errors_fix_suggests_a_value_in_range(key):
    """Following the fix must not lead straight to an out-of-range error (depth=10 when depth <= 5)."""
    for wrong in (lambda: validate(apply_overrides(Bounded(), [f"{key}=abc"])),
                  lambda: apply_values(Bounded(), {key: "abc"}),
                  lambda: from_dict(Bounded, {key: {"a": 1}}, "config.yaml"),
                  lambda: validate(Bounded(**{key: "abc"}))):
        with pytest.raises(ConfigError) as err:
            wrong()
        assert err.value.fix.startswith(f"e.g. --set {key}=")
        validate(apply_overrides(Bounded(), [err.value.fix.removeprefix("e.g. --set ")]))
    assert _bad_fix("train.lr=abc") == "e.g. --set train.lr=0.001"   # the usual example when it fits


def _bad_fix(text):
    with pytest.raises(ConfigError) as err:
        _set(text)
    return err.value.fix


def test_section_checks_run_with_their_prefix():
    with pytest.raises(ConfigError, match="train.lr too large"):
        _set("train.epochs=null", "train.lr=2")


def test_config_dicts_round_trip_and_unknown_keys_are_refused():
    cfg = _set("train.amp=bf16", "model.hidden=[3]")
    again = validate(from_dict(Cfg(), yaml.safe_load(yaml.safe_dump(to_dict(cfg))), "run/config.yaml"))
    assert again == cfg
    partial = from_dict(Cfg(), {"train": {"lr": 0.5}}, "x.yaml")
    assert partial.train.epochs == 5                      # the recipe's default, not the class's 10
    with pytest.raises(ConfigError, match=r"x.yaml: unknown setting 'train.lrr'"):
        from_dict(Cfg(), {"train": {"lrr": 0.5}}, "x.yaml")
    with pytest.raises(ConfigError, match="train.epochs"):
        from_dict(Cfg(), {"train": {"epochs": "many"}}, "x.yaml")


def test_values_from_python_presets_and_diff():
    cfg = validate(apply_values(Cfg(), {"model.hidden": [1, 2], "train.lr": 1, "train.compile": True}))
    assert cfg.model.hidden == [1, 2] and cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)
    assert cfg.train.compile is True
    assert sorted(k for k, _, _ in diff(Cfg(), cfg)) == ["model.hidden", "train.compile", "train.lr"]
    with pytest.raises(ConfigError, match="preset 'p': unknown setting 'train.nope'"):
        apply_values(Cfg(), {"train.nope": 1}, source="preset 'p'")


def test_render_lists_every_key_with_help_and_reads_back():
    text = render(Cfg())
    assert "epochs: 5" in text and "# passes [whole number >= 1, or null]" in text
    assert "hidden: [64, 32]" in text and "[list of whole numbers >= 1]" in text
    assert "compile: auto" in text and "[one of auto, true, false]" in text
    assert validate(from_dict(Cfg(), yaml.safe_load(text), "shown")) == Cfg()
    assert [k.name for k in keys(Cfg)][:3] == ["seed", "model.hidden", "model.act"]
