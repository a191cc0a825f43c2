"""Every bad input gives a short DataError naming the file, expected vs found and the fix;
exit 2 from the CLI, no traceback, and the user's files are left exactly as they were."""

from __future__ import annotations

import gzip
import hashlib
import zipfile

import pytest

import dlcc.data as D
from dlcc.data.cifar import read_cifar_jpeg_zip
from dlcc.data.images import decode_image
from dlcc.errors import DataError

pytestmark = pytest.mark.data


def _copy(shared, tmp, rel, keep=None):
    """Copy shared/<rel> to tmp/<rel>, keeping only the first `keep` bytes if given."""
    data = (shared / rel).read_bytes()
    target = tmp / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data if keep is None else data[:keep])
    return target


def _assert_clean_error(code, out, err):
    assert code == 2
    assert "Traceback" not in err and "Traceback" not in out
    assert err.startswith("dlcc: error: ") and "\n  fix: " in err


def test_missing_dataset(tmp_path, monkeypatch, cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("DLCC_DATA", str(empty))
    monkeypatch.setenv("DLCC_OFFLINE", "1")
    code, out, err = cli("--data-dir", empty, "data", "path", "mnist")
    _assert_clean_error(code, out, err)
    assert "dataset 'mnist' not found: missing mnist/train-images-idx3-ubyte.gz" in err
    assert "and 1 more" in err and f"looked in: {empty} (--data-dir); {empty} (DLCC_DATA);" in err
    assert "fix: unset DLCC_OFFLINE and run `dlcc data fetch mnist`" in err
    code, out, err = cli("data", "verify", "mnist")
    _assert_clean_error(code, out, err)
    assert out.startswith("MISSING  mnist") and "4 of 4 files of mnist/ not found" in err
    with pytest.raises(DataError, match="dataset 'isbi2012-em' not found"):
        D.load_isbi2012()


def test_missing_data_dir(tmp_path, cli):
    code, out, err = cli("--data-dir", tmp_path / "nope", "data", "list")
    _assert_clean_error(code, out, err)
    assert f"--data-dir {tmp_path / 'nope'} is not a directory" in err


def test_wrong_checksum(shared_data, tmp_path, cli, tree_digest):
    bad = _copy(shared_data, tmp_path, "mnist/t10k-labels-idx1-ubyte.gz")
    data = bytearray(bad.read_bytes())
    data[100] ^= 0xFF
    bad.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    before = tree_digest(tmp_path)
    code, out, err = cli("--data-dir", tmp_path, "data", "verify", "mnist")
    _assert_clean_error(code, out, err)
    assert f"checksum mismatch for {bad} (dataset mnist)" in err
    assert "expected sha256 f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6 (4,542 bytes)" in err
    assert f"found    sha256 {actual} (4,542 bytes: right size, different content" in err
    assert "fix: replace the file with a good copy: move it away, then run `dlcc data fetch mnist`" in err
    code, out, err = cli("--data-dir", tmp_path, "data", "fetch", "mnist")
    _assert_clean_error(code, out, err)
    assert f"checksum mismatch for {bad}" in err
    with pytest.raises(DataError, match="checksum mismatch"):
        D.load_mnist(data_dir=tmp_path)
    assert tree_digest(tmp_path) == before  # never repaired, deleted or overwritten


def test_truncated_idx_gz(shared_data, tmp_path, cli, tree_digest):
    bad = _copy(shared_data, tmp_path, "mnist/train-labels-idx1-ubyte.gz", keep=10_000)
    before = tree_digest(tmp_path)
    code, out, err = cli("--data-dir", tmp_path, "data", "verify", "mnist")
    _assert_clean_error(code, out, err)
    assert f"checksum mismatch for {bad}" in err
    assert "the file is truncated: 10,000 bytes, a good copy has 28,881" in err
    # the decoder itself also reports truncation clearly (e.g. for a file given directly)
    with pytest.raises(DataError, match="the gzip stream is truncated or damaged") as exc:
        D.read_idx(bad)
    assert str(bad) in exc.value.message
    assert tree_digest(tmp_path) == before


def test_idx_with_short_body_or_bad_magic(tmp_path):
    short = tmp_path / "short-idx1-ubyte.gz"
    short.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + (100).to_bytes(4, "big") + bytes(60)))
    with pytest.raises(DataError, match=r"holds 60 data bytes but its header \(100,\) needs 100"):
        D.read_idx(short)
    junk = tmp_path / "junk.gz"
    junk.write_bytes(gzip.compress(b"hello world"))
    with pytest.raises(DataError, match="is not an idx file: first bytes 68656c6c"):
        D.read_idx(junk)


