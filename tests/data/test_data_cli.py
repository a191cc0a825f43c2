"""`dlcc data list | verify | path | fetch` on the shared data."""

from __future__ import annotations

import json

import pytest

from dlcc.data.registry import names

pytestmark = pytest.mark.data


def test_list_text_and_json(shared_data, cli):
    code, out, _ = cli("data", "list")
    assert code == 0
    for name in names():
        assert name in out
    code, out, _ = cli("data", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["mnist"]["status"] == "found (idx) in DLCC_DATA"
    assert rows["cifar10"]["variants"]["jpeg"]["found"] == 2
    assert rows["digits"]["kind"] == "embedded" and rows["shapes"]["kind"] == "synthetic"
    assert rows["isbi2012-em"]["license"] and rows["mitbih"]["loader"] == "dlcc.data.ecg:load_mitbih"


def test_verify_all_shared_data_passes(shared_data, cli):
    code, out, err = cli("data", "verify")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(names()) and all(line.startswith("OK") for line in lines)
    assert "3784 files (png)" in out


def test_verify_json_selected(shared_data, cli):
    code, out, _ = cli("data", "verify", "mnist", "ecg_scipy", "--json")
    reports = json.loads(out)
    assert code == 0 and [r["name"] for r in reports] == ["mnist", "ecg-scipy"]
    assert reports[0]["status"] == "ok" and reports[0]["files"] == 4
    assert reports[0]["path"] == str(shared_data / "mnist")


def test_path(shared_data, cli):
    code, out, _ = cli("data", "path", "isbi2012-em")
    assert code == 0 and out.strip() == str(shared_data / "isbi2012_em")
    code, out, _ = cli("data", "path", "mitbih", "--json")
    info = json.loads(out)
    assert info["files"]["100.dat"] == str(shared_data / "mitbih" / "100.dat")


def test_data_dir_flag_after_the_action(shared_data, tmp_path, cli):
    (tmp_path / "tinyshakespeare").mkdir()
    (tmp_path / "tinyshakespeare" / "input.txt").write_bytes(
        (shared_data / "tinyshakespeare" / "input.txt").read_bytes())
    code, out, _ = cli("data", "path", "tinyshakespeare", "--data-dir", tmp_path)
    assert code == 0 and out.strip() == str(tmp_path / "tinyshakespeare")


def test_fetch_present_and_embedded(shared_data, cli):
    code, out, _ = cli("data", "fetch", "ecg-scipy", "digits")
    assert code == 0
    assert f"ecg-scipy: already available, verified, in {shared_data / 'ecg_scipy'}" in out
    assert "digits: embedded, nothing to fetch" in out


def test_data_without_action_shows_help(cli):
    code, out, _ = cli("data")
    assert code == 2 and "verify" in out


def test_data_dir_may_name_the_dataset_folder_itself(shared_data, tmp_path, cli):
    folder = tmp_path / "tinyshakespeare"
    folder.mkdir()
    (folder / "input.txt").write_bytes((shared_data / "tinyshakespeare" / "input.txt").read_bytes())
    code, out, _ = cli("--data-dir", folder, "data", "verify", "tinyshakespeare", "--json")
    assert code == 0 and json.loads(out)[0]["path"] == str(folder)
