"""The documentation's examples still work: every `dlcc run` command in README.md and docs/
gives a valid configuration (settings are checked, nothing is trained), and every search space
in docs/tuning.md fits the recipe it is written for."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from dlcc.recipes import get_recipe, list_recipes
from dlcc.tune import parse_space
from dlcc.tune.params import to_overrides

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PLACEHOLDERS = ("DIR", "RECIPE", "NAME", "...", "<", "N ", "FILE", "k=v", "KEY=VALUE")


def _run_commands() -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip().strip("`")
            start = line.find("dlcc run ")
            if start < 0:
                continue
            command = re.split(r"\s#", line[start:])[0].split("`")[0].strip()
            words = shlex.split(command)[2:]
            first = next((w for w in words if not w.startswith("--") and "=" not in w), "")
            if (any(p in command for p in PLACEHOLDERS) or "--list" in command or "--resume" in command
                    or not first or first.isupper() or len(first) == 1):
                continue
            found.append((path.name, command))
    return found


COMMANDS = _run_commands()


def test_the_docs_have_run_commands():
    assert len(COMMANDS) > 20


@pytest.mark.parametrize("where, command", COMMANDS, ids=[c for _, c in COMMANDS])
def test_documented_run_commands_give_valid_configs(where, command):
    words = shlex.split(command)[2:]
    recipe, sets, preset, i = None, [], None, 0
    while i < len(words):
        word = words[i]
        if word == "--set":
            i += 1
            while i < len(words) and not words[i].startswith("--"):
                sets.append(words[i])
                i += 1
            continue
        if word == "--preset":
            preset, i = words[i + 1], i + 2
            continue
        if word.startswith("--"):
            i += 2 if word in ("--out", "--device", "--tracker", "--seed", "--engine") else 1
            continue
        recipe = recipe or word
        i += 1
    assert recipe in list_recipes(), f"{where}: {command}: no recipe {recipe!r}"
    get_recipe(recipe).make_config(sets, preset=preset)


def test_search_spaces_in_tuning_docs_fit_the_recipes():
    text = (REPO / "docs" / "tuning.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "parameters:" in b]
    assert blocks
    for block in blocks:
        space = parse_space(yaml.safe_load(block.replace("accu_val", "val_accuracy")), source="docs/tuning.md")
        for recipe in ("cifar10-mlp", "digits-mlp-numpy"):
            for name, param in space.params.items():
                for value in param.extremes():
                    get_recipe(recipe).make_config(to_overrides({name: value}))
