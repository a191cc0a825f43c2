"""The download path against a real HTTP server on 127.0.0.1 (no mocks).

The server serves copies of shared-data files in the shared layout; DLCC_MIRROR points dlcc at
it. Each failure mode must exit 2 with a clear message and leave nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket

import pytest

import dlcc.data as D
from dlcc.data.download import download
from dlcc.data.registry import get_dataset
from dlcc.errors import DataError

pytestmark = pytest.mark.data
TEXT_SHA = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


@pytest.fixture
def mirror_env(http_mirror, monkeypatch, tmp_path, _isolated_cache):
    """No local copies anywhere; downloads go to the local server."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("DLCC_DATA", str(empty))
    monkeypatch.setenv("DLCC_MIRROR", http_mirror.url)
    monkeypatch.delenv("DLCC_OFFLINE", raising=False)
    return http_mirror, _isolated_cache


def _leftovers(cache):
    return sorted(p.name for p in cache.rglob("*") if p.is_file())


def test_fetch_downloads_verifies_and_renames(mirror_env, cli):
    server, cache = mirror_env
    code, out, err = cli("data", "fetch", "tinyshakespeare")
    assert code == 0, err
    target = cache / "tinyshakespeare" / "input.txt"
    assert f"downloaded 1 files into {target.parent}" in out
    assert hashlib.sha256(target.read_bytes()).hexdigest() == TEXT_SHA
    assert _leftovers(cache) == ["input.txt"]  # no .part left behind
    assert server.requests == ["/tinyshakespeare/input.txt"]
    code, out, _ = cli("data", "fetch", "tinyshakespeare")
    assert code == 0 and "already available" in out and len(server.requests) == 1
    assert len(D.load_text()) == 1_115_394


def test_loader_downloads_on_demand(mirror_env):
    server, cache = mirror_env
    signal, fs = D.load_ecg_scipy()
    assert signal.shape == (108000,) and fs == 360
    assert (cache / "ecg_scipy" / "ecg.dat").is_file() and server.requests == ["/ecg_scipy/ecg.dat"]


def test_only_missing_files_are_downloaded(mirror_env, shared_data, tmp_path, cli):
    server, cache = mirror_env
    mine = tmp_path / "mine" / "mnist"
    mine.mkdir(parents=True)
    for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz"]:
        shutil.copyfile(shared_data / "mnist" / name, mine / name)
    code, out, err = cli("--data-dir", mine.parent, "data", "fetch", "mnist", "--json")
    assert code == 0, err
    (report,) = json.loads(out)
    # the shared copies are re-gzipped; the registry accepts them as known alternates
    assert report["downloaded"] == ["train-labels-idx1-ubyte.gz"]
    assert server.requests == ["/mnist/train-labels-idx1-ubyte.gz"]
    assert D.load_mnist(data_dir=mine.parent)["train"][1].shape == (60000,)


def test_interrupted_transfer(mirror_env, cli):
    server, cache = mirror_env
    server.modes["/tinyshakespeare/input.txt"] = "cut"
    code, out, err = cli("data", "fetch", "tinyshakespeare")
    assert code == 2 and "Traceback" not in err
    assert "transfer interrupted after 557,697 of 1,115,394 bytes" in err
    assert "fix: run `dlcc data fetch tinyshakespeare` again" in err
    assert _leftovers(cache) == []


def test_interrupted_transfer_without_content_length(mirror_env):
    server, cache = mirror_env
    server.modes["/tinyshakespeare/input.txt"] = "cut-nolength"
    with pytest.raises(DataError, match="transfer ended after 557,697 bytes, expected 1,115,394"):
        D.load_text()
    assert _leftovers(cache) == []


def test_wrong_checksum(mirror_env, cli):
    server, cache = mirror_env
    server.modes["/tinyshakespeare/input.txt"] = "corrupt"
    data = bytearray((server.root / "tinyshakespeare" / "input.txt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    actual = hashlib.sha256(bytes(data)).hexdigest()
    code, _, err = cli("data", "fetch", "tinyshakespeare")
    assert code == 2 and "Traceback" not in err
    assert f"sha256 of the download is {actual}, expected {TEXT_SHA}" in err
    assert "fix: the server sent different bytes" in err
    assert _leftovers(cache) == []


def test_not_found_404(mirror_env, cli):
    server, cache = mirror_env
    server.modes["/ecg_scipy/ecg.dat"] = "404"
    code, _, err = cli("data", "fetch", "ecg-scipy")
    assert code == 2 and "Traceback" not in err
    assert f"{server.url}/ecg_scipy/ecg.dat: HTTP 404" in err
    assert "not found locally" in err
    assert f"put it at {cache / 'ecg_scipy' / 'ecg.dat'}" in err
    assert _leftovers(cache) == []


def test_connection_refused(mirror_env, monkeypatch, cli):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DLCC_MIRROR", f"http://127.0.0.1:{port}")
    code, _, err = cli("data", "fetch", "ecg-scipy")
    assert code == 2 and "cannot connect" in err and "Traceback" not in err


def test_offline_never_touches_the_network(mirror_env, monkeypatch, cli):
    server, _ = mirror_env
    monkeypatch.setenv("DLCC_OFFLINE", "1")
    code, _, err = cli("data", "fetch", "tinyshakespeare")
    assert code == 2 and "dataset 'tinyshakespeare' not found" in err
    assert "unset DLCC_OFFLINE" in err and server.requests == []


def test_file_url_mirror(mirror_env, monkeypatch):
    server, cache = mirror_env
    monkeypatch.setenv("DLCC_MIRROR", server.root.as_uri())
    assert len(D.load_text()) == 1_115_394 and server.requests == []


def test_falls_back_to_the_next_url(http_mirror, tmp_path):
    spec = get_dataset("tinyshakespeare").variants[0].files[0]
    dest = tmp_path / "cache" / "input.txt"
    urls = [f"{http_mirror.url}/nowhere/input.txt", f"{http_mirror.url}/tinyshakespeare/input.txt"]
    assert download(urls, dest, spec, "tinyshakespeare") == TEXT_SHA
    assert dest.stat().st_size == 1_115_394


def test_unwritable_cache_on_download(mirror_env, monkeypatch, tmp_path, cli):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DLCC_CACHE", str(blocker / "cache"))
    code, _, err = cli("data", "fetch", "tinyshakespeare")
    assert code == 2 and "Traceback" not in err
    assert f"cannot write to the dlcc cache {blocker / 'cache' / 'tinyshakespeare'}" in err
    assert "fix: make that folder writable, or choose another cache: export DLCC_CACHE=" in err
    assert blocker.read_text() == "not a folder"
