"""`dlcc pipeline init`: what it writes, and every input it refuses (exit 2, one line, nothing
written or overwritten). Fast: no `dvc repro` here (tests/pipeline/test_repro.py runs them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from dlcc.cli import main
from dlcc.pipeline.params import load_params
from pipeline_helpers import TINY, sh


def _init(path: Path, *more: str) -> int:
    return main(["pipeline", "init", "mnist1d-mlp", str(path), *[a for s in TINY for a in ("--set", s)], *more])


def test_init_writes_a_dvc_project_in_a_new_git_repository(tmp_path, dvc_home, capsys, monkeypatch):
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    project = tmp_path / "p"
    assert _init(project, "--remote", str(tmp_path / "remote")) == 0
    out = capsys.readouterr().out
    assert "initialised a new repository" in out and "git commit" in out
    assert (project / ".git").is_dir() and (project / ".dvc").is_dir()
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    assert list(stages) == ["prepare", "train", "evaluate", "export"]
    assert all(s["cmd"].startswith("dlcc pipeline stage ") for s in stages.values())
    # each stage declares exactly what it reads: epochs reach train, never prepare
    assert "train" in stages["train"]["params"] and "train" not in stages["prepare"]["params"]
    assert stages["export"]["params"] == ["pipeline.export_format"]
    settings, recipe, cfg = load_params(project / "params.yaml")
    assert (recipe.name, settings.threads, settings.export_format) == ("mnist1d-mlp", 1, "torchscript")
    assert cfg.train.epochs == 1 and cfg.model.hidden == [32]
    config = (project / ".dvc" / "config").read_text()
    assert "analytics = false" in config and "autostage = true" in config and "remote = local" in config
    staged = sh("git", "diff", "--cached", "--name-only", cwd=project).stdout.split()
    assert {"dvc.yaml", "params.yaml", ".gitignore", ".dvc/config"} <= set(staged)


def test_init_inside_an_existing_repository_uses_a_dvc_subdir(tmp_path, dvc_home, capsys):
    sh("git", "init", "-q", cwd=tmp_path)
    assert _init(tmp_path / "sub" / "p") == 0
    assert "inside the repository at" in capsys.readouterr().out
    assert not (tmp_path / "sub" / "p" / ".git").exists()
    assert (tmp_path / "sub" / "p" / ".dvc").is_dir()


def _refused(capsys, argv: list[str], *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def test_an_existing_dvc_project_is_refused_and_left_as_it_was(tmp_path, dvc_home, capsys):
    for marker in ("dvc.yaml", ".dvc"):
        project = tmp_path / marker.strip(".")
        project.mkdir()
        (project / "dvc.yaml").write_text("stages: {mine: {cmd: echo}}\n") if marker == "dvc.yaml" else \
            (project / ".dvc").mkdir()
        (project / "params.yaml").write_text("mine: 1\n")
        before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
        _refused(capsys, ["pipeline", "init", "mnist1d-mlp", str(project)], "already holds a DVC project")
        assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before
        assert not (project / ".git").exists()


def test_a_params_file_of_the_user_is_not_overwritten(tmp_path, dvc_home, capsys):
    (tmp_path / "params.yaml").write_text("mine: 1\n")
    _refused(capsys, ["pipeline", "init", "mnist1d-mlp", str(tmp_path)], "params.yaml already exists")
    assert (tmp_path / "params.yaml").read_text() == "mine: 1\n"


def test_unknown_and_unsupported_recipes_and_bad_settings_are_refused(tmp_path, dvc_home, capsys):
    target = tmp_path / "p"
    _refused(capsys, ["pipeline", "init", "mnist1d-mpl", str(target)], "unknown recipe 'mnist1d-mpl'", "mnist1d-mlp")
    _refused(capsys, ["pipeline", "init", "isbi-unet", str(target)], "cannot be made into a pipeline", "mnist1d-mlp")
    _refused(capsys, ["pipeline", "init", "mnist1d-mlp", str(target), "--set", "train.epochz=3"], "train.epochz")
    _refused(capsys, ["pipeline", "init", "mnist1d-mlp", str(target), "--set", "train.epochs=zero"], "train.epochs")
    _refused(capsys, ["pipeline", "init", "mnist1d-mlp", str(target), "--set", "pipeline.threads=0"], "threads")
    _refused(capsys, ["pipeline", "init", "mnist1d-mlp", str(target), "--set", "pipeline.export_format=pkl"],
             "export_format")
    _refused(capsys, ["pipeline", "init", "mnist1d-mlp"], "needs a RECIPE and a DIR")
    assert not target.exists()


def _stripped_path(tmp_path: Path, keep: tuple[str, ...]) -> str:
    """A PATH holding only the programs in `keep` (python is started by its full path)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in keep:
        os.symlink(shutil.which(name, path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"),
                   bin_dir / name)
    return str(bin_dir)


def test_missing_dvc_or_git_is_one_line_naming_the_install(tmp_path):
    for keep, needle, fix in ((("git",), "`dvc` is not installed", "pip install 'dlcc[pipeline]'"),
                              (("dvc",), "`git` is not installed", "apt install git")):
        target = tmp_path / "p"
        done = subprocess.run([sys.executable, "-m", "dlcc", "pipeline", "init", "mnist1d-mlp", str(target)],
                              env={**os.environ, "PATH": _stripped_path(tmp_path / keep[0], keep)},
                              capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert needle in done.stderr and fix in done.stderr and "Traceback" not in done.stderr
        assert not target.exists()


def test_a_stage_outside_a_pipeline_folder_says_where_to_run_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _refused(capsys, ["pipeline", "stage", "train"], "params.yaml does not exist", "dvc repro")
    (tmp_path / "params.yaml").write_text("seed: 0\n")
    _refused(capsys, ["pipeline", "stage", "train"], "no 'pipeline:' section")
    (tmp_path / "params.yaml").write_text("pipeline: {recipe: mnist1d-mlp}\ntrain: {epochs: -1}\n")
    _refused(capsys, ["pipeline", "stage", "train"], "train.epochs")


def test_a_failing_dvc_init_leaves_the_folder_as_it_was(tmp_path):
    """A dvc that fails (here a stand-in script) is reported in one line; nothing stays behind."""
    bin_dir = Path(_stripped_path(tmp_path, ("git",)))
    fake = bin_dir / "dvc"
    fake.write_text("#!/bin/sh\necho 'ERROR: the disk is full' >&2\nexit 1\n")
    fake.chmod(0o755)
    target = tmp_path / "existing"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    done = subprocess.run([sys.executable, "-m", "dlcc", "pipeline", "init", "mnist1d-mlp", str(target)],
                          env={**os.environ, "PATH": str(bin_dir)}, capture_output=True, text=True)
    assert done.returncode == 2 and "ERROR: the disk is full" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    done = subprocess.run([sys.executable, "-m", "dlcc", "pipeline", "init", "mnist1d-mlp", str(tmp_path / "new")],
                          env={**os.environ, "PATH": str(bin_dir)}, capture_output=True, text=True)
    assert done.returncode == 2 and not (tmp_path / "new").exists()
