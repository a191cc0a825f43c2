"""DESIGN.md's rule: lower layers never import higher ones (checked on the source, imports
inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

import dlcc

RANK = {
    "errors": 0, "__version__": 0, "utils": 1, "config": 1, "data": 2, "scratch": 3,
    "models": 4, "metrics": 4, "losses": 4, "text": 4, "signals": 4,
    "attacks": 4, "interpret": 4, "export": 4,
    "train": 5, "track": 5, "tune": 5, "generative": 5,
    "fewshot": 5, "contrastive": 5, "transfer": 5, "restore": 5,
    "recipes": 6, "course": 6, "app": 6, "lectures": 6, "cluster": 6, "predict": 6,
    "serve": 6, "pipeline": 6,
    "commands": 7, "cli": 7, "__main__": 7,
}
SRC = Path(dlcc.__file__).parent


def _layer(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0].removesuffix(".py")


def _imported_layers(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = node.module.split(".")
            if names[0] == "dlcc":
                if len(names) > 1:
                    yield names[1], node.lineno
                else:
                    for alias in node.names:
                        yield alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "dlcc" and len(names) > 1:
                    yield names[1], node.lineno


def test_every_module_has_a_layer():
    for path in SRC.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == SRC:
            continue
        assert _layer(path) in RANK, f"{path}: add its layer to RANK in {__file__}"


def test_no_module_imports_a_higher_layer():
    problems = []
    for path in SRC.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == SRC:
            continue
        own = _layer(path)
        for target, line in _imported_layers(ast.parse(path.read_text(), str(path))):
            if RANK.get(target, 0) > RANK[own]:
                problems.append(f"{path.relative_to(SRC)}:{line} ({own}) imports dlcc.{target}")
    assert not problems, "\n".join(problems)
