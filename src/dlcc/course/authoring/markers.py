"""Solution markers: find the regions in a student file and replace them with stubs.

A region is a block of whole lines between two comment lines, indented like the code inside:

        # === BEGIN SOLUTION A1.2 ===
        # HINT: z1 = X W1 + b1, then the sigmoid   (hint lines are kept in the release)
        z1 = data @ params["W1"] + params["b1"]
        ...
        # === END SOLUTION ===

The release turns it into

        # TODO (A1.2): your code here
        # HINT: z1 = X W1 + b1, then the sigmoid
        raise NotImplementedError("A1.2: forward_pass is not implemented yet")
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)# === BEGIN SOLUTION (?P<task>[^\s=]+) ===[ \t]*$")
END_RE = re.compile(r"^(?P<indent>[ \t]*)# === END SOLUTION ===[ \t]*$")
LOOSE_RE = re.compile(r"(BEGIN|END)[ _-]*SOL|={3}\s*(BEGIN|END)\b", re.IGNORECASE)
HINT_RE = re.compile(r"^[ \t]*# HINT:")


@dataclass
class Region:
    file: str
    task: str
    begin: int          # 1-based line of the BEGIN marker
    end: int            # 1-based line of the END marker
    indent: str
    body: list[str] = field(default_factory=list)   # the lines between the markers
    function: str = "module level code"
    qualname: str = ""   # "Class.method" or "function" holding the region ("" at module level)

    @property
    def hints(self) -> list[str]:
        return [line.strip() for line in self.body if HINT_RE.match(line)]

    @property
    def code(self) -> str:
        """The region's lines, dedented (hint lines included; they are comments)."""
        lines = [line[len(self.indent):] if line.startswith(self.indent) else line.lstrip()
                 for line in self.body]
        return "\n".join(lines) + "\n"


@dataclass
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


def parse_regions(text: str, filename: str) -> tuple[list[Region], list[Problem]]:
    """Find the solution regions of one file, and every marker problem in it."""
    regions: list[Region] = []
    problems: list[Problem] = []
    current: Region | None = None
    for no, line in enumerate(text.splitlines(), start=1):
        begin, end = BEGIN_RE.match(line), END_RE.match(line)
        if begin:
            if current is not None:
                problems.append(Problem(filename, no, f"BEGIN SOLUTION inside the region opened at "
                                        f"line {current.begin} (regions cannot nest; END missing?)"))
            current = Region(filename, begin["task"], no, 0, begin["indent"])
        elif end:
            if current is None:
                problems.append(Problem(filename, no, "END SOLUTION without a BEGIN SOLUTION"))
                continue
            if end["indent"] != current.indent:
                problems.append(Problem(filename, no, f"END SOLUTION is indented differently from "
                                        f"its BEGIN at line {current.begin}"))
            current.end = no
            regions.append(current)
            current = None
        elif LOOSE_RE.search(line):
            problems.append(Problem(filename, no, "malformed solution marker; write exactly "
                                    "`# === BEGIN SOLUTION <task> ===` / `# === END SOLUTION ===`"))
        elif current is not None:
            current.body.append(line)
    if current is not None:
        problems.append(Problem(filename, current.begin, "BEGIN SOLUTION is never closed"))
    _name_functions(text, regions)
    for r in regions:
        if not any(line.strip() and not line.strip().startswith("#") for line in r.body):
            problems.append(Problem(filename, r.begin, f"region {r.task} holds no code"))
        try:
            ast.parse(r.code)
        except SyntaxError as exc:
            problems.append(Problem(filename, r.begin, f"region {r.task} is not a block of complete "
                                    f"statements ({exc.msg}, region line {exc.lineno})"))
    return regions, problems


def _name_functions(text: str, regions: list[Region]) -> None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return
    scopes: list[tuple[ast.AST, str]] = []   # every function and class, with its dotted name

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scopes.append((child, prefix + child.name))
                visit(child, prefix + child.name + ".")

    visit(tree, "")
    for r in regions:
        inside = [(n, q) for n, q in scopes if n.lineno <= r.begin <= (n.end_lineno or n.lineno)
                  and not isinstance(n, ast.ClassDef)]
        if inside:
            node, qualname = max(inside, key=lambda nq: nq[0].lineno)
            r.function, r.qualname = node.name, qualname


def stub_lines(region: Region) -> list[str]:
    where = region.function if region.function == "module level code" else f"{region.function}()"
    out = [f"{region.indent}# TODO ({region.task}): your code here"]
    out += [f"{region.indent}{hint}" for hint in region.hints]
    out.append(f'{region.indent}raise NotImplementedError("{region.task}: this part of {where} '
               'is not implemented yet")')
    return out


def strip_solutions(text: str, regions: list[Region]) -> str:
    """The file as released: every region replaced by its stub."""
    lines = text.splitlines()
    out: list[str] = []
    by_begin = {r.begin: r for r in regions}
    skip_until = 0
    for no, line in enumerate(lines, start=1):
        if no <= skip_until:
            continue
        if no in by_begin:
            out.extend(stub_lines(by_begin[no]))
            skip_until = by_begin[no].end
            continue
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
