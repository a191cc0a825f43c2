"""Loaders on the real shared data (small slices where decoding is slow)."""

from __future__ import annotations

import io
import pickle
import random
import socket
import tarfile
import time
from collections import Counter

import numpy as np
import pytest

import dlcc.data as D
from dlcc.data.cifar import read_cifar_jpeg_zip, read_cifar_python
from dlcc.errors import DataError

pytestmark = pytest.mark.data


@pytest.fixture
def shared_cache(decoded_cache, monkeypatch):
    """Decode each real dataset once per test session."""
    monkeypatch.setenv("DLCC_CACHE", str(decoded_cache))
    return decoded_cache


def test_mnist(shared_data, shared_cache):
    data = D.load_mnist()
    x, y = data["train"]
    tx, ty = data["test"]
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.int64
    assert tx.shape == (10000, 28, 28) and ty.dtype == np.int64
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert ty[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(x.mean() - 33.318) < 0.01  # the well-known MNIST pixel mean (0.1307 * 255)
    assert list((shared_cache / "decoded").glob("mnist-*.npz"))


def test_read_idx_header_and_shape(shared_data):
    labels = D.read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and labels.dtype == np.uint8 and labels.max() == 9


def test_isbi2012(shared_data, shared_cache):
    data = D.load_isbi2012()
    for key in ("train_images", "train_labels", "test_images"):
        assert data[key].shape == (30, 512, 512) and data[key].dtype == np.uint8
    assert set(np.unique(data["train_labels"])) == {0, 1}
    # SOURCE.md: membranes (label 0) are 22.0 % of labelled pixels
    assert abs((data["train_labels"] == 0).mean() - 0.220) < 0.001


def test_nuclei_one_image_with_overlapping_masks(shared_data):
    from dlcc.data.nuclei import _decode_one

    image_id = "1609b1b8480ee52652a644403b3f7d5511410a016750aa3b9a4c8ddb3e893e8e"
    folder = shared_data / "dsb2018_nuclei" / image_id
    rels = [p.relative_to(folder.parent).as_posix() for p in sorted(folder.rglob("*.png"))]
    paths = {r: folder.parent / r for r in rels}
    image, instances = _decode_one(paths, image_id, rels)
    n_masks = len(list((folder / "masks").glob("*.png")))
    assert image.dtype == np.uint8 and image.shape == (*instances.shape, 3)
    assert instances.dtype == np.int32 and instances.max() == n_masks
    assert len(np.unique(instances)) == n_masks + 1  # every nucleus keeps some pixels


@pytest.mark.slow
def test_nuclei_all(shared_data, shared_cache):
    items = D.load_nuclei()
    assert len(items) == 83
    assert sum(int(i["instances"].max()) for i in items) == 3701
    first = items[0]
    assert first["id"].startswith("00071198d059")
    assert first["image"].shape == (256, 256, 3) and first["mask"].dtype == np.uint8
    assert np.array_equal(first["mask"], (first["instances"] > 0).astype(np.uint8))


def test_mitbih_one_record(shared_data, shared_cache):
    (rec,) = D.load_mitbih(["100"])
    assert rec.signal.shape == (650000, 2) and rec.signal.dtype == np.float32
    assert rec.fs == 360 and rec.leads == ("MLII", "V5")
    assert rec.r_peaks.dtype == np.int64 and len(rec.r_peaks) == 2273
    assert Counter(rec.symbols) == {"N": 2239, "A": 33, "V": 1}
    assert np.all(np.diff(rec.r_peaks) > 0)


def test_mitbih_lead_selection_and_errors(shared_data, shared_cache):
    (rec,) = D.load_mitbih([114], leads=["MLII"])
    full = D.load_mitbih([114])[0]
    assert full.leads == ("V5", "MLII") and rec.leads == ("MLII",)
    assert np.array_equal(rec.signal[:, 0], full.signal[:, 1])
    with pytest.raises(DataError, match=r"record 100 has no lead 'V1' \(it has MLII, V5\)"):
        D.load_mitbih(["100"], leads=["V1"])
    with pytest.raises(DataError, match="unknown MIT-BIH record '102'"):
        D.load_mitbih(["102"])


@pytest.mark.slow
def test_mitbih_all_beats(shared_data, shared_cache):
    records = D.load_mitbih()
    assert [r.name for r in records] == D.mitbih_records() and len(records) == 16
    assert sum(len(r.r_peaks) for r in records) == 37622  # SOURCE.md: 37,622 beats


def test_ecg_scipy_matches_mitbih_208(shared_data, shared_cache):
    signal, fs = D.load_ecg_scipy()
    assert signal.shape == (108000,) and signal.dtype == np.float32 and fs == 360
    assert abs(float(signal.mean()) - (-0.16510875)) < 1e-6
    (rec,) = D.load_mitbih(["208"], leads=["MLII"])
    assert np.allclose(signal, rec.signal[422820:530820, 0], atol=1e-6)


def test_text(shared_data):
    text = D.load_text()
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:\nBefore we proceed")
    with pytest.raises(DataError, match="not a text corpus"):
        D.load_text("mnist")


def test_digits_split_is_fixed_and_scaled():
    data = D.load_digits()
    x, y = data["train"]
    tx, ty = data["test"]
    assert x.shape == (1437, 8, 8) and tx.shape == (360, 8, 8) and x.dtype == np.float32
    assert y.dtype == np.int64 and 0.0 <= x.min() and x.max() == 1.0
    assert np.bincount(ty).min() >= 35  # stratified: every class in the test split
    again = D.load_digits()
    assert np.array_equal(again["test"][0], tx)


def test_mnist1d_offline_and_leaves_global_rng_alone(shared_cache, monkeypatch, tmp_path):
    def no_network(*args, **kwargs):
        raise AssertionError("load_mnist1d tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.chdir(tmp_path)
    random.seed(123)
    np.random.seed(123)
    expected_py, expected_np = random.random(), np.random.random()
    random.seed(123)
    np.random.seed(123)
    data = D.load_mnist1d()
    assert random.random() == expected_py and np.random.random() == expected_np
    x, y = data["train"]
    assert x.shape == (4000, 40) and x.dtype == np.float32 and y.dtype == np.int64
    assert data["test"][0].shape == (1000, 40) and set(np.unique(y)) == set(range(10))
    assert not list(tmp_path.iterdir())  # nothing written to the working directory
    assert np.array_equal(D.load_mnist1d()["test"][0], data["test"][0])


def test_cifar_jpeg_zip_slice(shared_data):
    x, y = read_cifar_jpeg_zip(shared_data / "cifar10" / "cifar10_test_jpg.zip", "test", limit=64)
    assert x.shape == (64, 32, 32, 3) and x.dtype == np.uint8
    assert y.dtype == np.int64 and set(y.tolist()) == {0}  # sorted: airplanes first
    assert D.CIFAR10_CLASSES[0] == "airplane" and len(D.CIFAR10_CLASSES) == 10


@pytest.mark.slow
def test_cifar_full_decode_then_cached(shared_data, shared_cache):
    start = time.perf_counter()
    data = D.load_cifar10()
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = D.load_cifar10()
    second = time.perf_counter() - start
    print(f"CIFAR-10 load: first {first:.1f} s, second (cached) {second:.2f} s")
    x, y = data["train"]
    assert x.shape == (50000, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    assert data["test"][0].shape == (10000, 32, 32, 3)
    assert np.bincount(y).tolist() == [5000] * 10 and np.bincount(data["test"][1]).tolist() == [1000] * 10
    assert np.array_equal(again["train"][0], x)


def _fake_cifar_tarball(path, n=2, payload=None):
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = payload or {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                                b"labels": list(range(n)), b"batch_label": name.encode()}
            blob = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def test_cifar_python_batches_layout(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    _fake_cifar_tarball(path)
    with tarfile.open(path) as tar:
        raw = pickle.load(tar.extractfile("cifar-10-batches-py/data_batch_1"), encoding="bytes")[b"data"]
    data = read_cifar_python(path)
    assert data["train_x"].shape == (10, 32, 32, 3) and data["test_x"].shape == (2, 32, 32, 3)
    assert data["train_y"].dtype == np.int64
    # row layout: 1024 red, 1024 green, 1024 blue values, each row-major 32x32
    n, h, w, c = 1, 5, 7, 2
    assert data["train_x"][n, h, w, c] == raw[n, c * 1024 + h * 32 + w]


def test_cifar_python_refuses_unexpected_pickles(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "cifar-10-python.tar.gz"
    _fake_cifar_tarball(path, payload={b"data": Evil(), b"labels": []})
    with pytest.raises(DataError, match=r"unexpected object \w+\.print in a CIFAR batch"):
        read_cifar_python(path)


def test_decoded_cache_is_built_once_when_processes_ask_together(tmp_path, monkeypatch):
    """Two processes asking for the same entry at once: one decodes, the other reads it."""
    import multiprocessing as mp

    monkeypatch.setenv("DLCC_CACHE", str(tmp_path / "cache"))
    log = tmp_path / "builds.txt"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_build_entry, args=(str(log),)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert log.read_text().count("built") == 1


def _build_entry(log: str) -> None:
    import time

    import numpy as np

    from dlcc.data.cache import cached_arrays

    def build():
        with open(log, "a") as fh:
            fh.write("built\n")
        time.sleep(1.0)
        return {"x": np.arange(3)}

    assert list(cached_arrays("test-lock", {"a": "1"}, build)["x"]) == [0, 1, 2]
