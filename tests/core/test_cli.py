"""The `dlcc` entry point: help, doctor, error handling."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from dlcc.cli import main


def test_help_lists_every_group(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for group in ("doctor", "data", "run", "models", "sweep", "course"):
        assert group in out


def test_doctor_json_reports_versions_devices_and_data(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DLCC_OFFLINE", "1")  # the HTTPS checks are tested in tests/doctor
    monkeypatch.setenv("DLCC_DATA", str(tmp_path))
    code = main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["problems"]
    assert report["packages"]["numpy"] and report["packages"]["torch"]
    assert report["devices"]["cpu_count"] >= 1
    assert report["data"]["sources"] == [{"path": str(tmp_path), "exists": True}]


def test_doctor_names_a_missing_data_dir_and_its_fix(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DLCC_OFFLINE", "1")  # the HTTPS checks are tested in tests/doctor
    missing = tmp_path / "nope"
    monkeypatch.setenv("DLCC_DATA", str(missing))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert str(missing) in out and "fix: export DLCC_DATA=" in out


def test_doctor_flags_an_unwritable_cache(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DLCC_OFFLINE", "1")  # the HTTPS checks are tested in tests/doctor
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o500)
    monkeypatch.setenv("DLCC_CACHE", str(cache))
    try:
        code = main(["doctor", "--json"])
        report = json.loads(capsys.readouterr().out)
    finally:
        cache.chmod(0o700)
    import os
    if os.geteuid() == 0:  # root can write anywhere; the check cannot fire
        assert code in (0, 1)
    else:
        assert code == 1
        assert any("not writable" in p["problem"] for p in report["problems"])


def test_user_errors_exit_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "dlcc", "run", "no-such-recipe"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "unknown recipe 'no-such-recipe'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_debug_flag_shows_the_traceback():
    proc = subprocess.run([sys.executable, "-m", "dlcc", "--debug", "run", "no-such-recipe"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr


def test_resume_without_out_is_refused(capsys):
    assert main(["run", "digits-mlp-numpy", "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err


def test_set_takes_several_overrides_at_once_and_repeats(capsys):
    code = main(["run", "digits-mlp-numpy", "--show", "--set", "train.epochs=3", "train.batch_size=16",
                 "--set", "seed=5"])
    assert code == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert (shown["train"]["epochs"], shown["train"]["batch_size"], shown["seed"]) == (3, 16, 5)


def test_recipe_name_after_set_is_still_the_recipe(capsys):
    assert main(["run", "--set", "train.epochs=3", "train.batch_size=16", "digits-mlp-numpy", "--show"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert (shown["train"]["epochs"], shown["train"]["batch_size"]) == (3, 16)


def test_set_with_an_unknown_key_names_it(capsys):
    code = main(["run", "digits-mlp-numpy", "--show", "--set", "train.epochs=3", "train.epochz=4"])
    err = capsys.readouterr().err
    assert code == 2 and "epochz" in err and "Traceback" not in err
