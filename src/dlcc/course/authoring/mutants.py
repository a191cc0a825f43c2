"""Single-line mutants of an assignment's solution regions (for `dlcc course mutate`).

Every expression that starts and ends on one line of a solution region is mutated one way at
a time, and the line is rewritten around it; the rest of the file stays byte for byte:

    operators     + - * / // % ** @ swapped (a + b -> a - b, a * b -> a / b, a @ b -> a * b),
                  augmented assignments likewise, and -> or, comparisons flipped (< <=, == !=)
    numbers       n -> n + 1, n -> 0 (so range(1, L) -> range(0, L)), True <-> False
    names         numpy/torch twins swapped by attribute: randn/rand, zeros/ones, sum/mean,
                  max/min, maximum/minimum, argmax/argmin, relu/sigmoid, exp/log, ...
    transposes    x.T -> x
    unary         -x -> x, not x -> x
    statements    a whole single-line statement -> pass

A mutated expression is put in parentheses, so that precedence never changes what it means.
Mutants that no longer compile are dropped.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from pathlib import Path

from dlcc.course.authoring.format import Assignment
from dlcc.course.authoring.markers import Region, parse_regions

BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
          ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult}
COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
           ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
TWINS = {"randn": "rand", "rand": "randn", "zeros": "ones", "ones": "zeros", "zeros_like": "ones_like",
         "ones_like": "zeros_like", "sum": "mean", "mean": "sum", "max": "min", "min": "max",
         "maximum": "minimum", "minimum": "maximum", "argmax": "argmin", "argmin": "argmax",
         "relu": "sigmoid", "sigmoid": "relu", "tanh": "sigmoid", "exp": "log", "log": "exp",
         "sqrt": "square", "square": "sqrt", "softmax": "log_softmax", "log_softmax": "softmax",
         "mse_loss": "l1_loss", "l1_loss": "mse_loss", "train": "eval", "eval": "train",
         "zero_grad": "step", "floor": "ceil", "ceil": "floor", "cat": "stack", "stack": "cat",
         "MaxPool2d": "AvgPool2d", "AvgPool2d": "MaxPool2d", "ReLU": "Sigmoid", "Sigmoid": "ReLU"}
SIMPLE_STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Raise,
                     ast.Assert, ast.Delete)


@dataclass(frozen=True)
class Mutant:
    file: str          # student file name
    line: int          # 1-based line in the solution file
    task: str
    function: str      # "Class.method" or "function" holding the region
    operator: str      # e.g. "+ -> -", "randn -> rand", "statement -> pass"
    before: str        # the line as written (stripped)
    after: str         # the mutated line (stripped)
    source: str        # the whole mutated file

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.operator}:{self.after}"


def _op(node) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@", ast.Lt: "<", ast.LtE: "<=",
            ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is",
            ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.And: "and",
            ast.Or: "or"}[type(node)]


def variants(node: ast.AST) -> list[tuple[str, ast.AST | None]]:
    """(operator description, replacement node) for one node; None replaces a statement
    with `pass`."""
    out: list[tuple[str, ast.AST | None]] = []
    if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
        new = copy.deepcopy(node)
        new.op = BINOPS[type(node.op)]()
        out.append((f"{_op(node.op)} -> {_op(new.op)}", new))
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        out.append((f"{_op(node.op)} -> {_op(new.op)}", new))
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE:
        new = copy.deepcopy(node)
        new.ops = [COMPARE[type(node.ops[0])]()]
        out.append((f"{_op(node.ops[0])} -> {_op(new.ops[0])}", new))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        out.append((f"{node.value} -> {not node.value}", ast.Constant(not node.value)))
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        out.append((f"{node.value!r} -> {node.value + 1!r}", ast.Constant(node.value + 1)))
        if node.value != 0:
            out.append((f"{node.value!r} -> 0", ast.Constant(type(node.value)(0))))
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        out.append(("x.T -> x", copy.deepcopy(node.value)))
    elif isinstance(node, ast.Attribute) and node.attr in TWINS:
        new = copy.deepcopy(node)
        new.attr = TWINS[node.attr]
        out.append((f"{node.attr} -> {new.attr}", new))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        out.append(("-x -> x" if isinstance(node.op, ast.USub) else "not x -> x",
                    copy.deepcopy(node.operand)))
    elif isinstance(node, ast.AugAssign) and type(node.op) in BINOPS:
        new = copy.deepcopy(node)
        new.op = BINOPS[type(node.op)]()
        out.append((f"{_op(node.op)}= -> {_op(new.op)}=", new))
    if isinstance(node, SIMPLE_STATEMENTS):
        out.append(("statement -> pass", None))
    return out


def _text(node: ast.AST | None, original: ast.AST) -> str:
    if node is None:
        return "pass"
    text = ast.unparse(node)
    if isinstance(original, ast.expr) and isinstance(node, (ast.BinOp, ast.BoolOp, ast.Compare,
                                                            ast.UnaryOp)):
        return f"({text})"
    return text


def _region_lines(region: Region) -> set[int]:
    """Lines of code inside the region (not comments, not blank)."""
    lines = set()
    for offset, text in enumerate(region.body, start=region.begin + 1):
        if text.strip() and not text.strip().startswith("#"):
            lines.add(offset)
    return lines


def file_mutants(a: Assignment, name: str) -> list[Mutant]:
    text = (a.code_dir / name).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    regions, problems = parse_regions(text, name)
    if problems:
        return []
    tree = ast.parse(text)
    by_line = {line: r for r in regions for line in _region_lines(r)}
    out, seen = [], set()
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line not in by_line or getattr(node, "end_lineno", None) != line:
            continue
        if isinstance(node, ast.stmt) and node.col_offset != len(lines[line - 1]) - len(lines[line - 1].lstrip()):
            continue  # a statement after another on the same line (`a; b`): left alone
        region = by_line[line]
        original = lines[line - 1]
        for operator, new in variants(node):
            after = original[:node.col_offset] + _text(new, node) + original[node.end_col_offset:]
            if after == original:
                continue
            source = "".join(lines[:line - 1]) + after + "".join(lines[line:])
            try:
                compile(source, name, "exec")
            except SyntaxError:
                continue
            m = Mutant(name, line, region.task, region.qualname or "module level code", operator,
                       original.strip(), after.strip(), source)
            if m.id not in seen:
                seen.add(m.id)
                out.append(m)
    return sorted(out, key=lambda m: (m.line, m.operator, m.after))


def all_mutants(a: Assignment) -> list[Mutant]:
    return [m for name in a.student_files if (a.code_dir / name).is_file()
            for m in file_mutants(a, name)]


def write_solution_with(a: Assignment, mutant: Mutant, dest: Path) -> None:
    """The solution's student files in `dest`, with `mutant` applied to its file."""
    for name in a.student_files:
        text = mutant.source if name == mutant.file else (a.code_dir / name).read_text(encoding="utf-8")
        (dest / name).write_text(text, encoding="utf-8")
