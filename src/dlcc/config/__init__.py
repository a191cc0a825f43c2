"""Typed run configurations: dataclasses whose fields carry help, ranges and choices.

A recipe declares its settings once, as plain dataclasses:

    from dlcc.config import setting, section

    @dataclass
    class Model:
        hidden: list[int] = setting([256, 128], "hidden layer sizes", ge=1)
        activation: Literal["relu", "gelu", "tanh"] = setting("relu", "hidden activation")

    @dataclass
    class Config:
        seed: int = setting(0, "random seed", ge=0)
        model: Model = section(Model)

and everything else follows from the declaration:

    cfg = apply_overrides(Config(), ["model.hidden=[64, 32]", "model.activation=gelu"])
    validate(cfg)                         # ranges, choices and each section's check()
    to_dict(cfg)                          # what config.yaml records
    from_dict(Config, data, "run/config.yaml")   # back, strictly
    render(cfg)                           # `dlcc run R --show`: every key with its help

Why dataclasses and not pydantic: the standard library is enough for a few dozen typed keys
per recipe, the classes stay readable top to bottom, and `--set` text is parsed by our own
small parser anyway (YAML's 1.1 booleans read `off` as False, which an `amp: off` setting
must not do). See docs/configs.md.
"""

from dlcc.config.schema import Key, keys, section, setting
from dlcc.config.values import apply_overrides, apply_values, diff, from_dict, to_dict, validate
from dlcc.config.show import render

__all__ = ["Key", "apply_overrides", "apply_values", "diff", "from_dict", "keys", "render", "section",
           "setting", "to_dict", "validate"]
