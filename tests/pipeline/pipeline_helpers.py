"""Helpers for running real `dvc` and `git` in temporary repositories for the pipeline tests.

`sh(...)` runs a command in a project folder with an environment that works offline and
commits without a global git identity; the venv's bin folder is first on PATH, so the
`dlcc pipeline stage ...` commands in dvc.yaml find this checkout's dlcc.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BIN = str(Path(sys.executable).parent)
# the smallest pipeline: one small hidden layer, one epoch, TorchScript export (ONNX takes ~7 s)
TINY = ["train.epochs=1", "model.hidden=[32]", "pipeline.export_format=torchscript"]


def env(**extra: str) -> dict[str, str]:
    out = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1",
           "DVC_NO_UPDATER": "1", "GIT_AUTHOR_NAME": "dlcc tests", "GIT_AUTHOR_EMAIL": "tests@dlcc.invalid",
           "GIT_COMMITTER_NAME": "dlcc tests", "GIT_COMMITTER_EMAIL": "tests@dlcc.invalid",
           "GIT_CONFIG_NOSYSTEM": "1", "PYTHONUNBUFFERED": "1"}
    out.update(extra)
    return out


def sh(*argv: str, cwd: Path, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
    done = subprocess.run(list(argv), cwd=cwd, env=env(**extra), capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def stages_run(output: str) -> list[str]:
    """The stages a `dvc repro` / `dvc exp run` ran, in order (its 'Running stage' lines)."""
    return re.findall(r"Running stage '([^']+)'", output)


def init(recipe: str, path: Path, *more: str) -> subprocess.CompletedProcess:
    sets = [a for s in TINY for a in ("--set", s)]
    return sh(sys.executable, "-m", "dlcc", "pipeline", "init", recipe, str(path), *sets, *more, cwd=path.parent)


