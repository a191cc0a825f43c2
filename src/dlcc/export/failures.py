"""Turning an exporter's failure into one line a user can act on.

The common failure is control flow that depends on the *values* of a tensor (`if x.sum() > 0:`),
which a graph of tensor operations cannot hold: torch.export stops with a "data-dependent"
guard, tracing silently records one branch. Both are reported with the line of the model's
code that branched.
"""

from __future__ import annotations

import re

from dlcc.errors import InputError

FIX = ("make the branch a tensor operation (torch.where), or export with --format torchscript --mode script, "
       "which keeps Python control flow")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _calling_line(text: str) -> str:
    """`file:line: code` of the model code named in an exporter's traceback text, or ''."""
    match = re.search(r'The following call raised this error:\s*\n\s*File "([^"]+)", line (\d+), in (\w+)\n\s*(.+)',
                      text)
    if match:
        return f"{match.group(1)}:{match.group(2)} in {match.group(3)}: `{match.group(4).strip()}`"
    match = re.search(r"# File: (\S+?):(\d+) in (\w+), code: (.+)", text)
    return f"{match.group(1)}:{match.group(2)} in {match.group(3)}: `{match.group(4).strip()}`" if match else ""


def export_failure(exc: BaseException, what: str) -> InputError:
    """A one-line `InputError` for an exception raised while exporting `what` (a model name)."""
    text = str(exc)
    if "data-dependent" in text or "GuardOnDataDependentSymNode" in text:
        where = _calling_line(text)
        op = re.search(r"torch\.ops\.(aten\.\w+)\.default\((?:[^()]*)\);[^\n]*\n[^\n]*item", text)
        op_name = op.group(1) if op else "aten.item"
        return InputError(f"cannot export {what}: its control flow depends on the input's values "
                          f"({op_name}: a tensor read as a Python value" + (f", at {where})" if where else ")"),
                          fix=FIX)
    summary = re.search(r"## Exception summary\s*\n+(.+)", text)
    reason = summary.group(1).strip() if summary else _first_line(text)
    where = _calling_line(text)
    return InputError(f"cannot export {what}: {reason[:300]}" + (f" (at {where})" if where else ""),
                      fix="see docs/export.md for what the exporters support")
