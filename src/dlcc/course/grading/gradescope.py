"""`dlcc course gradescope ID --out autograder.zip [--wheels DIR]`: a Gradescope autograder.

The archive, unpacked by Gradescope into /autograder/source:

    setup.sh          run once at image build: bubblewrap from apt (best effort), then dlcc
                      from the wheels inside the archive, offline (pip --no-index)
    run_autograder    run per submission: `python3 -m dlcc.course.grading.autograder`, which
                      grades /autograder/submission into /autograder/results/results.json
    wheels/           dlcc's wheel (built from this checkout) and the wheels in --wheels DIR
                      (dlcc's dependencies for Gradescope's Python, e.g. made with
                      `pip download dlcc --dest DIR --only-binary :all: --python-version 3.10
                      --platform manylinux2014_x86_64 --no-deps` per package)
    assignments/ID/   the instructor's tree: solutions, hidden tests, answer key
    data/             the datasets the assignment declares (`data:`), so grading is offline
    gradescope.json   what was built, from which dlcc

The assignment must pass `dlcc course check` first; a failing check builds nothing.
`AUTOGRADER_ROOT` (default /autograder) and `DLCC_PYTHON` (default python3) let a test run
the archive in any folder, laid out as Gradescope lays it out.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

from dlcc.course.authoring.format import Assignment
from dlcc.course.grading import wheel
from dlcc.errors import InputError
from dlcc.utils.io import atomic_write_zip

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="${DLCC_PYTHON:-python3}"
# bubblewrap: the allowlist sandbox. Without it dlcc grades in its fallback and says so in
# every results file.
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; } \\
        || echo "setup.sh: bubblewrap could not be installed" >&2
fi
"$py" -m pip install --no-index --find-links "$here/wheels" dlcc
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it always leaves results/results.json.
root="${{AUTOGRADER_ROOT:-/autograder}}"
exec "${{DLCC_PYTHON:-python3}}" -m dlcc.course.grading.autograder "$root" {aid}
"""

SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")


def _check(a: Assignment, run_tests: bool, isolation_mode: str, progress) -> None:
    from dlcc.course.authoring.check import check

    progress(f"checking {a.id} (dlcc course check{'' if run_tests else ' --no-tests'}) ...")
    report = check(a, run_tests=run_tests, isolation_mode=isolation_mode,
                   progress=lambda m: progress(f"   {m}"))
    if not report.ok:
        raise InputError(f"{a.id} fails `dlcc course check` ({len(report.problems)} problem(s), "
                         f"first: {report.problems[0]}); no autograder was built",
                         fix=f"run `dlcc course check {a.id}` and fix what it reports")


def _data(a: Assignment, dest: Path) -> list[str]:
    """Copy the raw files of the declared datasets into dest/<folder>/<relpath>."""
    from dlcc.data.resolve import ensure

    names = []
    for name in a.data:
        files = ensure(name)
        for rel, path in files.paths.items():
            target = dest / (files.dataset.folder or files.dataset.name) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        names.append(files.dataset.name)
    return names


def build(a: Assignment, out: Path, *, force: bool = False, wheels: Path | None = None,
          run_tests: bool = True, isolation_mode: str = "auto", progress=print) -> Path:
    if out.suffix.lower() != ".zip":
        raise InputError(f"--out {out} should be a .zip file", fix="pass --out autograder.zip")
    if out.exists() and not force:
        raise InputError(f"{out} already exists; dlcc will not overwrite it",
                         fix="pass --force to replace it, or choose another --out")
    if wheels is not None and not (wheels.is_dir() and any(wheels.glob("*.whl"))):
        raise InputError(f"--wheels {wheels} is not a folder of .whl files",
                         fix="make it with `pip download ... --dest DIR` (see docs/course.md)")
    _check(a, run_tests, isolation_mode, progress)
    with tempfile.TemporaryDirectory(prefix="dlcc-gradescope-") as tmp:
        stage = Path(tmp) / "source"
        (stage / "wheels").mkdir(parents=True)
        progress("building the dlcc wheel ...")
        own = wheel.build(stage / "wheels")
        for extra in sorted(wheels.glob("*.whl")) if wheels else []:
            if not extra.name.startswith("dlcc-"):
                shutil.copyfile(extra, stage / "wheels" / extra.name)
        shutil.copytree(a.root, stage / "assignments" / a.id, ignore=SKIP)
        datasets = _data(a, stage / "data")
        (stage / "setup.sh").write_text(SETUP)
        (stage / "run_autograder").write_text(RUN.format(aid=a.id))
        (stage / "gradescope.json").write_text(json.dumps({
            "assignment": a.id, "dlcc_wheel": own.name, "datasets": datasets,
            "dependency_wheels": sorted(p.name for p in (stage / "wheels").glob("*.whl") if p != own),
            "built": dt.datetime.now().isoformat(timespec="seconds")}, indent=1) + "\n")
        _zip(stage, out)
    return out


def _zip(stage: Path, out: Path) -> None:
    members = {str(p.relative_to(stage)): p.read_bytes() for p in sorted(stage.rglob("*")) if p.is_file()}
    atomic_write_zip(out, members, executable=("setup.sh", "run_autograder"))
