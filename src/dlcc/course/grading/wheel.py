"""Building dlcc's own wheel from a source checkout (for the Gradescope archive and the tests).

The checkout's `pyproject.toml`, `README.md` and `src/` are copied to a temporary folder first,
so a build never leaves `build/` or egg-info behind in the repository. Built without build
isolation and without the package index when this environment has setuptools >= 77 (so it
works offline), else pip fetches the build requirements from the package index.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dlcc.errors import ConfigError


def source_checkout() -> Path:
    """The repository dlcc runs from (an editable install), or a clear error."""
    import dlcc

    root = Path(dlcc.__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "src" / "dlcc").is_dir():
        raise ConfigError(f"dlcc at {Path(dlcc.__file__).parent} is not a source checkout, so its "
                          "wheel cannot be built here",
                          fix="run this in a clone of the course repository (pip install -e .)")
    return root


def _setuptools_is_recent() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


def build(dest: Path, root: Path | None = None) -> Path:
    """Build the wheel of the checkout at `root` (default: this one) into `dest`; its path."""
    root = root or source_checkout()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlcc-wheel-") as tmp:
        copy = Path(tmp) / "dlcc"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copyfile(root / name, copy / name)
        shutil.copytree(root / "src", copy / "src",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dest), str(copy)]
        if _setuptools_is_recent():  # offline: no build environment, no index asked
            cmd[4:4] = ["--no-build-isolation", "--no-index"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("dlcc-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise ConfigError(f"building the dlcc wheel failed: {(proc.stderr or proc.stdout)[-800:]}",
                          fix="run `pip wheel --no-deps .` in the repository to see why")
    return wheels[-1]
