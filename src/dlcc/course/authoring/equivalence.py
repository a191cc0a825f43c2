"""Is a surviving mutant equivalent to the solution? Compared on 100 random float64 inputs.

The assignment supplies probes in `hidden/mutation.py` (never released; it may import the
hidden test modules' helpers): a mapping from a function's name, as `module.function` or `module.Class.method`, to `probe(module, rng)`,
which draws float64 inputs from the NumPy generator `rng`, calls the function of `module`
and returns what it computed (numbers, arrays, lists, dicts: anything the codec carries):

    PROBES = {"z9_net.forward": lambda m, rng: m.forward(rng.normal(size=(4, 3)))}

Each side (the solution, the mutant) runs in its own Python process, with NumPy's, Python's
and (if loaded) torch's global generators seeded alike before every input, so functions
that draw random numbers draw the same ones. A survivor counts as equivalent only when all
outputs match (arrays to rtol 1e-9, atol 1e-12; the same exception counts as the same
output). Without a probe for its function, a survivor counts as not equivalent.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlcc.course.authoring.format import Assignment
from dlcc.course.authoring.mutants import Mutant, write_solution_with
from dlcc.course.sandbox import codec

PROBES_FILE = "mutation.py"
N_INPUTS = 100
RTOL, ATOL = 1e-9, 1e-12


@dataclass
class Verdict:
    equivalent: bool
    reason: str


def probes_path(a: Assignment) -> Path:
    return a.root / "hidden" / PROBES_FILE


def _run_side(a: Assignment, folder: Path, module: str, qualname: str, n: int,
              timeout: float) -> tuple[bytes | None, str]:
    for name in a.given_files:
        if (a.code_dir / name).is_file():
            shutil.copyfile(a.code_dir / name, folder / name)
    for test in sorted(a.hidden_tests_dir.glob("*.py")) if a.hidden_tests_dir.is_dir() else []:
        shutil.copyfile(test, folder / test.name)  # probes may reuse the tests' input makers
    shutil.copyfile(probes_path(a), folder / "_dlcc_probes.py")
    out = folder / "outputs.bin"
    cmd = [sys.executable, "-m", "dlcc.course.authoring.equivalence",
           json.dumps({"dir": str(folder), "module": module, "qualname": qualname, "n": n,
                       "out": str(out)})]
    try:
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=timeout,
                              env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1",
                                   "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg",
                                   "HOME": str(folder)})
    except subprocess.TimeoutExpired:
        return None, f"did not finish {n} inputs within {timeout:g} s"
    if proc.returncode != 0 or not out.is_file():
        return None, (proc.stderr or proc.stdout)[-500:]
    return out.read_bytes(), ""


def same(x, y) -> bool:
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray) or isinstance(x, np.generic):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape or (x.dtype.kind in "fc") != (y.dtype.kind in "fc"):
            return False
        return bool(np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True))
    if isinstance(x, float) and isinstance(y, (int, float)):
        return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=RTOL, abs_tol=ATOL)
    if isinstance(x, (list, tuple)):
        return type(x) is type(y) and len(x) == len(y) and all(same(a, b) for a, b in zip(x, y))
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    return x == y


def check(a: Assignment, mutant: Mutant, n: int = N_INPUTS, timeout: float = 300) -> Verdict:
    module = mutant.file.removesuffix(".py")
    key = f"{module}.{mutant.function}"
    if not probes_path(a).is_file():
        return Verdict(False, f"no {PROBES_FILE} in hidden/: equivalence not checked")
    with tempfile.TemporaryDirectory(prefix="dlcc-equivalence-") as tmp:
        outputs = []
        for side in ("solution", "mutant"):
            folder = Path(tmp) / side
            folder.mkdir()
            if side == "mutant":
                write_solution_with(a, mutant, folder)
            else:
                for name in a.student_files:
                    shutil.copyfile(a.code_dir / name, folder / name)
            data, error = _run_side(a, folder, module, mutant.function, n, timeout)
            if data is None:
                if "no probe" in error:
                    return Verdict(False, f"no probe for {key} in hidden/{PROBES_FILE}")
                return Verdict(False, f"the {side} failed the probe: {error.strip()[-200:]}")
            outputs.append(codec.decode(data))
            broken = [o[1] for o in outputs[0] if o[0] == "raised"]
            if side == "solution" and broken:  # a probe that fails makes everything look equal
                return Verdict(False, f"the probe for {key} raises {broken[0]} on the solution; "
                                      f"fix hidden/{PROBES_FILE}")
    for i, (x, y) in enumerate(zip(*outputs)):
        if not same(x, y):
            return Verdict(False, f"differs from the solution on input {i}")
    return Verdict(True, f"same outputs as the solution on {n} random float64 inputs")


# --------------------------------------------------------------------------- one side


def _seed(i: int) -> None:
    import random

    np.random.seed(i)
    random.seed(i)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(i)


def _outputs(cfg: dict) -> list:
    import importlib

    sys.path.insert(0, cfg["dir"])
    probes = importlib.import_module("_dlcc_probes").PROBES
    key = f"{cfg['module']}.{cfg['qualname']}"
    if key not in probes:
        raise SystemExit(f"no probe for {key}")
    probe, module = probes[key], importlib.import_module(cfg["module"])
    out = []
    for i in range(int(cfg["n"])):
        _seed(i)
        try:
            out.append(["value", probe(module, np.random.default_rng(i))])
        except Exception as exc:  # the same exception on both sides is the same output
            out.append(["raised", type(exc).__name__])
    return out


if __name__ == "__main__":
    config = json.loads(sys.argv[1])
    Path(config["out"]).write_bytes(codec.encode(_outputs(config), keep=lambda v: repr(type(v))))
