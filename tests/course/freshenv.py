"""A fresh virtual environment with dlcc installed from its wheel, as a student gets it.

The wheel is built from this checkout; dlcc's dependencies (torch, numpy, ...) are not
downloaded again: a folder of links to this environment's packages (dlcc itself left out)
is put on the fresh environment's path, so pip sees them as installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from dlcc.course.grading import wheel


def site_packages(venv: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))


def dependencies_view(dest: Path) -> Path:
    """Links to this environment's installed packages, dlcc (editable) excluded."""
    dest.mkdir(parents=True)
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        name = entry.name.lower()
        if name.startswith(("dlcc", "__editable__", "_dlcc")) or name.endswith(".pth") \
                or name == "__pycache__":
            continue
        (dest / entry.name).symlink_to(entry)
    return dest


def make(root: Path, install_wheel: bool = True) -> tuple[Path, Path]:
    """(the fresh environment, the wheel) under root."""
    whl = wheel.build(root / "wheels")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # the fresh environment's own setuptools would hide the newer one torch requires
    subprocess.run([str(py), "-m", "pip", "uninstall", "-y", "-q", "setuptools"],
                   check=False, capture_output=True)
    deps = dependencies_view(root / "deps")
    (site_packages(venv) / "dlcc-test-deps.pth").write_text(str(deps) + "\n")
    if install_wheel:
        run(venv, ["-m", "pip", "install", "-q", "--no-index", "--no-deps", str(whl)])
    return venv, whl


def run(venv: Path, args: list[str], cwd: Path | None = None, check: bool = True,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the fresh environment's python with `args` (a module call, usually)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLCC_ASSIGNMENTS",
                                                               "VIRTUAL_ENV")}
    clean["PATH"] = f"{venv / 'bin'}:{clean.get('PATH', '/usr/bin:/bin')}"
    clean.update(env or {})
    command = args if args and args[0].startswith("/") else [str(venv / "bin" / "python"), *args]
    proc = subprocess.run(command, cwd=cwd, env=clean,
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc


def dlcc(venv: Path, args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """The `dlcc` command the wheel installed in the fresh environment."""
    return run(venv, [str(venv / "bin" / "dlcc"), *args], cwd=cwd, check=check)
