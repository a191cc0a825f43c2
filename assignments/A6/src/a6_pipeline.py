"""Helpers the tests use to build a real pipeline beside your code (given; you do not need to
call them, but reading them shows what `dvc repro` does with your stage).

They run `dlcc pipeline init`, `git` and `dvc` as subprocesses in a fresh temporary folder,
with the evaluate stage of dvc.yaml replaced by `python a6_evaluate.py` (your file).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
# the smallest pipeline: one hidden layer of 32, one epoch, TorchScript export
TINY = ["train.epochs=1", "model.hidden=[32]", "pipeline.export_format=torchscript"]


def _env() -> dict:
    bin_dir = str(Path(sys.executable).parent)
    home = Path(tempfile.gettempdir()) / "a6-home"
    home.mkdir(exist_ok=True)
    certificates = {}
    if not Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt").is_file():
        import certifi   # dvc's git library loads certificates when it starts, even offline

        certificates = {"SSL_CERT_FILE": certifi.where()}
    return {**os.environ, **certificates, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            # the grader's sandbox has no /var/tmp (dvc's default site cache) and a bare passwd
            "HOME": str(home), "USER": os.environ.get("USER", "student"), "LOGNAME": os.environ.get("USER", "student"),
            "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"), "DVC_NO_ANALYTICS": "1", "DVC_NO_UPDATER": "1", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "a6", "GIT_AUTHOR_EMAIL": "a6@example.invalid",
            "GIT_COMMITTER_NAME": "a6", "GIT_COMMITTER_EMAIL": "a6@example.invalid", "MPLBACKEND": "Agg"}


def sh(argv: list[str], cwd) -> str:
    """Run a command; its stdout and stderr together. A failure raises with their last lines."""
    done = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True)
    out = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{out[-2000:]}")
    return out


def make_project(epochs: int = 1) -> str:
    """A committed pipeline of mnist1d-mlp whose evaluate stage is your a6_evaluate.py; its path."""
    path = Path(tempfile.mkdtemp(prefix="a6-")) / "pipeline"
    sets = [a for s in [*TINY, f"train.epochs={epochs}"] for a in ("--set", s)]
    sh([sys.executable, "-m", "dlcc", "pipeline", "init", "mnist1d-mlp", str(path), *sets], path.parent)
    shutil.copyfile(HERE / "a6_evaluate.py", path / "a6_evaluate.py")
    spec = yaml.safe_load((path / "dvc.yaml").read_text())
    spec["stages"]["evaluate"]["cmd"] = f"{sys.executable} a6_evaluate.py"
    spec["stages"]["evaluate"]["deps"].append("a6_evaluate.py")
    (path / "dvc.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    sh(["git", "add", "-A"], path)
    sh(["git", "commit", "-qm", "pipeline"], path)
    return str(path)


def train_only(path: str) -> None:
    """Run the prepare and train stages without DVC (what your stage reads afterwards)."""
    for stage in ("prepare", "train"):
        sh([sys.executable, "-m", "dlcc", "pipeline", "stage", stage], path)


def repro(path: str, *args: str) -> list[str]:
    """`dvc repro` in the project; the stages it ran, in order."""
    return re.findall(r"Running stage '([^']+)'", sh(["dvc", "repro", *args], path))


def scratch_folder() -> str:
    """A new empty temporary folder beside your code."""
    return tempfile.mkdtemp(prefix="a6-scratch-")


def raw(path: str, name: str) -> str:
    """A file's exact text (no newline translation)."""
    with open(Path(path) / name, encoding="utf-8", newline="") as fh:
        return fh.read()


def read(path: str, name: str):
    """A file of the project: JSON as a dict, anything else as text."""
    text = (Path(path) / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def reference(path: str) -> dict:
    """What dlcc's own evaluate stage writes for the same model: {file name: content}, computed in
    a copy of the project so that your files stay as they are."""
    copy = Path(path).parent / "reference"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(path, copy, ignore=shutil.ignore_patterns(".git"))
    sh([sys.executable, "-m", "dlcc", "pipeline", "stage", "evaluate"], copy)
    return {name: read(str(copy), name) for name in ("metrics.json", "timings.json", "eval/predictions.csv")}


def torch_threads(n: int | None = None) -> int:
    """torch's CPU thread count in the process that runs your code; with `n`, set it first."""
    import torch

    if n is not None:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def evaluate_on_a_stopped_clock(path: str, readings: list[float]) -> dict:
    """Your evaluate_stage(path) while a6_evaluate's time.perf_counter (and time.monotonic,
    time.time) read `readings` in turn, then the last one for ever; what it returned."""
    import types

    import a6_evaluate

    real = a6_evaluate.time
    fake = types.SimpleNamespace(**{n: getattr(real, n) for n in dir(real) if not n.startswith("_")})
    left = list(readings)

    def now() -> float:
        return left.pop(0) if len(left) > 1 else left[0]

    fake.perf_counter = fake.monotonic = fake.time = now
    a6_evaluate.time = fake
    try:
        return a6_evaluate.evaluate_stage(path)
    finally:
        a6_evaluate.time = real


def plant_pickle(path: str, name: str) -> None:
    """Replace the project's file `name` (data/test_x.npy, say) by a pickled object array, what
    a tampered data file looks like; the original is kept as `name`.orig for `unplant`."""
    import numpy as np

    target = Path(path) / name
    target.replace(target.with_name(target.name + ".orig"))
    np.save(target, np.array([{"a": 1}], dtype=object), allow_pickle=True)


def unplant(path: str, name: str) -> None:
    """Put back the file that `plant_pickle` replaced."""
    target = Path(path) / name
    target.with_name(target.name + ".orig").replace(target)