def test_truncated_png(shared_data, tmp_path, cli, tree_digest):
    rel = "isbi2012_em/train/label/3.png"
    size = (shared_data / rel).stat().st_size
    bad = _copy(shared_data, tmp_path, rel, keep=size // 2)
    before = tree_digest(tmp_path)
    code, out, err = cli("--data-dir", tmp_path, "data", "verify", "isbi2012-em")
    _assert_clean_error(code, out, err)
    assert f"checksum mismatch for {bad} (dataset isbi2012-em)" in err
    assert f"the file is truncated: {size // 2:,} bytes, a good copy has {size:,}" in err
    with pytest.raises(DataError, match="checksum mismatch"):
        D.load_isbi2012(data_dir=tmp_path)
    with pytest.raises(DataError, match=r"cannot decode .*3\.png: truncated"):
        decode_image(bad.read_bytes(), str(bad))
    assert tree_digest(tmp_path) == before


def _zip_with(path, entries):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def test_truncated_jpeg_inside_zip(shared_data, tmp_path, cli, tree_digest):
    with zipfile.ZipFile(shared_data / "cifar10" / "cifar10_test_jpg.zip") as z:
        good = {n: z.read(n) for n in sorted(z.namelist())[:3]}
    first = next(iter(good))
    broken = dict(good, **{first: good[first][: len(good[first]) // 2]})
    bad_zip = tmp_path / "cifar10" / "cifar10_test_jpg.zip"
    _zip_with(bad_zip, broken)
    before = tree_digest(tmp_path)
    with pytest.raises(DataError) as exc:
        read_cifar_jpeg_zip(bad_zip, "test")
    assert f"cannot decode {bad_zip}:{first}: truncated" in exc.value.message
    code, out, err = cli("--data-dir", tmp_path, "data", "verify", "cifar10")
    _assert_clean_error(code, out, err)
    assert f"checksum mismatch for {bad_zip} (dataset cifar10)" in err and "truncated" in err
    assert tree_digest(tmp_path) == before


def test_truncated_zip(shared_data, tmp_path, cli, tree_digest):
    rel = "cifar10/cifar10_test_jpg.zip"
    bad = _copy(shared_data, tmp_path, rel, keep=1_000_000)
    before = tree_digest(tmp_path)
    with pytest.raises(DataError, match=f"cannot read zip {bad}: truncated or damaged"):
        read_cifar_jpeg_zip(bad, "test")
    code, out, err = cli("--data-dir", tmp_path, "data", "verify", "cifar10")
    _assert_clean_error(code, out, err)
    assert "the file is truncated: 1,000,000 bytes, a good copy has 10,349,684" in err
    code, out, err = cli("--data-dir", tmp_path, "data", "fetch", "cifar10")
    _assert_clean_error(code, out, err)
    assert tree_digest(tmp_path) == before


def test_unknown_dataset_name(cli):
    code, out, err = cli("data", "verify", "mnsit")
    _assert_clean_error(code, out, err)
    assert "unknown dataset 'mnsit'; did you mean mnist or mnist1d?" in err
    code, out, err = cli("data", "path", "cifar")
    _assert_clean_error(code, out, err)
    assert "did you mean cifar10?" in err
    with pytest.raises(DataError):  # --debug re-raises for a traceback
        cli("--debug", "data", "fetch", "mnsit")


def test_unwritable_cache_for_decoded_arrays(shared_data, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("DLCC_CACHE", str(blocker / "cache"))
    with pytest.raises(DataError) as exc:
        D.load_isbi2012()
    assert f"cannot write to the dlcc cache {blocker / 'cache' / 'decoded'}" in exc.value.message
    assert "export DLCC_CACHE=" in exc.value.fix


def test_partial_dataset_is_reported(shared_data, tmp_path, monkeypatch, cli):
    monkeypatch.setenv("DLCC_DATA", str(tmp_path))
    monkeypatch.setenv("DLCC_OFFLINE", "1")
    _copy(shared_data, tmp_path, "mitbih/100.hea")
    code, out, err = cli("data", "verify", "mitbih")
    _assert_clean_error(code, out, err)
    assert out.startswith("PARTIAL") and "47 of 48 files of mitbih/ not found" in err
    with pytest.raises(DataError, match=r"dataset 'mitbih' is incomplete: missing mitbih/100\.dat, mitbih/100\.atr"):
        D.load_mitbih(["100"])


def test_dlcc_data_pointing_nowhere_is_named(tmp_path, monkeypatch, cli):
    monkeypatch.setenv("DLCC_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("DLCC_OFFLINE", "1")
    code, out, err = cli("data", "verify", "mnist")
    _assert_clean_error(code, out, err)
    assert f"{tmp_path / 'nowhere'} (DLCC_DATA, does not exist)" in err


def test_a_data_file_replaced_by_a_directory_is_named(shared_data, tmp_path, monkeypatch, cli):
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        _copy(shared_data, tmp_path, f"mnist/{name}")
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").mkdir()
    monkeypatch.setenv("DLCC_DATA", str(tmp_path))
    monkeypatch.setenv("DLCC_OFFLINE", "1")
    for args in (("data", "verify", "mnist"), ("data", "path", "mnist")):
        code, out, err = cli(*args)
        _assert_clean_error(code, out, err)
        assert f"{tmp_path / 'mnist' / 't10k-images-idx3-ubyte.gz'} is a directory, not the file" in err
    assert (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").is_dir()
