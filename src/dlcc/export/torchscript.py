"""TorchScript export, as the course teaches it: `torch.jit.trace` (record the operations run
on an example) and `torch.jit.script` (compile the Python source, control flow included).

TorchScript is deprecated upstream in favour of torch.export; dlcc keeps it because the
course teaches it and because scripting is the one way here to keep control flow that depends
on tensor values. A trace is checked on a second input of another batch size and other values:
when it does not reproduce the model (it recorded one branch of an `if` on tensor values),
the export is refused with the line that branched.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from dlcc.errors import InputError
from dlcc.export.failures import FIX
from dlcc.export.metadata import KEY

MODES = ("trace", "script")


def _check_trace(model: nn.Module, traced, probe: Tensor, notes: list[str], what: str, atol: float) -> None:
    with torch.no_grad():
        want, got = model(probe), traced(probe)
    want, got = (want[0], got[0]) if isinstance(want, tuple) else (want, got)
    if got.shape != want.shape or not torch.allclose(got, want, atol=atol, rtol=1e-4):
        where = f" ({notes[0]})" if notes else ""
        raise InputError(f"cannot trace {what}: the trace does not reproduce the model on another input, so its "
                         f"control flow depends on the input{where}", fix=FIX)


def _probes(example: Tensor) -> list[Tensor]:
    """Other inputs for checking a trace: the example negated (every odd statistic of it, such as
    a sum or a mean, changes sign, so a branch on one takes the other side) and the example with
    one more row of fresh values (another batch size). Token ids stay ids: reversed, one more row."""
    if not example.is_floating_point():
        return [example.flip(-1), torch.cat([example, example[:1].flip(-1)])]
    return [-example, torch.cat([example, torch.randn_like(example[:1])])]


def to_torchscript(model: nn.Module, example: Tensor, path: Path, metadata: dict, *, mode: str = "trace",
                   probe: Tensor | None = None, atol: float = 1e-4) -> Path:
    """Write `model` (eval mode) as a TorchScript archive with `metadata` as its `dlcc.json`.

    `probe`: another input a trace is checked on (default: `_probes(example)`, the example
    negated and the example with one more row).
    """
    if mode not in MODES:
        raise InputError(f"TorchScript mode {mode!r} is not one of {', '.join(MODES)}", fix="use --mode trace")
    model = model.eval()
    what = type(model).__name__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if mode == "script":
                module = torch.jit.script(model)
            else:
                with torch.no_grad():
                    module = torch.jit.trace(model, example, check_trace=False)
        except Exception as exc:   # TorchScript's frontend raises RuntimeError and its own error types
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            raise InputError(f"cannot {mode} {what}: {' '.join(lines[:2])[:300]}",
                             fix="try the other mode (--mode trace / --mode script), or --format onnx") from exc
    notes = [f"{w.filename}:{w.lineno}: {str(w.message).splitlines()[0]}" for w in caught
             if issubclass(w.category, torch.jit.TracerWarning)]
    if mode == "trace":
        for other in _probes(example) if probe is None else [probe]:
            _check_trace(model, module, other, notes, what, atol)
    tmp = path.with_name(path.name + ".tmp")
    try:   # write beside the target and rename: a failed write leaves no file and keeps an old one
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)   # "torch.jit is deprecated": docs/export.md
            torch.jit.save(module, str(tmp), _extra_files={KEY: json.dumps(metadata)})
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
